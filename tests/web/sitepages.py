"""Every page of the web UI, for the tests that check them all (axe, page width, screenshots).

A new page is one more `SitePage` in PAGES. `server` names the fixture that serves it: `site`
(signed in, the demo fleet with history, recommendations and a queued job), `login` (the same
server, not signed in) or `broken` (its store gone: the error page).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, StorageState, expect
from webhelp import TIMEZONE, TOKEN, Served

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE, TABLET, LAPTOP, DESKTOP = 390, 768, 1024, 1440
HEIGHT = {PHONE: 844, TABLET: 1024, LAPTOP: 768, DESKTOP: 900}


@dataclass(frozen=True)
class SitePage:
    name: str
    path: str  # {dev}: the id of a development instance with history
    server: str = "site"
    ready: tuple[str, ...] = ("main h1",)  # there once the page has drawn what it draws

    def url(self, served: Served) -> str:
        return served.url + self.path.format(dev=served.ids.get("dev-alice-pg", 0))


PAGES = [
    SitePage("instances", "/", ready=("#instances-table",)),
    SitePage(
        "instance",
        "/instances/{dev}",
        ready=('#heatmap[data-state="ready"]', '#charts[data-state="ready"]'),
    ),
    SitePage("jobs", "/jobs", ready=(".jobs-inner",)),
    SitePage("accounts", "/accounts", ready=("#accounts-table",)),
    SitePage("recommendations", "/recommendations", ready=("#recommendations-table",)),
    SitePage("not-found", "/instances/999999"),
    SitePage("login", "/login", server="login", ready=("#token",)),
    SitePage("error", "/", server="broken"),
]


def signed_in_state(browser: Browser, served: Served) -> StorageState:
    """The cookies of a browser that signed in to `served` with its token."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(served.url + "/login")
        tab.get_by_label("API token").fill(TOKEN)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.locator("main h1")).to_be_visible()
        return context.storage_state()
    finally:
        context.close()


@contextmanager
def opened(
    browser: Browser,
    served: Served,
    site_page: SitePage,
    width: int,
    theme: str = "light",
    state: StorageState | None = None,
    **options: Any,
) -> Iterator[Page]:
    """The page in a fresh browser of that width and system colour scheme, drawn."""
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHT.get(width, 900)},
        color_scheme="dark" if theme == "dark" else "light",
        timezone_id=TIMEZONE,
        locale="en-US",
        storage_state=state if site_page.server == "site" else None,
        **options,
    )
    context.set_default_timeout(15_000)
    try:
        tab = context.new_page()
        tab.goto(site_page.url(served))
        for selector in site_page.ready:
            expect(tab.locator(selector).first).to_be_attached()
        tab.evaluate("document.fonts.ready")
        yield tab
    finally:
        context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, each with the nodes it found."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const result = await window.axe.run(document, { resultTypes: ["violations"] });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => ({
              target: n.target.join(" "), summary: n.failureSummary })),
          }));
        }"""
    )
    return found


def page_overflow(page: Page) -> dict[str, int]:
    """How wide the document is against the viewport: scrollWidth > clientWidth means the whole
    page scrolls sideways."""
    found: dict[str, int] = page.evaluate(
        """() => ({ scroll: document.scrollingElement.scrollWidth,
                    client: document.scrollingElement.clientWidth })"""
    )
    return found
