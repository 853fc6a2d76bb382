from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ProfileNotFound

from dbsnooze.config import Settings
from dbsnooze.domain import AuthMethod, CloudAccount, Credentials, ProviderError
from dbsnooze.providers.aws.inventory import check_credentials
from dbsnooze.providers.aws.session import (
    ROLE_DURATION_SECONDS,
    ClientCache,
    client_config,
    make_session,
    probe_settings,
)

MakeAccount = Callable[..., CloudAccount]


def _identity_arn(session: Any, endpoint: str) -> str:
    sts = session.client("sts", region_name="us-east-1", endpoint_url=endpoint)
    arn: str = sts.get_caller_identity()["Arn"]
    return arn


def test_client_config_carries_retries_timeouts_and_user_agent() -> None:
    config = client_config(Settings(cloud_max_attempts=5, cloud_timeout_seconds=7.5))

    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert (config.connect_timeout, config.read_timeout) == (7.5, 7.5)
    assert config.user_agent_extra == "dbsnooze"


def test_probe_settings_fail_fast() -> None:
    probe = probe_settings(Settings(cloud_max_attempts=8, cloud_timeout_seconds=20))

    assert (probe.cloud_max_attempts, probe.cloud_timeout_seconds) == (2, 5.0)


def test_default_chain_reads_the_environment() -> None:
    session = make_session(Credentials(AuthMethod.DEFAULT_CHAIN))

    assert session.get_credentials().access_key == "AKIADEFAULTCHAIN0001"


def test_static_keys_with_session_token() -> None:
    credentials = Credentials(
        AuthMethod.STATIC_KEYS,
        access_key_id="AKIASTATIC0000000001",
        secret_access_key="static-secret",
        session_token="static-token",
    )

    frozen = make_session(credentials).get_credentials().get_frozen_credentials()

    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        "AKIASTATIC0000000001",
        "static-secret",
        "static-token",
    )


def test_static_keys_without_secret_is_a_clear_error() -> None:
    with pytest.raises(ProviderError) as caught:
        make_session(Credentials(AuthMethod.STATIC_KEYS, access_key_id="AKIASTATIC0000000001"))

    assert caught.value.code == "credentials_invalid"
    assert "secret access key" in caught.value.message


def test_named_profile_from_credentials_file(isolated_aws_env: Path, moto_endpoint: str) -> None:
    (isolated_aws_env / "credentials").write_text(
        "[team]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = team-secret\n"
    )

    session = make_session(Credentials(AuthMethod.PROFILE, profile="team"))

    assert session.get_credentials().access_key == "AKIAPROFILE000000001"
    assert _identity_arn(session, moto_endpoint).startswith("arn:aws:")


def test_missing_profile_is_credentials_invalid(make_account: MakeAccount) -> None:
    account = make_account(Credentials(AuthMethod.PROFILE, profile="nobody"))

    with pytest.raises(ProviderError) as caught:
        check_credentials(ClientCache(Settings()), account)

    assert caught.value.code == "credentials_invalid"
    assert "nobody" in caught.value.message


def test_assume_role_gives_refreshable_assumed_credentials(
    moto_endpoint: str, make_role: Callable[[str], str]
) -> None:
    role_arn = make_role("reader")
    credentials = Credentials(AuthMethod.ASSUME_ROLE, role_arn=role_arn, external_id="ext-42")

    session = make_session(credentials, endpoint_url=moto_endpoint)
    creds = session.get_credentials()

    assert isinstance(creds, RefreshableCredentials)
    assert creds.method == "assume-role"
    assert creds.get_frozen_credentials().access_key.startswith("ASIA")
    assert not creds.refresh_needed()  # fresh for about an hour ...
    assert creds.refresh_needed(refresh_in=ROLE_DURATION_SECONDS + 60)  # ... and not longer
    assert _identity_arn(session, moto_endpoint).endswith(":assumed-role/reader/dbsnooze")


def test_assume_role_uses_source_profile_as_base(
    isolated_aws_env: Path,
    moto_endpoint: str,
    make_role: Callable[[str], str],
    make_user: Callable[..., dict[str, str]],
    enforce_iam: Callable[[], None],
) -> None:
    role_arn = make_role("reader")
    key = make_user("assumer", ("sts:AssumeRole",))
    (isolated_aws_env / "credentials").write_text(
        f"[base]\naws_access_key_id = {key['id']}\naws_secret_access_key = {key['secret']}\n"
    )
    enforce_iam()  # the environment's default keys are unknown to moto from here on
    credentials = Credentials(AuthMethod.ASSUME_ROLE, role_arn=role_arn, source_profile="base")

    session = make_session(credentials, endpoint_url=moto_endpoint)

    assert session.get_credentials().get_frozen_credentials().access_key.startswith("ASIA")


def test_assume_role_denied_is_assume_role_failed(
    make_account: MakeAccount,
    make_role: Callable[[str], str],
    make_user: Callable[..., dict[str, str]],
    enforce_iam: Callable[[], None],
) -> None:
    role_arn = make_role("reader")
    key = make_user("powerless")
    enforce_iam()
    credentials = Credentials(
        AuthMethod.ASSUME_ROLE,
        role_arn=role_arn,
        access_key_id=key["id"],
        secret_access_key=key["secret"],
    )

    with pytest.raises(ProviderError) as caught:
        check_credentials(ClientCache(Settings()), make_account(credentials))

    assert caught.value.code == "assume_role_failed"
    assert role_arn in caught.value.message
    assert "AccessDenied" in caught.value.message
    assert key["secret"] not in caught.value.message
    assert key["id"] not in caught.value.message


def test_client_cache_reuses_clients_per_account_region_service(
    make_account: MakeAccount,
) -> None:
    cache = ClientCache(Settings())
    account = make_account(regions=("us-east-1", "eu-west-1"))

    first = cache.client(account, "us-east-1", "rds")

    assert cache.client(account, "us-east-1", "rds") is first
    assert cache.client(account, "eu-west-1", "rds") is not first
    assert cache.client(account, "us-east-1", "cloudwatch") is not first
    assert cache.client(make_account(account_id=2), "us-east-1", "rds") is not first


def test_client_cache_forget_and_changed_credentials_give_new_clients(
    make_account: MakeAccount,
) -> None:
    cache = ClientCache(Settings())
    account = make_account()
    first = cache.client(account, "us-east-1", "rds")

    cache.forget(account.id)
    second = cache.client(account, "us-east-1", "rds")
    moved = cache.client(replace(account, endpoint_url="http://127.0.0.1:1"), "us-east-1", "rds")
    edited = replace(account, credentials=Credentials(AuthMethod.PROFILE, profile="other"))

    assert second is not first
    assert moved.meta.endpoint_url == "http://127.0.0.1:1"
    with pytest.raises(ProfileNotFound):  # the edited account gets a session of its own
        cache.client(edited, "us-east-1", "rds")


def test_client_cache_hands_one_client_to_many_threads(make_account: MakeAccount) -> None:
    cache = ClientCache(Settings())
    account = make_account()
    seen: list[object] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        seen.append(cache.client(account, "us-east-1", "rds"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 8
    assert len({id(client) for client in seen}) == 1
