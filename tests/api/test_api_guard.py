"""The guard in front of every request (issue 8 items 1-3): token rules, Host allow-list, CSRF,
JSON-only changes, sessions, and the body limit, over the real ASGI stack on both stores."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from dbsnooze.api.app import InsecureBind, create_app
from dbsnooze.config import MIN_API_TOKEN_LENGTH, Settings
from dbsnooze.context import Context
from metricshelp import Clock, register

TOKEN = "guard-test-token-5d1c7e2a"
BACKFILL = "/api/v1/instances/{id}/metrics/backfill?days=1&force=true"
CURL = {"Content-Type": "application/json"}  # the seed's own command sends this, and no Origin
EVIL = "http://evil.example:8000"


@pytest.fixture()
def instance_id(ctx: Context) -> int:
    return register(ctx, "http://127.0.0.1:9", ["db-guarded"])["db-guarded"]


def _client(settings: Settings, ctx: Context, **update: Any) -> TestClient:
    """No worker, so a queued job stays queued (the app's background reads the context's)."""
    ctx.settings = settings.model_copy(update={"run_worker": False, **update})
    app = create_app(ctx.settings, ctx)
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


@pytest.fixture()
def open_api(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with _client(settings, ctx) as client:
        yield client


@pytest.fixture()
def locked(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with _client(settings, ctx, api_token=SecretStr(TOKEN)) as client:
        yield client


def _error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


def _jobs(client: TestClient, **headers: str) -> int:
    answer = client.get("/api/v1/jobs", headers=headers)
    assert answer.status_code == 200
    return int(answer.json()["count"])


# --- 1. token rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["", "   ", "\t", "short-token", "x" * (MIN_API_TOKEN_LENGTH - 1)]
)
def test_an_empty_blank_or_short_token_is_refused_in_words_that_never_repeat_it(
    token: str,
) -> None:
    with pytest.raises(ValidationError, match="DBSNOOZE_API_TOKEN") as refused:
        Settings(api_token=token)
    assert token.strip() == "" or token not in str(refused.value)


def test_a_token_of_the_minimum_length_is_accepted() -> None:
    assert Settings(api_token="x" * MIN_API_TOKEN_LENGTH).api_token is not None
    with pytest.raises(ValidationError, match="printable ASCII"):
        Settings(api_token="a token with spaces in it")


@pytest.mark.parametrize("token", ["", "  ", "too-short"])
def test_the_app_refuses_an_unusable_token_even_on_settings_that_skipped_validation(
    settings: Settings, token: str
) -> None:
    """The reported hole: `DBSNOOZE_API_TOKEN= dbsnooze serve --host 0.0.0.0` served openly."""
    unusable = settings.model_copy(update={"host": "0.0.0.0", "api_token": SecretStr(token)})
    with pytest.raises(InsecureBind, match="DBSNOOZE_API_TOKEN"):
        create_app(unusable)


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic Z3VhcmQ6dGVzdA==", f"Token {TOKEN}"]
)
def test_a_missing_or_empty_credential_never_passes(
    locked: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    _error(locked.get("/api/v1/cloud-accounts", headers=headers), 401, "unauthorized")
    _error(locked.post("/api/v1/discover", headers=headers), 401, "unauthorized")
    assert locked.get("/api/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"}).is_success


# --- 2. Host allow-list -----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io", ""])
def test_the_open_server_answers_no_foreign_host_name(open_api: TestClient, host: str) -> None:
    """DNS rebinding: a page whose own name now points at 127.0.0.1 is same-origin with itself."""
    _error(open_api.get("/api/v1/instances", headers={"Host": host}), 421, "host_not_allowed")
    _error(open_api.get("/", headers={"Host": host}), 421, "host_not_allowed")


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1", "[::1]:8080", "LOCALHOST."])
def test_the_open_server_answers_its_loopback_names(open_api: TestClient, host: str) -> None:
    assert open_api.get("/api/v1/instances", headers={"Host": host}).status_code == 200


def test_allowed_hosts_by_setting() -> None:
    assert Settings().allowed_host_names() == {"localhost", "127.0.0.1", "::1"}
    named = Settings(host="10.0.0.5", api_token=TOKEN, allowed_hosts="db.example, [fd00::1]")
    assert named.allowed_host_names() == {
        "localhost",
        "127.0.0.1",
        "::1",
        "10.0.0.5",
        "db.example",
        "fd00::1",
    }
    assert Settings(host="0.0.0.0", api_token=TOKEN).allowed_host_names() is None
    assert Settings(allowed_hosts="*").allowed_host_names() is None


# --- 2. CSRF on the open loopback server ------------------------------------------------------


@pytest.mark.parametrize(
    "browser",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Referer": f"{EVIL}/attack.html"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver:9999"},
    ],
)
def test_a_change_from_another_origin_is_refused(
    open_api: TestClient, instance_id: int, browser: dict[str, str]
) -> None:
    answer = open_api.post(BACKFILL.format(id=instance_id), headers={**CURL, **browser})
    _error(answer, 403, "cross_origin")
    assert _jobs(open_api) == 0


def test_the_seeds_curl_and_our_own_pages_still_start_a_backfill(
    open_api: TestClient, instance_id: int
) -> None:
    path = BACKFILL.format(id=instance_id)
    assert open_api.post(path, headers=CURL).status_code == 202
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    job = open_api.post(path.replace("force=true", "force=false"), headers=own)
    assert job.status_code in (202, 409), job.text  # 409: the first one is still queued


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"],
)
def test_the_api_takes_json_only(open_api: TestClient, content_type: str) -> None:
    """What an HTML form can send is refused, even without any Origin header."""
    body = b'{"name": "forged", "provider": "aws", "regions": ["us-east-1"]}'
    headers = {"Content-Type": content_type}
    answer = open_api.post("/api/v1/cloud-accounts", content=body, headers=headers)
    _error(answer, 415, "unsupported_media_type")


# --- 2. sessions and the CSRF token -----------------------------------------------------------


def _sign_in(client: TestClient) -> str:
    """Log in as the browser does; the CSRF token the pages carry."""
    assert client.post("/login", data={"token": TOKEN, "next": "/"}).status_code == 303
    page = client.get("/jobs")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found, page.text
    return found[1]


def _queued_job(client: TestClient, instance_id: int) -> int:
    answer = client.post(
        BACKFILL.format(id=instance_id), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 202, answer.text
    return int(answer.json()["id"])


def test_a_change_with_the_login_cookie_needs_the_sessions_csrf_token(
    locked: TestClient, instance_id: int
) -> None:
    job_id = _queued_job(locked, instance_id)
    csrf = _sign_in(locked)
    cancel = f"/api/v1/jobs/{job_id}/cancel"
    _error(locked.post(cancel), 403, "csrf_token_invalid")
    _error(locked.post(cancel, headers={"X-CSRF-Token": "guessed"}), 403, "csrf_token_invalid")
    own = {"X-CSRF-Token": csrf, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    _error(locked.post(cancel, headers={**own, "Origin": EVIL}), 403, "cross_origin")
    assert locked.get(f"/api/v1/jobs/{job_id}").json()["state"] == "queued"
    assert locked.post(cancel, headers=own).is_success
    assert locked.get(f"/api/v1/jobs/{job_id}").json()["state"] == "cancelled"


def test_a_bearer_client_needs_no_csrf_token(locked: TestClient, instance_id: int) -> None:
    job_id = _queued_job(locked, instance_id)
    bearer = {"Authorization": f"Bearer {TOKEN}", **CURL}
    assert locked.post(f"/api/v1/jobs/{job_id}/cancel", headers=bearer).is_success


def test_the_cookie_holds_a_session_that_expires(
    settings: Settings, ctx: Context, instance_id: int
) -> None:
    clock = Clock(ctx.clock())
    timed = dataclasses.replace(ctx, clock=clock)
    with _client(settings, timed, api_token=SecretStr(TOKEN), session_ttl_seconds=600) as client:
        _sign_in(client)
        session = client.cookies["dbsnooze_session"]
        assert TOKEN not in session and len(session) >= 32
        assert client.get("/api/v1/jobs").status_code == 200
        clock.advance(timedelta(seconds=601))
        _error(client.get("/api/v1/jobs"), 401, "unauthorized")
        assert client.get("/jobs").status_code == 303  # the page sends the browser to /login


def test_the_token_itself_is_no_longer_a_cookie(locked: TestClient) -> None:
    locked.cookies.set("dbsnooze_token", TOKEN)
    _error(locked.get("/api/v1/jobs"), 401, "unauthorized")


# --- 3. request bodies ------------------------------------------------------------------------

LIMIT = 2048


@pytest.fixture()
def limited(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with _client(settings, ctx, max_body_bytes=LIMIT) as client:
        yield client


def test_a_declared_body_over_the_limit_is_refused_unread(limited: TestClient) -> None:
    answer = limited.post(
        "/api/v1/cloud-accounts", content=b"{" + b" " * LIMIT + b"}", headers=CURL
    )
    _error(answer, 413, "body_too_large")
    assert answer.headers["connection"] == "close"


def test_a_streamed_body_is_counted_as_it_arrives(limited: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "streamed", "provider": "aws", "regions": ["'
        for _ in range(LIMIT // 100 + 1):
            yield b"x" * 100

    answer = limited.post("/api/v1/cloud-accounts", content=chunks(), headers=CURL)
    _error(answer, 413, "body_too_large")
    assert limited.get("/api/v1/cloud-accounts").json()["count"] == 0


def test_a_body_within_the_limit_still_reaches_the_api(limited: TestClient) -> None:
    answer = limited.post("/api/v1/cloud-accounts", json={"name": "x"})
    _error(answer, 422, "validation_error")


def test_authentication_comes_before_reading_the_body(settings: Settings) -> None:
    """FastAPI reads a body before it runs any dependency: the guard answers first."""
    app = create_app(settings.model_copy(update={"api_token": SecretStr(TOKEN)}))
    read: list[str] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        read.append("body")
        return {"type": "http.request", "body": b"{}" * 1000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    headers.append((b"content-length", b"500000"))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/cloud-accounts",
        "raw_path": b"/api/v1/cloud-accounts",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401
    assert read == []
