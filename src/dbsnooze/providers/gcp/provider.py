"""Google Cloud behind the provider seam: Cloud SQL inventory per project, Cloud Monitoring
hourly statistics per project, stop facts."""

from __future__ import annotations

from collections.abc import Sequence
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
from dbsnooze.providers.gcp import inventory
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

    @property
    def kind(self) -> Provider:
        return Provider.GCP

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

    def check(self, account: CloudAccount) -> None:
        client = GcpSessions.for_probe(self.settings).client(account)
        inventory.check_credentials(client, account, self.clock())

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
        raise ProviderError("not_implemented", "reading power states is being built")

    def set_power(self, account: CloudAccount, unit: PowerUnit, awake: bool) -> PowerReading:
        raise ProviderError("not_implemented", "stop and start are being built")

    def recent_activity(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit], minutes: int
    ) -> dict[PowerUnit, dict[str, float]]:
        raise ProviderError("not_implemented", "the stop guard's activity read is being built")
