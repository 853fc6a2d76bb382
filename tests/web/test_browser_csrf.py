"""Cross-site request forgery in Chromium (issue 8 item 2): a page on another origin that
auto-submits a form must not start a backfill or cancel a job, with or without a login."""

from __future__ import annotations

import html

import pytest
from playwright.sync_api import Page, Response, expect
from webhelp import TOKEN, Console, Served, call, foreign_site

from dbsnooze.jobs import backfill

ENCTYPES = ["application/x-www-form-urlencoded", "text/plain"]


def _forged_form(action: str, enctype: str) -> str:
    """What an attacker's page does: a form aimed at the API, submitted as the page loads."""
    return f"""<!doctype html><title>win a prize</title>
<form method="post" action="{html.escape(action)}" enctype="{enctype}">
  <input type="hidden" name='{{"days": 1, "ignore": "' value='"}}'>
</form>
<script>document.forms[0].submit();</script>"""


def _submit_from_elsewhere(page: Page, action: str, enctype: str) -> Response:
    """Open the attacker's page; the answer to the form it submitted on its own."""
    with foreign_site(_forged_form(action, enctype)) as attacker:
        with page.expect_response(lambda r: r.request.method == "POST") as forged:
            page.goto(attacker)
        return forged.value


def _jobs_of(served: Served, instance_id: int, token: str | None = None) -> list[dict[str, object]]:
    return list(call(served, "GET", f"/api/v1/jobs?instance={instance_id}", token)["data"])


def _sign_in(page: Page, served: Served) -> None:
    page.goto(served.url + "/login?next=/jobs")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_another_origin_cannot_start_a_forced_backfill_on_the_open_server(
    page: Page, fleet: Served, console: Console, enctype: str
) -> None:
    instance_id = fleet.ids["legacy-reporting"]
    before = _jobs_of(fleet, instance_id)
    console.expect(r"status of 40[0-9]")
    action = f"{fleet.url}/api/v1/instances/{instance_id}/metrics/backfill?days=1&force=true"
    forged = _submit_from_elsewhere(page, action, enctype)
    assert forged.status == 403
    assert forged.json()["error"]["code"] == "cross_origin"
    assert _jobs_of(fleet, instance_id) == before


@pytest.mark.parametrize("enctype", ENCTYPES)
def test_another_origin_cannot_cancel_a_job_on_the_open_server(
    page: Page, idle: Served, console: Console, enctype: str
) -> None:
    job = backfill.submit_instance(idle.ctx, idle.ids["dev-alice-pg"], 7, False, "test")
    console.expect(r"status of 40[0-9]")
    forged = _submit_from_elsewhere(page, f"{idle.url}/api/v1/jobs/{job.id}/cancel", enctype)
    assert forged.status == 403
    assert call(idle, "GET", f"/api/v1/jobs/{job.id}")["state"] == "queued"
    cancelled = call(idle, "POST", f"/api/v1/jobs/{job.id}/cancel")  # a client that is no browser
    assert cancelled["state"] == "cancelled"


def test_another_origin_cannot_use_the_login_cookie(
    page: Page, locked: Served, console: Console
) -> None:
    """127.0.0.1 on another port is the same site: the strict cookie goes along, and is refused."""
    job = backfill.submit_instance(locked.ctx, locked.ids["dev-bob-mysql"], 7, False, "test")
    instance_id = locked.ids["legacy-reporting"]
    before = _jobs_of(locked, instance_id, TOKEN)
    _sign_in(page, locked)
    console.expect(r"status of 40[0-9]")

    cancel = _submit_from_elsewhere(page, f"{locked.url}/api/v1/jobs/{job.id}/cancel", ENCTYPES[0])
    assert "dbsnooze_" in cancel.request.all_headers().get("cookie", "")  # the login went along
    assert cancel.status == 403
    action = f"{locked.url}/api/v1/instances/{instance_id}/metrics/backfill?days=1&force=true"
    start = _submit_from_elsewhere(page, action, ENCTYPES[1])
    assert start.status == 403
    assert "dbsnooze_" in start.request.all_headers().get("cookie", "")  # the login went along

    assert call(locked, "GET", f"/api/v1/jobs/{job.id}", TOKEN)["state"] == "queued"
    assert _jobs_of(locked, instance_id, TOKEN) == before
    page.goto(locked.url + "/jobs")  # our own page, with the same cookie, still cancels
    row = page.locator(f'tr[data-job-id="{job.id}"]')
    row.get_by_role("button", name=f"Cancel job {job.id}").click()
    expect(page.locator(f'tr[data-job-id="{job.id}"]')).to_have_attribute("data-state", "cancelled")
