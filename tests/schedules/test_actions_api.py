"""The reconciler's API: overrides act at once, actions are listed, the schedule panel reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dbsnooze.api.app import create_app
from reconhelp import World

MINUTE = timedelta(minutes=1)


@pytest.fixture()
def api(world: World) -> Iterator[TestClient]:
    app = create_app(world.ctx.settings.model_copy(update={"run_worker": False}), world.ctx)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_sleep_override_acts_now_and_shows_in_actions_and_the_panel(
    world: World, api: TestClient
) -> None:
    db = world.instance("app")

    answer = api.post(
        f"/api/v1/instances/{db}/override", json={"state": "asleep", "duration": "10m"}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["outcome"], body["why_until"]) == ("done", "for 10m")
    assert body["override"]["until"].startswith("2026-11-18T14:33")
    assert world.calls() == ["StopDBInstance:app"]
    listed = api.get("/api/v1/actions", params={"instance_id": db, "state": "done"}).json()
    assert listed["count"] == 1
    assert listed["data"][0]["kind"] == "stop" and listed["data"][0]["actor"].startswith("user:")
    assert api.get("/api/v1/actions", params={"state": "failed"}).json() == {"data": [], "count": 0}
    panel = api.get(f"/api/v1/instances/{db}/schedule").json()
    assert panel["override"]["state"] == "asleep"
    assert (panel["schedule_name"], panel["next_kind"]) == (None, "start")
    assert panel["latest"]["state"] == "done"


def test_an_override_without_an_end_says_which_default_it_took(
    world: World, api: TestClient
) -> None:
    db = world.instance("app")
    world.proxy.inject("503", "503")  # the pass cannot read power: the override still stands

    body = api.post(f"/api/v1/instances/{db}/override", json={"state": "awake"}).json()

    assert body["why_until"] == "the default 2h (no schedule says otherwise)"
    assert body["outcome"] is None and "reading power" in body["reason"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (
            {"state": "asleep", "duration": "10m", "until": "2026-11-18T20:00:00Z"},
            "until_or_duration",
        ),
        ({"state": "asleep", "until": "2026-11-18T10:00:00Z"}, "bad_until"),
        ({"state": "asleep", "duration": "30d"}, "bad_until"),
        ({"state": "asleep", "duration": "soon"}, None),
        ({"state": "sideways"}, None),
    ],
)
def test_bad_overrides_are_422_with_a_code(
    world: World, api: TestClient, payload: dict[str, str], code: str | None
) -> None:
    db = world.instance("app")

    answer = api.post(f"/api/v1/instances/{db}/override", json=payload)

    assert answer.status_code == 422, answer.text
    if code is not None:
        assert answer.json()["error"]["code"] == code
    assert world.calls() == []


def test_clearing_an_override_and_unknown_instances(world: World, api: TestClient) -> None:
    db = world.instance("app")
    api.post(f"/api/v1/instances/{db}/override", json={"state": "awake", "duration": "1h"})

    assert api.delete(f"/api/v1/instances/{db}/override").status_code == 204
    missing = api.delete(f"/api/v1/instances/{db}/override")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "override_not_found")
    assert api.post("/api/v1/instances/999/override", json={"state": "awake"}).status_code == 404
    assert api.get("/api/v1/instances/999/schedule").status_code == 404
