"""Which custom endpoints the server may send credentials to (DBSNOOZE_ALLOWED_ENDPOINTS)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dbsnooze.config import Settings
from dbsnooze.domain import ProviderError
from dbsnooze.endpoints import HostPattern, check_endpoint, parse_pattern, parse_patterns

DEFAULTS = parse_patterns(Settings().allowed_endpoints)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "http://127.0.0.1:4566",
        "http://localhost:5000/",
        "http://[::1]:4566",
        "https://rds.eu-west-1.amazonaws.com",
        "https://vpce-0a1b-rds.us-east-1.vpce.amazonaws.com",
        "https://monitoring.cn-north-1.amazonaws.com.cn",
        "https://rds.us-east-1.api.aws",
        "https://sqladmin.googleapis.com",
        "HTTPS://RDS.US-EAST-1.AMAZONAWS.COM",
    ],
)
def test_loopback_and_the_clouds_own_domains_are_allowed_by_default(url: str | None) -> None:
    check_endpoint(url, DEFAULTS)


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.2.10",
        "http://example.com",
        "http://127.0.0.2:4566",
        "https://amazonaws.com",
        "https://rds.amazonaws.com.evil.example",
        "https://evil.example/.amazonaws.com",
        "https://evil.example?.amazonaws.com",
        "https://evil.example#.amazonaws.com",
        "https://rds.amazonaws.com@evil.example",
        "https://user:pass@127.0.0.1",
        "https://evil.example\\@rds.amazonaws.com",
        "https://evil.example%2f.amazonaws.com",
        "https://\u0435vil.amazonaws.com",  # a Cyrillic "e"
        "ftp://127.0.0.1",
        "127.0.0.1:4566",
        "http://127.0.0.1:99999",
        "http://[::1",
        "http://127.0.0.1 :80",
    ],
)
def test_everything_else_is_refused(url: str) -> None:
    with pytest.raises(ProviderError) as caught:
        check_endpoint(url, DEFAULTS)

    assert caught.value.code == "endpoint_not_allowed"


def test_a_pattern_with_a_port_allows_that_port_only() -> None:
    patterns = parse_patterns(["127.0.0.1:4566", "[::1]:4566", "*.internal.example"])

    check_endpoint("http://127.0.0.1:4566", patterns)
    check_endpoint("http://[::1]:4566", patterns)
    check_endpoint("https://proxy.internal.example", patterns)
    refused = {
        "http://127.0.0.1:4567": "127.0.0.1:4567",
        "http://127.0.0.1": "127.0.0.1:80",
        "http://[::1]:80": "[::1]:80",
    }
    for url, shown in refused.items():
        with pytest.raises(ProviderError) as caught:
            check_endpoint(url, patterns)
        assert f"endpoint host {shown} is not allowed" in caught.value.message


def test_the_default_port_of_the_scheme_counts() -> None:
    check_endpoint("https://vpce.example", parse_patterns(["vpce.example:443"]))
    with pytest.raises(ProviderError):
        check_endpoint("http://vpce.example", parse_patterns(["vpce.example:443"]))


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("*.AmazonAWS.com", HostPattern("*.amazonaws.com")),
        ("localhost:8080", HostPattern("localhost", 8080)),
        ("::1", HostPattern("::1")),
        ("[::1]", HostPattern("::1")),
        ("[::1]:4566", HostPattern("::1", 4566)),
    ],
)
def test_patterns_parse(text: str, pattern: HostPattern) -> None:
    assert parse_pattern(text) == pattern


def test_the_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBSNOOZE_ALLOWED_ENDPOINTS", "127.0.0.1:4566, *.corp.example ,")

    assert Settings().allowed_endpoints == ("127.0.0.1:4566", "*.corp.example")


@pytest.mark.parametrize("bad", ["localhost:http", "[::1]x", ":443", "host:0"])
def test_a_bad_pattern_stops_the_start(bad: str) -> None:
    with pytest.raises(ValidationError, match="endpoint pattern"):
        Settings(allowed_endpoints=(bad,))
