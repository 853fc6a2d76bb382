"""Accounts, discovery, instances and events through the HTTP API, against moto over HTTP."""

from __future__ import annotations

import json
import logging

import pytest
from apihelp import KEY_ID, SECRET, create_db, static_account
from fastapi.testclient import TestClient

from dbsnooze.demo.emulator import Emulator
from faultproxy import FaultProxy


def test_account_lifecycle_never_reveals_the_secret(
    api: TestClient, moto: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dbsnooze")
    answers = []
    created = api.post("/api/v1/cloud-accounts", json=static_account(moto))
    assert created.status_code == 201, created.text
    account = created.json()
    assert created.headers["location"] == f"/api/v1/cloud-accounts/{account['id']}"
    assert account["secret_hint"] == "AKIA…MPLE"
    answers.append(created.text)
    answers.append(api.get("/api/v1/cloud-accounts").text)
    answers.append(api.get(f"/api/v1/cloud-accounts/{account['id']}").text)
    answers.append(api.post(f"/api/v1/cloud-accounts/{account['id']}/test").text)
    answers.append(api.get("/api/v1/events").text)
    assert json.loads(answers[3]) == {"ok": True, "error": None, "warnings": []}
    for text in [*answers, caplog.text]:
        assert SECRET not in text
        assert KEY_ID not in text
    assert api.delete(f"/api/v1/cloud-accounts/{account['id']}").status_code == 204
    assert api.get(f"/api/v1/cloud-accounts/{account['id']}").status_code == 404


def test_secret_is_encrypted_at_rest(api: TestClient, moto: Emulator, ctx: object) -> None:
    from sqlalchemy import text

    from dbsnooze.context import Context

    assert isinstance(ctx, Context)
    api.post("/api/v1/cloud-accounts", json=static_account(moto))
    with ctx.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("SELECT * FROM cloud_accounts")))
    assert SECRET not in dump
    assert KEY_ID not in dump


def test_duplicate_account_name_is_a_conflict(api: TestClient, moto: Emulator) -> None:
    assert api.post("/api/v1/cloud-accounts", json=static_account(moto)).status_code == 201
    again = api.post("/api/v1/cloud-accounts", json=static_account(moto))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "account_exists"


