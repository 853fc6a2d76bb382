"""Where the server may send cloud credentials: custom endpoints are checked against host patterns.

An account may point at a custom `endpoint_url` (an emulator, a VPC endpoint, a proxy). The
server signs every request with the account's credentials, and for the default chain, a profile
or a role assumed from them those are the server's own, so an endpoint outside the allowed
patterns is refused before any request is made, whatever the auth method.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import SplitResult, urlsplit

from dbsnooze.domain import ProviderError

# Loopback (emulators, local proxies) and the clouds' own domains, including VPC endpoints.
DEFAULT_ALLOWED_ENDPOINTS: tuple[str, ...] = (
    "127.0.0.1",
    "localhost",
    "::1",
    "*.amazonaws.com",
    "*.amazonaws.com.cn",
    "*.api.aws",
    "*.googleapis.com",
)
DEFAULT_PORTS = {"http": 80, "https": 443}
SETTING = "DBSNOOZE_ALLOWED_ENDPOINTS"


@dataclass(frozen=True, slots=True)
class HostPattern:
    """A glob on the host name (case-insensitive), and a port when the pattern names one."""

    host: str
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        return fnmatchcase(host, self.host) and self.port in (None, port)


def parse_pattern(text: str) -> HostPattern:
    """`host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address has no port."""
    text = text.strip().lower()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"endpoint pattern {text!r}: expected [address]:port")
        return _pattern(text, host, rest[1:] if rest else None)
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return _pattern(text, host, port)
    return _pattern(text, text, None)


def _pattern(text: str, host: str, port: str | None) -> HostPattern:
    if not host:
        raise ValueError(f"endpoint pattern {text!r} has no host")
    if port is None:
        return HostPattern(host)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"endpoint pattern {text!r}: the port must be 1-65535")
    return HostPattern(host, int(port))


def parse_patterns(texts: Iterable[str]) -> tuple[HostPattern, ...]:
    return tuple(parse_pattern(text) for text in texts if text.strip())


def check_endpoint(endpoint_url: str | None, patterns: Iterable[HostPattern]) -> None:
    """Raise ProviderError `endpoint_not_allowed` unless the URL's host matches a pattern.

    No endpoint_url means the SDK's own endpoints, which are always allowed.
    """
    if endpoint_url is None:
        return
    host, port = _host_and_port(endpoint_url)
    if not any(pattern.matches(host, port) for pattern in patterns):
        raise ProviderError(
            "endpoint_not_allowed",
            f"endpoint host {_display(host, port)} is not allowed: the server sends credentials "
            f"only to hosts that match {SETTING}",
        )


def _host_and_port(endpoint_url: str) -> tuple[str, int]:
    parts = _split(endpoint_url)
    host = parts.hostname or ""
    # userinfo, non-ASCII or escaped hosts could be read differently by the HTTP client
    if not host or "@" in parts.netloc or not host.isascii() or "%" in host:
        raise _unusable()
    try:
        port = parts.port
    except ValueError:
        raise _unusable() from None
    return host, port if port is not None else DEFAULT_PORTS[parts.scheme]


def _split(endpoint_url: str) -> SplitResult:
    if any(char.isspace() or char == "\\" or ord(char) < 32 for char in endpoint_url):
        raise _unusable()
    try:
        parts = urlsplit(endpoint_url)
    except ValueError:
        raise _unusable() from None
    if parts.scheme not in DEFAULT_PORTS:
        raise _unusable()
    return parts


def _unusable() -> ProviderError:
    return ProviderError(
        "endpoint_not_allowed", "the endpoint URL must be http(s)://host[:port] with a plain host"
    )


def _display(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
