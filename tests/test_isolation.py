"""Tests reach nothing beyond loopback: the autouse fixture sends every other address to a proxy
that is not there (fuzzed endpoint URLs and the default credential chain would otherwise go out).
"""

from __future__ import annotations

from botocore.utils import get_environ_proxies

DEAD_PROXY = "http://127.0.0.1:9"  # what conftest's autouse fixture sets


def test_cloud_calls_beyond_loopback_go_to_a_dead_proxy() -> None:
    for url in ("https://sts.amazonaws.com/", "http://192.0.2.1:4566/", "https://example.com"):
        proxies = get_environ_proxies(url)
        assert (proxies["http"], proxies["https"]) == (DEAD_PROXY, DEAD_PROXY)


def test_loopback_is_reached_directly() -> None:
    for url in ("http://127.0.0.1:4566/", "http://localhost:8080/x"):
        assert get_environ_proxies(url) == {}
