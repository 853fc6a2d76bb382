"""The OpenAPI document says what the server does: statuses, the error shape, auth, bounds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dbsnooze.api.app import create_app
from dbsnooze.api.params import MAX_ID
from dbsnooze.api.schemas import ErrorResponse
from dbsnooze.config import Settings
from dbsnooze.context import Context
from metricshelp import register

TOKEN = "openapi-test-token-0d6f3b9e27a14c85"
ERROR_REF = "#/components/schemas/ErrorResponse"
API = "/api/v1/"
OWN_STATUSES = {  # what each operation's own handler can answer besides 2xx and the common ones
    ("post", "/api/v1/cloud-accounts"): {"400", "409"},
    ("get", "/api/v1/cloud-accounts/{account_id}"): {"404"},
    ("delete", "/api/v1/cloud-accounts/{account_id}"): {"404"},
    ("post", "/api/v1/cloud-accounts/{account_id}/test"): {"404"},
    ("get", "/api/v1/instances/{instance_id}"): {"404"},
    ("post", "/api/v1/discover"): {"404"},
    ("post", "/api/v1/instances/{instance_id}/metrics/backfill"): {"404", "409"},
    ("post", "/api/v1/metrics/backfill"): {"404", "409"},
    ("post", "/api/v1/instances/{instance_id}/collect-metrics"): {"404"},
    ("get", "/api/v1/instances/{instance_id}/metrics"): {"404"},
    ("get", "/api/v1/instances/{instance_id}/metrics/history"): {"404"},
    ("get", "/api/v1/instances/{instance_id}/metrics/coverage"): {"404"},
    ("get", "/api/v1/jobs/{job_id}"): {"404"},
    ("post", "/api/v1/jobs/{job_id}/cancel"): {"404", "409"},
    ("get", "/api/v1/recommendations/{recommendation_id}"): {"404"},
    ("post", "/api/v1/recommendations/refresh"): {"404"},
    ("post", "/api/v1/recommendations/{recommendation_id}/apply"): {"404", "409"},
    ("post", "/api/v1/recommendations/{recommendation_id}/dismiss"): {"404", "409"},
    ("get", "/api/v1/instances/{instance_id}/analysis"): {"404"},
    ("get", "/api/v1/instances/{instance_id}/activity"): {"404"},
    ("post", "/api/v1/instances/{instance_id}/override"): {"400", "404"},
    ("delete", "/api/v1/instances/{instance_id}/override"): {"404"},
    ("get", "/api/v1/instances/{instance_id}/schedule"): {"404"},
    ("post", "/api/v1/schedules"): {"400", "404", "409"},
    ("get", "/api/v1/schedules/{schedule_id}"): {"404"},
    ("patch", "/api/v1/schedules/{schedule_id}"): {"400", "404", "409"},
    ("delete", "/api/v1/schedules/{schedule_id}"): {"404"},
    ("get", "/api/v1/schedules/{schedule_id}/preview"): {"404"},
    ("post", "/api/v1/schedules/{schedule_id}/instances"): {"400", "404", "409"},
    ("delete", "/api/v1/schedules/{schedule_id}/instances/{instance_id}"): {"404"},
}


def _document(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith(API):
                yield method, path, operation


def _locked(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_token": SecretStr(TOKEN)})


@pytest.fixture()
def locked_api(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    app = create_app(_locked(settings), ctx)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


def test_every_error_answer_is_documented_with_the_error_shape(settings: Settings) -> None:
    document = _document(_locked(settings))
    common = {"401", "413", "422", "503"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        answers = operation["responses"]
        errors = {status for status in answers if not status.startswith("2")}
        assert errors == common | OWN_STATUSES.get((method, path), set()), (method, path)
        for status in errors:
            schema = answers[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR_REF}, (method, path, status)
    error = document["components"]["schemas"]["ErrorDetail"]
    assert error["required"] == ["code", "message"]


def test_the_bearer_scheme_is_declared_when_a_token_is_required(settings: Settings) -> None:
    locked = _document(_locked(settings))
    assert locked["components"]["securitySchemes"] == {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "the server's DBSNOOZE_API_TOKEN",
        }
    }
    for method, path, operation in _operations(locked):
        assert operation["security"] == [{"bearer": []}], (method, path)
    assert "security" not in locked["paths"]["/healthz"]["get"]

    open_ = _document(settings)  # loopback without a token: nothing to declare, no 401
    assert "securitySchemes" not in open_.get("components", {})
    for _method, _path, operation in _operations(open_):
        assert "security" not in operation
        assert "401" not in operation["responses"]


def _parameters(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            typed = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), {})
            yield f"{method} {path} {parameter['name']}", typed


def test_days_is_an_integer_and_every_integer_and_text_is_bounded(settings: Settings) -> None:
    days = 0
    for where, schema in _parameters(_document(settings)):
        if where.endswith(" days"):
            days += 1
            assert schema["type"] == "integer" and schema["minimum"] == 1, where
        if schema.get("type") == "integer":
            assert schema["minimum"] >= 0 and schema["maximum"] <= MAX_ID, where
        if schema.get("type") == "string" and not {"enum", "format"} & set(schema):
            assert schema["maxLength"] <= 255 and "\\x00" in schema["pattern"], where
    assert days == 5  # backfill (2), fleet backfill, schedule preview, savings


def test_live_errors_have_the_documented_shape_and_status(
    locked_api: TestClient, ctx: Context
) -> None:
    document = locked_api.get("/openapi.json").json()
    iid = register(ctx, "http://127.0.0.1:9", ["db-1"])["db-1"]
    first = locked_api.post(f"/api/v1/instances/{iid}/metrics/backfill")
    assert first.status_code == 202, first.text
    backfill = "/api/v1/instances/{instance_id}/metrics/backfill"
    calls: list[tuple[str, str, str, dict[str, Any], int]] = [
        ("get", "/api/v1/cloud-accounts/{account_id}", "/api/v1/cloud-accounts/7", {}, 404),
        ("get", "/api/v1/jobs", "/api/v1/jobs", {"params": {"limit": "many"}}, 422),
        ("post", backfill, backfill.format(instance_id=iid), {}, 409),
        ("get", "/api/v1/instances", "/api/v1/instances", {"headers": {"Authorization": ""}}, 401),
        (
            "post",
            "/api/v1/cloud-accounts",
            "/api/v1/cloud-accounts",
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            400,
        ),
    ]
    for method, documented, url, request, status in calls:
        answer = locked_api.request(method.upper(), url, **request)
        assert answer.status_code == status, (url, answer.text)
        ErrorResponse.model_validate(answer.json())
        assert str(status) in document["paths"][documented][method]["responses"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/cloud-accounts/1", "GET, DELETE"),
        ("PATCH", "/api/v1/cloud-accounts", "GET, POST"),
        ("DELETE", "/api/v1/instances", "GET"),
        ("GET", "/api/v1/discover", "POST"),
        ("PUT", "/api/v1/jobs/1/cancel", "POST"),
        ("POST", "/healthz", "GET"),
        ("DELETE", "/static/app.js", "GET, HEAD"),
    ],
)
def test_405_names_every_allowed_method_in_the_error_shape(
    api: TestClient, method: str, path: str, allowed: str
) -> None:
    answer = api.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed
    assert ErrorResponse.model_validate(answer.json()).error.code == "method_not_allowed"
