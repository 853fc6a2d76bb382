"""The instances page's query string, read leniently and written back without defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dbsnooze.web.listing import parse

NOW = datetime(2026, 11, 18, 14, 23, tzinfo=UTC)


def test_filters_sort_and_paging_round_trip() -> None:
    query = parse({"q": " dev ", "region": "eu-west-1", "sort": "-class", "page": "3"})
    assert (query.q, query.region, query.sort, query.page, query.per_page) == (
        "dev",
        "eu-west-1",
        "-class",
        3,
        50,
    )
    assert query.offset == 100
    assert query.filter(NOW).q == "dev" and query.filter(NOW).account_id is None
    assert query.url() == "/?q=dev&region=eu-west-1&sort=-class&page=3"
    assert query.url(page=1) == "/?q=dev&region=eu-west-1&sort=-class"
    assert parse({}).url() == "/"


def test_sorting_toggles_and_resets_the_page() -> None:
    query = parse({"sort": "name", "page": "4"})
    assert query.sort_url("name") == "/?sort=-name"
    assert query.sort_url("region") == "/?sort=region"
    assert query.direction("name") == "ascending"
    assert parse({"sort": "-name"}).direction("name") == "descending"
    assert query.direction("engine") == "none"


def test_bad_values_fall_back_to_defaults() -> None:
    bad = {"sort": "drop", "page": "-2", "per_page": "100000", "account": "x", "provider": "az"}
    query = parse(bad)
    assert (query.sort, query.page, query.per_page, query.account, query.provider) == (
        "name",
        1,
        50,
        "",
        "",
    )
    assert parse({"per_page": "250", "account": "7"}).filter(NOW).account_id == 7


def test_activity_filters_read_known_choices_only() -> None:
    query = parse({"inactive": "7", "idle": "90", "sort": "-idle"})
    found = query.filter(NOW)
    assert (found.inactive_since, found.min_idle_share) == (NOW - timedelta(days=7), 0.9)
    assert query.sort == "-idle" and query.filtered
    assert query.url() == "/?inactive=7&idle=90&sort=-idle"
    odd = parse({"inactive": "3", "idle": "101", "sort": "last_active"})
    assert (odd.inactive, odd.idle, odd.sort) == ("", "", "last_active")
    assert odd.filter(NOW).inactive_since is None and odd.filter(NOW).min_idle_share is None
