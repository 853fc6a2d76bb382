"""Google Cloud behind the provider seam: Cloud SQL inventory per project, Cloud Monitoring
hourly statistics per project, stop facts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.clock import Clock
from dbsnooze.collect.plan import Estimate, SeriesRequest
from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.config import Settings
from dbsnooze.domain import (
    CloudAccount,
    DiscoveredInstance,
    HourlyStat,
    PowerReading,
    PowerUnit,
    Provider,
    ProviderError,
    RegionResult,
)
from dbsnooze.metrics import stored_metrics
from dbsnooze.providers.base import PlannedCall
from dbsnooze.providers.gcp import inventory, power
from dbsnooze.providers.gcp import plan as planner
from dbsnooze.providers.gcp.metrics import GCP_METRICS
from dbsnooze.providers.gcp.monitoring import MonitoringSource
from dbsnooze.providers.gcp.session import GcpSessions


@dataclass(frozen=True, slots=True)
class GcpSource:
    """Cloud Monitoring for one account and project, taking the calls GCP's planner made."""

    monitoring: MonitoringSource

    @property
    def api_calls(self) -> int:
        return self.monitoring.api_calls

    def fetch(self, call: PlannedCall) -> list[HourlyStat]:
        if not isinstance(call, planner.MonitoringCall):
            raise TypeError(f"not a Cloud Monitoring call: {call.describe()}")
        return self.monitoring.fetch(call.history)


@dataclass(frozen=True, slots=True)
class GcpProvider:
    sessions: GcpSessions
    settings: Settings
    clock: Clock
    poll: power.PollPolicy = power.DEFAULT_POLL  # how long a stop or start is followed
    sleep: Callable[[float], None] = time.sleep  # between polls of its operation

    @property
    def kind(self) -> Provider:
        return Provider.GCP

    @property
    def power_call_seconds(self) -> float:
        # the PATCH and the final GET with every retry, and the operation's polls with their
        # pauses (a poll answers in well under its pause; one that does not shortens the lease's
        # slack, and a worker taking over is refused by Cloud SQL while the operation runs)
        request = self.settings.cloud_timeout_seconds * self.settings.cloud_max_attempts
        return 2 * request + self.poll.max_polls * self.poll.interval_seconds

    @property
    def reads_whole_scope(self) -> bool:
        return True

    def scan(self, account: CloudAccount) -> list[RegionResult]:
        try:
            client = self.sessions.client(account)
        except ProviderError as error:  # e.g. an endpoint outside the allow-list
            return [
                RegionResult(account.id, project, error=error.message)
                for project in account.projects
            ]
        return inventory.scan_account(client, account)

    def check(self, account: CloudAccount) -> tuple[str, ...]:
        client = GcpSessions.for_probe(self.settings).client(account)
        inventory.check_credentials(client, account, self.clock())
        return ()

    def forget(self, account_id: int) -> None:
        self.sessions.forget(account_id)

    def metrics(self, configured: Sequence[str]) -> tuple[str, ...]:
        return tuple(m for m in stored_metrics(Provider.GCP, configured) if m in GCP_METRICS)

    def plan(self, requests: Sequence[SeriesRequest], single: bool) -> list[planner.MonitoringCall]:
        return planner.plan(requests)  # one instance or many: the same calls, all instances each

    def estimate(self, requests: Sequence[SeriesRequest], calls: Sequence[PlannedCall]) -> Estimate:
        mine = [call for call in calls if isinstance(call, planner.MonitoringCall)]
        return planner.estimate(requests, mine)

    def source(self, account: CloudAccount, scope: str, bucket: TokenBucket) -> GcpSource:
        return GcpSource(MonitoringSource(self.sessions.client(account, bucket)))

    def stop_blocker(self, instance: DiscoveredInstance) -> str | None:
        return why_not_stoppable(StopFacts.of(instance))

    def read_power(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit]
    ) -> dict[PowerUnit, PowerReading]:
        return power.read_power(self.sessions.client(account), scope, units)

    def set_power(self, account: CloudAccount, unit: PowerUnit, awake: bool) -> PowerReading:
        client = self.sessions.client(account)
        return power.set_power(client, unit, awake, self.poll, self.sleep)

    def recent_activity(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit], minutes: int
    ) -> dict[PowerUnit, dict[str, float]]:
        client = self.sessions.client(account)
        return power.recent_activity(client, scope, units, minutes, self.clock())
