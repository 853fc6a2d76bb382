"""The server's own credentials go only to allowed endpoints (DBSNOOZE_ALLOWED_ENDPOINTS).

A real listener on loopback stands for a stranger's server; the allow-list names only the
emulator's port, so the listener's port is outside it. The server has ambient credentials (the
environment and a profile); the listener must receive nothing, at creation and at use time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.domain import AuthMethod, Credentials, Provider
from dbsnooze.store import accounts as account_store
from dbsnooze.store.db import transaction
from listener import Listener
from metricshelp import register

AMBIENT_KEY_ID = "AKIAAMBIENTSERVER001"
PROFILE_KEY_ID = "AKIAAMBIENTPROFILE01"
STATIC_KEY_ID = "AKIASTATICACCOUNT001"
ROLE_ARN = "arn:aws:iam::123456789012:role/dbsnooze-read"

# auth body -> the key id that signs its first request (an assumed role's base credentials)
AUTH: dict[str, tuple[dict[str, Any], str]] = {
    "default": ({"method": "default"}, AMBIENT_KEY_ID),
    "profile": ({"method": "profile", "profile": "server"}, PROFILE_KEY_ID),
    "assume_role": ({"method": "assume_role", "role_arn": ROLE_ARN}, AMBIENT_KEY_ID),
    "assume_role_profile": (
        {"method": "assume_role", "role_arn": ROLE_ARN, "source_profile": "server"},
        PROFILE_KEY_ID,
    ),
    "static_keys": (
        {
            "method": "static_keys",
            "access_key_id": STATIC_KEY_ID,
            "secret_access_key": "static-secret-of-the-account-000000000",
        },
        STATIC_KEY_ID,
    ),
}


@pytest.fixture(autouse=True)
def ambient(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The server's own credentials: environment keys and a named profile."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AMBIENT_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret-of-the-server-000000000")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "ambient-session-token-of-the-server")
    (tmp_path / "aws-credentials").write_text(
        f"[server]\naws_access_key_id = {PROFILE_KEY_ID}\n"
        "aws_secret_access_key = profile-secret-of-the-server-00000000\n"
    )


@pytest.fixture()
def settings(settings: Settings, moto: Emulator) -> Settings:
    """Only the emulator's own loopback port is allowed."""
    return settings.model_copy(
        update={"allowed_endpoints": (f"127.0.0.1:{urlsplit(moto.endpoint_url).port}",)}
    )


@pytest.fixture()
def listener() -> Iterator[Listener]:
    with Listener() as server:
        yield server


def _body(auth: str, endpoint: str) -> dict[str, Any]:
    return {
        "name": f"stranger-{auth}",
        "provider": "aws",
        "regions": ["us-east-1"],
        "endpoint_url": endpoint,
        "auth": AUTH[auth][0],
    }


def test_an_account_on_an_endpoint_outside_the_list_is_refused_before_any_request(
    api: TestClient, listener: Listener
) -> None:
    for auth in AUTH:
        answer = api.post("/api/v1/cloud-accounts", json=_body(auth, listener.url))

        assert answer.status_code == 422, (auth, answer.text)
        assert answer.json()["error"]["code"] == "endpoint_not_allowed"
        assert f"127.0.0.1:{listener.port}" in answer.json()["error"]["message"]
    assert listener.received == []
    assert api.get("/api/v1/cloud-accounts").json()["count"] == 0


def test_the_listener_would_have_received_the_keys_had_its_port_been_allowed(
    api: TestClient, ctx: Context, listener: Listener
) -> None:
    allowed = (*ctx.settings.allowed_endpoints, f"127.0.0.1:{listener.port}")
    ctx.settings = ctx.settings.model_copy(update={"allowed_endpoints": allowed})

    for auth, (_, key_id) in AUTH.items():
        listener.received.clear()
        answer = api.post("/api/v1/cloud-accounts", json=_body(auth, listener.url))

        assert answer.status_code == 422, (auth, answer.text)
        assert answer.json()["error"]["code"] != "endpoint_not_allowed"
        assert any(key_id in header for header in listener.authorizations()), auth


def _stored(ctx: Context, auth: str, endpoint: str) -> int:
    """An account saved before the allow-list was what it is now."""
    body = AUTH[auth][0]
    credentials = Credentials(
        AuthMethod(body["method"]),
        profile=body.get("profile"),
        access_key_id=body.get("access_key_id"),
        secret_access_key=body.get("secret_access_key"),
        role_arn=body.get("role_arn"),
        source_profile=body.get("source_profile"),
    )
    new = account_store.NewAccount(
        Provider.AWS, f"old-{auth}", ("us-east-1",), credentials, endpoint, None
    )
    with transaction(ctx.sessions) as session:
        return account_store.add(session, ctx.box, new, ctx.clock()).id


def test_a_stored_account_on_an_endpoint_outside_the_list_sends_nothing(
    api: TestClient, ctx: Context, listener: Listener
) -> None:
    ids = [_stored(ctx, auth, listener.url) for auth in AUTH]

    for account_id in ids:
        tested = api.post(f"/api/v1/cloud-accounts/{account_id}/test").json()
        assert tested["ok"] is False
        assert "is not allowed" in tested["error"]
    regions = api.post("/api/v1/discover").json()["regions"]

    assert len(regions) == len(ids)
    assert all("is not allowed" in (region["error"] or "") for region in regions), regions
    assert listener.received == []


def test_a_backfill_for_an_account_outside_the_list_fails_without_a_request(
    api: TestClient, ctx: Context, listener: Listener
) -> None:
    instance_id = register(ctx, listener.url, ["orders-db"])["orders-db"]

    answer = api.post(
        f"/api/v1/instances/{instance_id}/metrics/backfill", params={"days": 1, "wait": "true"}
    )

    assert "is not allowed" in answer.text, answer.text
    assert listener.received == []
