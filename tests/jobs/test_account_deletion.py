"""Deleting an account while a backfill of one of its instances runs: the job ends cancelled
with the reason, nothing crashes, and the worker goes on with the next job (both stores)."""

from __future__ import annotations

import logging

import pytest

from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from faultproxy import FaultProxy
from metricshelp import NOW, app, finished, put, register, window

STATISTICS_CALL = "GetMetricStatistics"


def test_deleting_an_account_cancels_its_running_backfill_cleanly(
    ctx: Context, moto: Emulator, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with app(ctx) as api:
        ids = register(ctx, proxy.url, ["orders-db", "billing-db"])
        put(moto, "orders-db", window(NOW, 1))
        account_id = api.get("/api/v1/cloud-accounts").json()["data"][0]["id"]
        queued_id = ids["billing-db"]
        proxy.hold({STATISTICS_CALL}, count=1)  # the first call waits until released
        running = api.post(f"/api/v1/instances/{ids['orders-db']}/metrics/backfill?days=1").json()
        proxy.wait_held()
        queued = api.post(f"/api/v1/instances/{queued_id}/metrics/backfill?days=1").json()

        deleted = api.delete(f"/api/v1/cloud-accounts/{account_id}")
        proxy.release()  # its answer arrives for an instance that no longer exists
        ended = finished(api, running["id"])
        other = api.get(f"/api/v1/jobs/{queued['id']}").json()
        audit = api.get("/api/v1/events", params={"action": "account.deleted"}).json()["data"]

        again = register(ctx, proxy.url, ["orders-db"])["orders-db"]  # the worker goes on
        after = api.post(f"/api/v1/instances/{again}/metrics/backfill?days=1&wait=true").json()

    assert deleted.status_code == 204
    reason = f"cancelled: cloud account 'main' (id {account_id}) was deleted"
    for job in (ended, other):
        assert job["state"] == "cancelled"
        assert job["errors"] == [{"error": reason}]
    assert audit[0]["detail"]["cancelled_jobs"] == [running["id"], queued["id"]]
    assert after["state"] == "succeeded"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