def test_unreachable_endpoint_is_rejected_before_saving(api: TestClient) -> None:
    body = static_account(_Closed(), name="nowhere")
    answer = api.post("/api/v1/cloud-accounts", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "endpoint_unreachable"
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


class _Closed:
    endpoint_url = "http://127.0.0.1:9"  # discard port: nothing listens there


def test_an_aws_shaped_gcp_account_is_refused_before_any_request(
    api: TestClient, moto: Emulator
) -> None:
    answer = api.post("/api/v1/cloud-accounts", json=static_account(moto, provider="gcp"))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_error"
    assert "project" in answer.json()["error"]["message"]
    assert "phase" not in answer.text


def test_discovery_lists_regions_marks_deleted_and_filters(api: TestClient, moto: Emulator) -> None:
    for name in ("orders-prod", "billing-staging", "dev-alice"):
        create_db(moto, "us-east-1", name)
    create_db(moto, "eu-west-1", "eu-reporting", Engine="mysql", DBInstanceClass="db.r6g.large")
    moto.client("rds", "us-east-1").stop_db_instance(DBInstanceIdentifier="dev-alice")
    account = api.post("/api/v1/cloud-accounts", json=static_account(moto)).json()

    report = api.post("/api/v1/discover").json()
    assert report["totals"]["seen"] == 4
    assert report["totals"]["new"] == 4
    assert report["totals"]["errors"] == []
    listing = api.get("/api/v1/instances").json()
    assert listing["count"] == 4
    assert {i["region"] for i in listing["data"]} == {"us-east-1", "eu-west-1"}
    stopped = api.get("/api/v1/instances", params={"status": "stopped"}).json()["data"]
    assert [i["name"] for i in stopped] == ["dev-alice"]
    assert api.get("/api/v1/instances", params={"engine": "mysql"}).json()["count"] == 1
    assert api.get("/api/v1/instances", params={"q": "PROD"}).json()["data"][0]["name"] == (
        "orders-prod"
    )
    assert api.get("/api/v1/instances", params={"region": "eu-west-1"}).json()["count"] == 1
    assert api.get("/api/v1/instances", params={"account": account["id"]}).json()["count"] == 4
    page = api.get("/api/v1/instances", params={"limit": 2, "offset": 2, "sort": "-name"}).json()
    assert [i["name"] for i in page["data"]] == ["dev-alice", "billing-staging"]

    moto.client("rds", "us-east-1").delete_db_instance(
        DBInstanceIdentifier="billing-staging", SkipFinalSnapshot=True
    )
    assert api.post("/api/v1/discover").json()["totals"]["deleted"] == 1
    assert api.get("/api/v1/instances").json()["count"] == 3
    kept = api.get("/api/v1/instances", params={"include_deleted": True}).json()["data"]
    gone = next(i for i in kept if i["name"] == "billing-staging")
    assert gone["deleted"] is True
    assert api.get(f"/api/v1/instances/{gone['id']}").json()["deleted"] is True

    actions = [e["action"] for e in api.get("/api/v1/events").json()["data"]]
    assert actions.count("discovery.run") == 2
    assert "account.created" in actions


def test_a_failing_region_does_not_stop_the_others(api: TestClient, moto: Emulator) -> None:
    create_db(moto, "us-east-1", "orders-prod")
    good = api.post("/api/v1/cloud-accounts", json=static_account(moto, regions=["us-east-1"]))
    assert good.status_code == 201
    from dbsnooze.context import Context

    ctx = api.app.state.ctx  # type: ignore[attr-defined]
    assert isinstance(ctx, Context)
    _add_unreachable_account(ctx)
    report = api.post("/api/v1/discover").json()
    assert report["totals"]["seen"] == 1
    assert len(report["totals"]["errors"]) == 1
    assert report["totals"]["errors"][0]["account"] == "broken"


def test_a_policy_without_describe_clusters_keeps_instances_and_stored_clusters(
    api: TestClient, moto: Emulator, proxy: FaultProxy
) -> None:
    """The read-only policy from before clusters were listed: discovery goes on with the
    instances, a cluster stored before is not listed rather than gone, and both the discovery
    report and the credentials test say what is missing."""
    create_db(moto, "us-east-1", "orders-prod")
    moto.client("rds", "us-east-1").create_db_cluster(
        DBClusterIdentifier="reports",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password123",
    )
    body = static_account(moto, regions=["us-east-1"], endpoint_url=proxy.url)
    account = api.post("/api/v1/cloud-accounts", json=body).json()
    assert api.post("/api/v1/discover").json()["totals"]["new"] == 2

    proxy.refuse("DescribeDBClusters")
    create_db(moto, "us-east-1", "billing-staging")
    report = api.post("/api/v1/discover").json()
    tested = api.post(f"/api/v1/cloud-accounts/{account['id']}/test").json()

    totals = report["totals"]
    assert (totals["errors"], totals["new"], totals["deleted"]) == ([], 1, 0)
    [warned] = totals["warnings"]
    assert warned["region"] == "us-east-1"
    assert warned["warning"].startswith("rds:DescribeDBClusters is denied in us-east-1")
    assert report["regions"][0]["warnings"] == [warned["warning"]]
    listed = api.get("/api/v1/instances").json()["data"]
    assert sorted((i["name"], i["deleted"]) for i in listed) == [
        ("billing-staging", False),
        ("orders-prod", False),
        ("reports", False),
    ]
    assert tested["ok"] is True and tested["error"] is None
    [warning] = tested["warnings"]
    assert "clusters (Aurora, Multi-AZ) are not listed or scheduled" in warning
    assert "until the policy allows rds:DescribeDBClusters" in warning


def _add_unreachable_account(ctx: object) -> None:
    """An account whose endpoint went away after it was saved."""
    from dbsnooze.context import Context
    from dbsnooze.domain import AuthMethod, Credentials, Provider
    from dbsnooze.store import accounts
    from dbsnooze.store.db import transaction

    assert isinstance(ctx, Context)
    new = accounts.NewAccount(
        provider=Provider.AWS,
        name="broken",
        regions=("us-west-2",),
        credentials=Credentials(
            AuthMethod.STATIC_KEYS, access_key_id=KEY_ID, secret_access_key="x"
        ),
        endpoint_url="http://127.0.0.1:9",
        secret_hint=None,
    )
    with transaction(ctx.sessions) as session:
        accounts.add(session, ctx.box, new, ctx.clock())


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/instances/999", 404, "instance_not_found"),
        ("get", "/api/v1/cloud-accounts/999", 404, "account_not_found"),
        ("delete", "/api/v1/cloud-accounts/999", 404, "account_not_found"),
        ("post", "/api/v1/cloud-accounts/999/test", 404, "account_not_found"),
        ("post", "/api/v1/discover?account=999", 404, "account_not_found"),
        ("get", "/api/v1/instances/abc", 422, "validation_error"),
        ("get", "/api/v1/instances?limit=0", 422, "validation_error"),
        ("get", "/api/v1/instances?sort=bogus", 422, "validation_error"),
        ("get", "/api/v1/nothing-here", 404, "not_found"),
        ("put", "/api/v1/instances", 405, "method_not_allowed"),
    ],
)
def test_bad_requests_get_json_errors(
    api: TestClient, method: str, path: str, status: int, code: str
) -> None:
    answer = api.request(method.upper(), path)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]


DEFAULT = {"method": "default"}
BAD_BODIES = [
    ("{not json", 400, "malformed_json"),
    (json.dumps({"name": 5, "regions": "us-east-1", "auth": {}}), 422, "validation_error"),
    (json.dumps({"name": "x", "regions": ["mars-1"], "auth": DEFAULT}), 422, "validation_error"),
    (
        json.dumps({"name": "x", "regions": ["us-east-1"], "auth": {"method": "telepathy"}}),
        422,
        "validation_error",
    ),
    (json.dumps({"name": "x", "regions": [], "auth": DEFAULT}), 422, "validation_error"),
    (
        json.dumps({"name": "x", "regions": ["us-east-1"], "auth": DEFAULT, "extra": 1}),
        422,
        "validation_error",
    ),
    ("[]", 422, "validation_error"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BODIES)
def test_bad_account_bodies_change_nothing(
    api: TestClient, body: str, status: int, code: str
) -> None:
    answer = api.post(
        "/api/v1/cloud-accounts", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


def test_validation_errors_never_echo_a_secret(api: TestClient) -> None:
    body = {"name": "x", "regions": ["us-east-1"], "auth": {"method": "static_keys",
            "access_key_id": KEY_ID, "secret_access_key": SECRET, "bogus": 1}}  # fmt: skip
    answer = api.post("/api/v1/cloud-accounts", json=body)
    assert answer.status_code == 422
    assert SECRET not in answer.text
