"""axe-core in Chromium on every page, at desktop and phone widths, in the light and the dark
theme: no violations. Screenshots of each go to tests/screenshots/ (git-ignored)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, StorageState
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


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("site_page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_has_no_axe_violations(
    browser: Browser,
    servers: dict[str, Served],
    signed_in: StorageState,
    site_page: SitePage,
    width: int,
    theme: str,
) -> None:
    served = servers[site_page.server]
    with opened(browser, served, site_page, width, theme, signed_in) as page:
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        page.screenshot(path=screenshot_path(f"{site_page.name}-{width}-{theme}"), full_page=True)
        violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
