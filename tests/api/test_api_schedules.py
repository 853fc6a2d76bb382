"""The schedules API: CRUD, explicit assignment, conflicts, preview, codes of bad rules, audit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dbsnooze.context import Context
from dbsnooze.store.tables import EventRow
from schedhelp import NOW, db, fleet

BASE = "/api/v1/schedules"
NIGHTS = {"days": [0, 1, 2, 3, 4], "sleep": "19:00", "wake": "07:00"}


@pytest.fixture()
def ids(ctx: Context) -> dict[str, int]:
    ctx.clock = lambda: NOW
    return fleet(ctx, db("shop-dev", team="shop"), db("shop-prod", team="shop",
                 **{"dbsnooze:schedule": "off"}), db("billing"), db("other"))  # fmt: skip


def create(api: TestClient, **body: Any) -> dict[str, Any]:
    answer = api.post(BASE, json={"timezone": "Europe/Berlin", "windows": [NIGHTS], **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_create_get_list_patch_delete(api: TestClient, ids: dict[str, int], ctx: Context) -> None:
    made = create(api, name="nights", instance_ids=[ids["billing"]])
    assert made["dry_run"] is True and made["enabled"] is True and made["enforce"] is False
    assert made["windows"] == [{**NIGHTS, "span_days": 0, "label": "window Mon-Fri 19:00-07:00"}]
    assert made["instance_ids"] == [ids["billing"]]
    assert made["now"] == {  # Wednesday 15:23 in Berlin: awake until 19:00 (18:00 UTC)
        "asleep": False,
        "until": "2026-11-18T18:00:00Z",
        "since": "2026-11-18T06:00:00Z",
    }
    one = api.get(f"{BASE}/{made['id']}")
    assert one.status_code == 200 and one.json()["name"] == "nights"
    listed = api.get(BASE).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == made["id"]

    patched = api.patch(
        f"{BASE}/{made['id']}", json={"dry_run": False, "skip_dates": ["2026-12-24"]}
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["dry_run"] is False and body["skip_dates"] == ["2026-12-24"]
    assert body["windows"][0]["sleep"] == "19:00"  # untouched fields stay
    assert body["instance_ids"] == [ids["billing"]]

    assert api.delete(f"{BASE}/{made['id']}").status_code == 204
    assert api.get(f"{BASE}/{made['id']}").json()["error"]["code"] == "schedule_not_found"
    with ctx.sessions() as session:
        actions = [r.action for r in session.scalars(select(EventRow).order_by(EventRow.id))]
        actors = {r.actor for r in session.scalars(select(EventRow))}
    assert actions == [
        "schedule.created", "schedule.assigned", "schedule.updated", "schedule.deleted",
    ]  # fmt: skip
    assert actors == {"api@testclient"}


def test_explicit_assignment_and_the_409_naming_both_schedules(
    api: TestClient, ids: dict[str, int]
) -> None:
    shop = create(api, name="shop", selector={"tags": {"team": "shop"}})
    other = create(api, name="other nights")
    added = api.post(f"{BASE}/{other['id']}/instances", json={"instance_ids": [ids["other"]]})
    assert added.status_code == 200 and added.json()["changed"] == [ids["other"]]
    clash = api.post(f"{BASE}/{other['id']}/instances", json={"instance_ids": [ids["shop-dev"]]})
    assert clash.status_code == 409
    error = clash.json()["error"]
    assert error["code"] == "schedule_conflict"
    assert "shop-dev" in error["message"] and "'shop'" in error["message"]
    assert "'other nights'" in error["message"]
    assert error["schedule_ids"] == [shop["id"], other["id"]]
    taken = api.patch(f"{BASE}/{other['id']}", json={"name": "shop"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "schedule_name_taken"
    removed = api.delete(f"{BASE}/{other['id']}/instances/{ids['other']}")
    assert removed.json()["instance_ids"] == []
    replaced = api.patch(f"{BASE}/{other['id']}", json={"instance_ids": [ids["billing"]]})
    assert replaced.json()["instance_ids"] == [ids["billing"]]


def test_the_preview_lists_each_claimed_instance_with_its_transitions(
    api: TestClient, ids: dict[str, int]
) -> None:
    shop = create(api, name="shop", selector={"tags": {"team": "shop"}},
                  holidays_country="DE", holidays_subdivision="BY")  # fmt: skip
    preview = api.get(f"{BASE}/{shop['id']}/preview", params={"days": 2})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert [t["at"] for t in body["transitions"]] == [
        "2026-11-18T18:00:00Z", "2026-11-19T06:00:00Z", "2026-11-19T18:00:00Z",
        "2026-11-20T06:00:00Z",
    ]  # fmt: skip
    assert body["transitions"][0]["local"] == "2026-11-18T19:00:00+01:00"
    assert body["transitions"][0]["reason"] == "window Mon-Fri 19:00-07:00"
    members = {m["instance_name"]: m for m in body["data"]}
    assert set(members) == {"shop-dev", "shop-prod"}
    assert members["shop-dev"]["status"] == "assigned"
    assert members["shop-dev"]["transitions"] == body["transitions"]
    assert members["shop-prod"]["status"] == "opted_out"
    assert members["shop-prod"]["transitions"] == []
    week = api.get(f"{BASE}/{shop['id']}/preview").json()
    assert week["end"] == "2026-11-25T14:23:00Z" and len(week["transitions"]) == 10
    assert api.get(f"{BASE}/999/preview").status_code == 404


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown_timezone"),
        ({"windows": [{**NIGHTS, "sleep": "7pm"}]}, "bad_time"),
        ({"windows": [{**NIGHTS, "wake": "24:00"}]}, "bad_time"),
        ({"windows": [{**NIGHTS, "days": []}]}, "window_without_days"),
        ({"sleep_cron": "0 19 * * 1-5"}, "half_cron_pair"),
        ({"sleep_cron": "0 19 * *", "wake_cron": "0 7 * * *"}, "bad_cron"),
        ({"holidays_country": "ZZ"}, "unknown_holiday_country"),
        ({"holidays_country": "DE", "holidays_subdivision": "ZZ"}, "unknown_holiday_subdivision"),
    ],
)
def test_bad_rules_answer_422_with_their_code(
    api: TestClient, ids: dict[str, int], change: dict[str, Any], code: str
) -> None:
    body = {"name": "bad", "timezone": "Europe/Berlin", "windows": [NIGHTS], **change}
    created = api.post(BASE, json=body)
    assert created.status_code == 422 and created.json()["error"]["code"] == code
    good = create(api, name="good")
    patched = api.patch(f"{BASE}/{good['id']}", json=change)
    assert patched.status_code == 422 and patched.json()["error"]["code"] == code
    assert api.get(f"{BASE}/{good['id']}").json()["timezone"] == "Europe/Berlin"


def test_unknown_ids_are_404s(api: TestClient, ids: dict[str, int]) -> None:
    assert api.patch(f"{BASE}/999", json={"enabled": False}).status_code == 404
    assert api.delete(f"{BASE}/999").status_code == 404
    made = create(api, name="nights")
    missing = api.post(f"{BASE}/{made['id']}/instances", json={"instance_ids": [999]})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "instance_not_found"
    assert (
        api.post(BASE, json={"name": "x", "timezone": "UTC", "instance_ids": [999]}).status_code
        == 404
    )
