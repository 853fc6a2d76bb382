"""GCP accounts through the HTTP API against the fake: tested before saving (what failed is
said), the key encrypted and never shown, and discovery per project, paged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from dbsnooze.api.app import create_app
from dbsnooze.context import Context
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.store.tables import InstanceRow
from gcphelp import (
    EMAIL,
    OTHER_PROJECT,
    PROJECT,
    account_body,
    add_instances,
    fake,
    fast_sessions,
    gcp_env,
    key,
)

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name
TARGET = f"reader@{PROJECT}.iam.gserviceaccount.com"


@pytest.fixture()
def api(ctx: Context, fake: GcpFake) -> Iterator[TestClient]:
    ctx.gcp = fast_sessions()
    with TestClient(create_app(ctx.settings, ctx), raise_server_exceptions=False) as client:
        yield client


def _secrets(key: ServiceAccountKey) -> list[str]:
    private = key.info["private_key"]
    body = private.split("-----")[2].strip()
    return [key.key_id, body[:64], body[-64:], json.dumps(key.info)]


def test_a_key_is_tested_saved_encrypted_and_never_shown(
    api: TestClient,
    ctx: Context,
    fake: GcpFake,
    key: ServiceAccountKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.identities.grant(EMAIL, OTHER_PROJECT)

    created = api.post(
        "/api/v1/cloud-accounts", json=account_body(fake, key, projects=(PROJECT, OTHER_PROJECT))
    )

    assert created.status_code == 201, created.text
    account = created.json()
    assert (account["provider"], account["projects"], account["regions"]) == (
        "gcp",
        [PROJECT, OTHER_PROJECT],
        [],
    )
    assert account["auth_method"] == "service_account"
    assert account["secret_hint"] == f"{key.key_id[:4]}…{key.key_id[-4:]}"
    probes = [r.path for r in fake.faults.requests() if r.path != "/token"]
    assert sorted(probes) == sorted(
        f"/v{v}/projects/{p}/{what}"
        for p in (PROJECT, OTHER_PROJECT)
        for v, what in (("1", "instances"), ("3", "timeSeries"))
    )
    answers = [
        created.text,
        api.get("/api/v1/cloud-accounts").text,
        api.get(f"/api/v1/cloud-accounts/{account['id']}").text,
        api.post(f"/api/v1/cloud-accounts/{account['id']}/test").text,
        api.get("/api/v1/events").text,
        api.get("/accounts").text,
    ]
    assert json.loads(answers[3]) == {"ok": True, "error": None, "warnings": []}
    with ctx.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("SELECT * FROM cloud_accounts")))
    for secret in _secrets(key):
        for where in [*answers, caplog.text, dump]:
            assert secret not in where


@pytest.mark.parametrize(
    ("permission", "named"),
    [
        ("cloudsql.instances.list", "cloudsql.instances.list"),
        ("monitoring.timeSeries.list", "monitoring.timeSeries.list"),
    ],
)
def test_a_missing_permission_is_named_and_nothing_is_saved(
    api: TestClient, fake: GcpFake, permission: str, named: str
) -> None:
    from dbsnooze.demo.gcpfake.auth import ALL_PERMISSIONS

    weak = fake.service_account(f"weak@{PROJECT}.iam.gserviceaccount.com", [PROJECT],
                                ALL_PERMISSIONS - {permission})  # fmt: skip

    answer = api.post("/api/v1/cloud-accounts", json=account_body(fake, weak))

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "access_denied"
    assert named in error["message"] and PROJECT in error["message"]
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


def test_a_key_that_is_not_a_key_is_refused_without_echoing_it(
    api: TestClient, fake: GcpFake, key: ServiceAccountKey
) -> None:
    body = account_body(fake, None, service_account_json='{"private_key": "SECRET-PART-1234"}')

    answer = api.post("/api/v1/cloud-accounts", json=body)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "credentials_invalid"
    assert "service-account key" in answer.json()["error"]["message"]
    assert "SECRET-PART-1234" not in answer.text
    assert fake.faults.requests() == []


def test_an_unreachable_endpoint_says_so(
    api: TestClient, fake: GcpFake, key: ServiceAccountKey
) -> None:
    body = {**account_body(fake, key), "endpoint_url": "http://127.0.0.1:9"}

    answer = api.post("/api/v1/cloud-accounts", json=body)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "endpoint_unreachable"


def test_an_endpoint_outside_the_allow_list_gets_no_request(
    api: TestClient, ctx: Context, fake: GcpFake, key: ServiceAccountKey
) -> None:
    ctx.settings = ctx.settings.model_copy(update={"allowed_endpoints": ("*.googleapis.com",)})

    answer = api.post("/api/v1/cloud-accounts", json=account_body(fake, key))

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "endpoint_not_allowed"
    assert fake.faults.requests() == []


def test_application_default_credentials_and_impersonation_are_accepted(
    api: TestClient, fake: GcpFake, key: ServiceAccountKey, gcp_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    key_file = gcp_env / "adc.json"
    key_file.write_text(json.dumps(key.info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    fake.identities.add_account(TARGET)
    fake.identities.grant(TARGET, PROJECT)
    fake.identities.allow_impersonation(EMAIL, TARGET)

    adc = api.post("/api/v1/cloud-accounts", json=account_body(fake, None, "adc", method="adc"))
    impersonate = api.post(
        "/api/v1/cloud-accounts",
        json=account_body(
            fake, None, "impersonate", method="impersonate", target_service_account=TARGET
        ),
    )

    assert adc.status_code == 201, adc.text
    assert impersonate.status_code == 201, impersonate.text
    assert impersonate.json()["target_service_account"] == TARGET
    assert fake.faults.served(":generateAccessToken", "POST")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"projects": []}, "at least one project"),
        ({"regions": ["us-east-1"]}, "not regions"),
        ({"auth": {"method": "default"}}, "not for gcp accounts"),
        ({"projects": ["Not_A_Project"]}, "projects.0"),
    ],
)
def test_a_gcp_account_must_look_like_one(
    api: TestClient, fake: GcpFake, key: ServiceAccountKey, change: dict[str, object], words: str
) -> None:
    answer = api.post("/api/v1/cloud-accounts", json={**account_body(fake, key), **change})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_error"
    assert words in answer.json()["error"]["message"]


def test_discovery_scans_each_project_through_every_page(
    api: TestClient, ctx: Context, fake: GcpFake, key: ServiceAccountKey
) -> None:
    fake.identities.grant(EMAIL, OTHER_PROJECT)
    fake.sql.page_cap = 2
    add_instances(fake, PROJECT, {"pg-a": ("POSTGRES_15", "us-central1"),
                                  "pg-b": ("POSTGRES_14", "europe-west1"),
                                  "my-c": ("MYSQL_8_0", "us-central1")})  # fmt: skip
    add_instances(fake, PROJECT, {"sleepy": ("MYSQL_8_0", "europe-west1")},
                  activation_policy="NEVER")  # fmt: skip
    fake.sql.add_instance(PROJECT, "pg-a-replica", database_version="POSTGRES_15",
                          region="us-central1", tier="db-custom-2-7680", master="pg-a")  # fmt: skip
    add_instances(fake, OTHER_PROJECT, {"orders": ("POSTGRES_16", "us-east1")})
    account = api.post(
        "/api/v1/cloud-accounts", json=account_body(fake, key, projects=(PROJECT, OTHER_PROJECT))
    ).json()

    first = api.post("/api/v1/discover").json()
    fake.sql.remove_instance(PROJECT, "my-c")
    second = api.post("/api/v1/discover").json()
    listed = api.get("/api/v1/instances", params={"provider": "gcp", "include_deleted": "true"})

    assert first["totals"]["seen"] == 6 and first["totals"]["errors"] == []
    assert {(r["region"], r["seen"]) for r in first["regions"]} == {
        (PROJECT, 5),
        (OTHER_PROJECT, 1),
    }
    pages = fake.faults.served(f"/v1/projects/{PROJECT}/instances")
    assert len(pages) == 1 + 3 + 2  # the credentials test; five instances two a page; then four
    assert (second["totals"]["deleted"], second["totals"]["seen"]) == (1, 5)
    rows = {row["name"]: row for row in listed.json()["data"]}
    assert set(rows) == {
        f"{PROJECT}:{n}" for n in ("pg-a", "pg-b", "my-c", "sleepy", "pg-a-replica")
    } | {f"{OTHER_PROJECT}:orders"}
    assert rows[f"{PROJECT}:pg-b"]["region"] == "europe-west1"
    assert rows[f"{PROJECT}:sleepy"]["status"] == "stopped"
    assert rows[f"{PROJECT}:my-c"]["deleted"] is True
    assert rows[f"{PROJECT}:pg-a-replica"]["replica"] is True
    assert rows[f"{PROJECT}:pg-a"]["replica"] is False
    assert {r["account_id"] for r in rows.values()} == {account["id"]}
    with ctx.sessions() as session:
        units = {r.provider_id: r.scan_unit for r in session.scalars(select(InstanceRow))}
    assert units[f"{OTHER_PROJECT}:orders"] == OTHER_PROJECT
    assert units[f"{PROJECT}:pg-b"] == PROJECT
