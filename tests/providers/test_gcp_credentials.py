"""Credentials before saving an account: a key, ADC or impersonation, and what failed if not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dbsnooze.config import Settings
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.demo.gcpfake.keys import new_key
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, ProviderError
from dbsnooze.providers.gcp.client import PROBE_MAX_ATTEMPTS
from dbsnooze.providers.gcp.inventory import check_credentials
from dbsnooze.providers.gcp.session import GcpSessions
from gcphelp import EMAIL, OTHER_PROJECT, PROJECT, account, client, fake, gcp_env, key

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

NOW = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
TARGET = f"dbsnooze-reader@{PROJECT}.iam.gserviceaccount.com"


def _check(gcp_account: CloudAccount) -> None:
    check_credentials(client(gcp_account), gcp_account, NOW)


def _failure(gcp_account: CloudAccount) -> ProviderError:
    with pytest.raises(ProviderError) as failure:
        _check(gcp_account)
    return failure.value


def _assert_no_secret(error: ProviderError, key: ServiceAccountKey) -> None:
    for secret in (key.info["private_key"], key.key_id, "PRIVATE KEY", "ya29."):
        assert secret not in error.message
    body = key.info["private_key"].splitlines()[1]
    assert body not in error.message


def test_a_working_key_lists_instances_and_reads_monitoring_once_per_project(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    fake.identities.grant(EMAIL, OTHER_PROJECT)

    _check(account(fake.url, key, projects=(PROJECT, OTHER_PROJECT)))

    served = [
        (r.path, r.query.get("maxResults") or r.query.get("view")) for r in fake.faults.served()
    ]
    assert served == [
        ("/token", None),
        (f"/v1/projects/{PROJECT}/instances", ["1"]),
        (f"/v3/projects/{PROJECT}/timeSeries", ["HEADERS"]),
        (f"/v1/projects/{OTHER_PROJECT}/instances", ["1"]),
        (f"/v3/projects/{OTHER_PROJECT}/timeSeries", ["HEADERS"]),
    ]


def test_a_key_signed_by_another_private_key_is_an_invalid_key(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    impostor = fake.service_account("someone-else@x.iam.gserviceaccount.com", [])
    forged = ServiceAccountKey(
        key.email,
        key.key_id,
        key.public_key,
        {**key.info, "private_key": impostor.info["private_key"]},
    )

    error = _failure(account(fake.url, forged))

    assert error.code == "credentials_invalid"
    assert "Invalid JWT Signature" in error.message
    _assert_no_secret(error, forged)


def test_a_key_of_an_unknown_service_account_is_refused(fake: GcpFake) -> None:
    unknown = new_key(  # a key the fake was never given
        "ghost@nowhere.iam.gserviceaccount.com", PROJECT, fake.token_uri
    )

    error = _failure(account(fake.url, unknown))

    assert error.code == "credentials_invalid"
    assert "account not found" in error.message


@pytest.mark.parametrize(
    ("granted", "missing"),
    [
        ({"cloudsql.instances.list"}, "monitoring.timeSeries.list"),
        ({"monitoring.timeSeries.list"}, "cloudsql.instances.list"),
    ],
)
def test_a_missing_permission_is_named(
    fake: GcpFake, key: ServiceAccountKey, granted: set[str], missing: str
) -> None:
    fake.identities.grant(EMAIL, PROJECT, granted)

    error = _failure(account(fake.url, key))

    assert error.code == "access_denied"
    assert missing in error.message and f"project {PROJECT}" in error.message


def test_a_project_the_account_may_not_see_is_named(fake: GcpFake, key: ServiceAccountKey) -> None:
    error = _failure(account(fake.url, key, projects=(PROJECT, OTHER_PROJECT)))

    assert error.code == "access_denied"
    assert OTHER_PROJECT in error.message


def test_an_unreachable_endpoint_fails_fast_and_says_so(
    fake: GcpFake, key: ServiceAccountKey, closed_endpoint: str, tmp_path: Path
) -> None:
    settings = Settings(secret_key_file=tmp_path / "k", cloud_max_attempts=8)
    gcp_account = account(closed_endpoint, key)
    probe = GcpSessions.for_probe(settings)

    with pytest.raises(ProviderError) as failure:
        check_credentials(probe.client(gcp_account), gcp_account, NOW)

    assert failure.value.code == "endpoint_unreachable"
    assert "cloudsql.instances.list" in failure.value.message
    assert probe.policy.max_attempts == PROBE_MAX_ATTEMPTS


def test_an_unreachable_token_endpoint_says_so(
    fake: GcpFake, key: ServiceAccountKey, closed_endpoint: str
) -> None:
    moved = ServiceAccountKey(
        key.email, key.key_id, key.public_key, {**key.info, "token_uri": closed_endpoint + "/token"}
    )

    error = _failure(account(fake.url, moved))

    assert error.code == "endpoint_unreachable"
    assert fake.faults.requests() == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not JSON"),
        ('{"type": "authorized_user"}', "not a service-account key"),
        (
            '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nAAAA"}',
            "does not load",
        ),
    ],
)
def test_a_malformed_key_is_refused_without_echoing_it(
    fake: GcpFake, text: str, words: str
) -> None:
    gcp_account = CloudAccount(
        1,
        account(fake.url).provider,
        "gcp",
        (),
        Credentials(AuthMethod.GCP_SERVICE_ACCOUNT, service_account_json=text),
        fake.url,
        (PROJECT,),
    )

    error = _failure(gcp_account)

    assert error.code == "credentials_invalid"
    assert words in error.message
    assert "BEGIN PRIVATE KEY" not in error.message and "AAAA" not in error.message


def test_application_default_credentials_come_from_the_environment(
    fake: GcpFake, key: ServiceAccountKey, gcp_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = gcp_env / "adc.json"
    key_file.write_text(json.dumps(key.info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))

    _check(account(fake.url, method=AuthMethod.GCP_ADC))

    assert len(fake.faults.served("/token")) == 1


def test_missing_application_default_credentials_say_so(fake: GcpFake) -> None:
    error = _failure(account(fake.url, method=AuthMethod.GCP_ADC))

    assert error.code == "credentials_invalid"
    assert "application default credentials" in error.message


def _reader(fake: GcpFake) -> None:
    """The impersonated account: no key of its own, every permission on PROJECT."""
    fake.identities.add_account(TARGET)
    fake.identities.grant(TARGET, PROJECT)


def test_impersonation_calls_the_apis_as_the_target_service_account(fake: GcpFake) -> None:
    source = fake.service_account(f"deployer@{PROJECT}.iam.gserviceaccount.com", [])  # no grants
    _reader(fake)
    fake.identities.allow_impersonation(source.email, TARGET)

    _check(account(fake.url, source, method=AuthMethod.GCP_IMPERSONATE, target=TARGET))

    generate = fake.faults.served(":generateAccessToken", "POST")
    assert [r.path for r in generate] == [
        f"/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
    ]


def test_impersonation_the_source_may_not_do_is_named(fake: GcpFake) -> None:
    source = fake.service_account(f"deployer@{PROJECT}.iam.gserviceaccount.com", [PROJECT])
    _reader(fake)

    error = _failure(account(fake.url, source, method=AuthMethod.GCP_IMPERSONATE, target=TARGET))

    assert error.code == "impersonation_failed"
    assert "iam.serviceAccounts.getAccessToken" in error.message
    _assert_no_secret(error, source)


def test_an_account_without_projects_or_with_an_aws_method_is_refused(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    assert _failure(account(fake.url, key, projects=())).code == "project_invalid"
    aws = CloudAccount(
        1,
        account(fake.url).provider,
        "x",
        (),
        Credentials(AuthMethod.STATIC_KEYS),
        fake.url,
        (PROJECT,),
    )
    assert _failure(aws).code == "credentials_invalid"


def test_an_edited_account_gets_a_fresh_session(fake: GcpFake, key: ServiceAccountKey) -> None:
    sessions = GcpSessions.for_probe(Settings())
    before = account(fake.url, key)
    other = fake.service_account(f"other@{PROJECT}.iam.gserviceaccount.com", [])
    after = account(fake.url, other)

    check_credentials(sessions.client(before), before, NOW)
    with pytest.raises(ProviderError) as failure:
        check_credentials(sessions.client(after), after, NOW)

    assert failure.value.code == "access_denied"  # the new key's identity, not the cached one
