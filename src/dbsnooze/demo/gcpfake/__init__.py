"""A fake of the Google Cloud APIs dbsnooze uses, on loopback: no emulator exists for them.

`GcpFake` serves the OAuth 2.0 token endpoint, Cloud SQL Admin v1 (instances list / get /
patch, operations get), Cloud Monitoring v3 timeSeries.list computed from raw minute points,
and IAM Credentials generateAccessToken (impersonation), all on one port, with injectable faults.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType

from dbsnooze.demo.gcpfake.auth import ALL_PERMISSIONS, Identities
from dbsnooze.demo.gcpfake.faults import Faults
from dbsnooze.demo.gcpfake.keys import ServiceAccountKey, new_key
from dbsnooze.demo.gcpfake.monitoring import Monitoring
from dbsnooze.demo.gcpfake.series import Series
from dbsnooze.demo.gcpfake.server import TOKEN_PATH, make_server
from dbsnooze.demo.gcpfake.sqladmin import CloudSql

LOOPBACK = "127.0.0.1"

__all__ = ["GcpFake", "Series", "ServiceAccountKey"]


def _now() -> datetime:
    return datetime.now(UTC)


class GcpFake:
    """The fake's state (identities, sql, monitoring, faults) and its HTTP server."""

    def __init__(
        self, host: str = LOOPBACK, port: int = 0, clock: Callable[[], datetime] = _now
    ) -> None:
        self.identities = Identities()
        self.sql = CloudSql(clock)
        self.monitoring = Monitoring()
        self.faults = Faults()
        self._server = make_server(self, host, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="gcpfake",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_uri(self) -> str:
        return self.url + TOKEN_PATH

    def start(self) -> GcpFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.faults.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def service_account(
        self, email: str, projects: Iterable[str], permissions: Iterable[str] = ALL_PERMISSIONS
    ) -> ServiceAccountKey:
        """A new service account with a fresh key, granted `permissions` on `projects`."""
        projects = tuple(projects)
        key = new_key(email, projects[0] if projects else "", self.token_uri)
        self.identities.add_account(email, key.key_id, key.public_key)
        for project in projects:
            self.identities.grant(email, project, permissions)
        return key

    def instance_series(
        self,
        project: str,
        instance: str,
        metric_type: str,
        metric_labels: Mapping[str, str] | None = None,
    ) -> Series:
        """The `cloudsql_database` series of one instance's metric (add points to it)."""
        region = self.sql.get(project, instance)["region"]
        resource = {"project_id": project, "database_id": f"{project}:{instance}", "region": region}
        return self.monitoring.series(metric_type, resource, metric_labels)

    def __enter__(self) -> GcpFake:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
