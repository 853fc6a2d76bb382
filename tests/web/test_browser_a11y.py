"""axe-core in Chromium on every page, at desktop and phone widths, in the light and the dark
theme (the system's colour scheme switched under the open page): no violations. Screenshots of
each go to tests/screenshots/ (git-ignored)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, StorageState, expect
from sitepages import AXE, DESKTOP, PAGES, PHONE, SitePage, axe_violations, opened, signed_in_state
from webhelp import Served, screenshot_path


@pytest.fixture(scope="module")
def signed_in(browser: Browser, site: Served) -> StorageState:
    return signed_in_state(browser, site)


@pytest.fixture()
def servers(request: pytest.FixtureRequest) -> dict[str, Served]:
    """The server of each kind of page, started only when a test asks for it."""

    class Lazy(dict[str, Served]):
        def __missing__(self, key: str) -> Served:
            served: Served = request.getfixturevalue("broken" if key == "broken" else "site")
            self[key] = served
            return served

    return Lazy()


def test_axe_core_is_installed() -> None:
    assert AXE.is_file(), "axe-core is missing: run `make setup` (it runs npm ci)"


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("site_page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_has_no_axe_violations(
    browser: Browser,
    servers: dict[str, Served],
    signed_in: StorageState,
    site_page: SitePage,
    width: int,
) -> None:
    """Light first, then the system turns dark under the open page (theme.js follows it)."""
    served = servers[site_page.server]
    with opened(browser, served, site_page, width, "light", signed_in) as page:
        found = {}
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            for selector in site_page.ready:
                expect(page.locator(selector).first).to_be_attached()
            page.screenshot(
                path=screenshot_path(f"{site_page.name}-{width}-{theme}"), full_page=True
            )
            found[theme] = axe_violations(page)
    assert found == {"light": [], "dark": []}, json.dumps(found, indent=1)
