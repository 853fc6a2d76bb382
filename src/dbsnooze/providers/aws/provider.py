"""AWS behind the provider seam: RDS inventory, CloudWatch hourly statistics, stop facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.clock import Clock, utc_now
from dbsnooze.collect.plan import (
    Call,
    DataCall,
    Estimate,
    SeriesRequest,
    StatisticsCall,
    estimate,
    plan_data,
    plan_statistics,
)
from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.config import Settings
from dbsnooze.domain import (
    CloudAccount,
    DiscoveredInstance,
    HourlyStat,
    PowerReading,
    PowerUnit,
    Provider,
    RegionResult,
)
from dbsnooze.providers.aws import inventory, power
from dbsnooze.providers.aws.cloudwatch import CloudWatchSource
from dbsnooze.providers.aws.session import ClientCache
from dbsnooze.providers.base import PlannedCall


@dataclass(frozen=True, slots=True)
class AwsSource:
    """CloudWatch for one account and region, taking the calls AWS's planner made."""

    cloudwatch: CloudWatchSource

    @property
    def api_calls(self) -> int:
        return self.cloudwatch.api_calls

    def fetch(self, call: PlannedCall) -> list[HourlyStat]:
        if isinstance(call, StatisticsCall):
            return self.cloudwatch.statistics(call)
        if isinstance(call, DataCall):
            return self.cloudwatch.data(call)
        raise TypeError(f"not a CloudWatch call: {call.describe()}")


@dataclass(frozen=True, slots=True)
class AwsProvider:
    clients: ClientCache
    settings: Settings
    clock: Clock = utc_now

    @property
    def kind(self) -> Provider:
        return Provider.AWS

    @property
    def power_call_seconds(self) -> float:
        return self.settings.cloud_timeout_seconds * self.settings.cloud_max_attempts

    @property
    def reads_whole_scope(self) -> bool:
        return False

    def scan(self, account: CloudAccount) -> list[RegionResult]:
        return inventory.scan_account(self.clients, account)

    def check(self, account: CloudAccount) -> tuple[str, ...]:
        return inventory.check_credentials(ClientCache.for_probe(self.settings), account)

    def forget(self, account_id: int) -> None:
        self.clients.forget(account_id)

    def metrics(self, configured: Sequence[str]) -> tuple[str, ...]:
        return tuple(configured)

    def plan(self, requests: Sequence[SeriesRequest], single: bool) -> list[Call]:
        """One instance reads free GetMetricStatistics, one call per series and run; several
        share batched GetMetricData calls."""
        return list(plan_statistics(requests) if single else plan_data(requests))

    def estimate(self, requests: Sequence[SeriesRequest], calls: Sequence[PlannedCall]) -> Estimate:
        return estimate(requests, [c for c in calls if isinstance(c, StatisticsCall | DataCall)])

    def source(self, account: CloudAccount, scope: str, bucket: TokenBucket) -> AwsSource:
        client = self.clients.client(account, scope, "cloudwatch")
        return AwsSource(CloudWatchSource(client, bucket))

    def stop_blocker(self, instance: DiscoveredInstance) -> str | None:
        return why_not_stoppable(StopFacts.of(instance))

    def read_power(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit]
    ) -> dict[PowerUnit, PowerReading]:
        return power.read_power(self.clients, account, scope, units)

    def set_power(self, account: CloudAccount, unit: PowerUnit, awake: bool) -> PowerReading:
        return power.set_power(self.clients, account, unit, awake)

    def recent_activity(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit], minutes: int
    ) -> dict[PowerUnit, dict[str, float]]:
        return power.recent_activity(self.clients, account, scope, units, minutes, self.clock())
