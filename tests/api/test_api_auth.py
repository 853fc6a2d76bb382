"""SPEC §9: open on loopback with no token; anywhere else a token is required and checked."""

from __future__ import annotations

import pytest
from apihelp import static_account
from fastapi.testclient import TestClient

from dbsnooze.api.app import InsecureBind, create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator

TOKEN = "s3cret-token-0123456789"


def test_loopback_without_token_is_open(api: TestClient) -> None:
    assert api.get("/api/v1/instances").status_code == 200


def test_non_loopback_bind_without_token_refuses_to_start(settings: Settings) -> None:
    with pytest.raises(InsecureBind, match="DBSNOOZE_API_TOKEN"):
        create_app(settings.model_copy(update={"host": "0.0.0.0"}))


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_with_a_token_every_api_call_needs_it(settings: Settings, ctx: Context, host: str) -> None:
    from pydantic import SecretStr

    secured = settings.model_copy(update={"host": host, "api_token": SecretStr(TOKEN)})
    with TestClient(create_app(secured, ctx)) as client:
        missing = client.get("/api/v1/instances")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "unauthorized"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.get("/api/v1/instances", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = client.get("/api/v1/instances", headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status_code == 200
        assert client.get("/healthz").status_code == 200
        assert TOKEN not in missing.text + wrong.text


def test_health_and_readiness(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["schema"]


def test_prometheus_metrics_count_cloud_calls_and_jobs(api: TestClient, moto: Emulator) -> None:
    before = _sample(
        api.get("/metrics").text,
        'dbsnooze_cloud_requests_total{operation="GetCallerIdentity",service="sts"}',
    )
    assert api.post("/api/v1/cloud-accounts", json=static_account(moto)).status_code == 201
    text = api.get("/metrics").text
    after = _sample(
        text, 'dbsnooze_cloud_requests_total{operation="GetCallerIdentity",service="sts"}'
    )
    assert after == before + 1
    assert 'dbsnooze_jobs{state="queued"} 0.0' in text
    assert "dbsnooze_collector_lag_seconds" in text


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
