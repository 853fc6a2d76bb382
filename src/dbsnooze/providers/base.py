"""The provider seam: what discovery, accounts, collection and backfill ask of a cloud.

Each cloud package implements `CloudProvider` (providers/aws/provider.py,
providers/gcp/provider.py); `providers/registry.py` picks one by an account's or an instance's
provider. Nothing outside `providers/` imports a cloud SDK: the rest of the program speaks the
domain types and these protocols.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from dbsnooze.collect.plan import Estimate, SeriesRequest
from dbsnooze.collect.throttle import TokenBucket
from dbsnooze.domain import (
    CloudAccount,
    DiscoveredInstance,
    HourlyStat,
    HourRange,
    PowerReading,
    PowerUnit,
    Provider,
    RegionResult,
)

Asked = tuple[int, str, datetime]  # (instance id, metric, hour)
Scope = tuple[int, str]  # (account id, scan unit): one client and one token bucket


class PlannedCall(Protocol):
    """One planned read of a cloud's metric archive (it may take several HTTP requests)."""

    @property
    def span(self) -> HourRange: ...

    @property
    def scope(self) -> Scope: ...

    def asked(self) -> Iterable[Asked]:
        """Every (instance, metric, hour) the call answers for: what it did not return is
        silent (empty, or settled when it was provisional)."""
        ...

    def describe(self) -> str:
        """The call in a few words, for logs and job errors."""
        ...


class HourlySource(Protocol):
    """Hourly statistics from one account's scope (an AWS region, a GCP project)."""

    @property
    def api_calls(self) -> int:
        """HTTP requests made so far (every page counts; retries of one request do not)."""
        ...

    def fetch(self, call: PlannedCall) -> list[HourlyStat]:
        """Whole hours only; a failure is a ProviderError saying what failed."""
        ...


class CloudProvider(Protocol):
    """One cloud behind the seam: inventory, an hourly metric source with its own batching
    limits and plans, and power: reading and changing whether a database runs."""

    @property
    def kind(self) -> Provider: ...

    @property
    def power_call_seconds(self) -> float:
        """The longest one `set_power` may take: its requests with every retry, and where the
        cloud answers before the change is done (Cloud SQL's operation), following it. An
        action's lease outlasts it, so no other worker takes over a call still running."""
        ...

    @property
    def reads_whole_scope(self) -> bool:
        """One metric request answers for every instance of a scope (a GCP project), so new
        instances of one scope are best backfilled by one job."""
        ...

    def scan(self, account: CloudAccount) -> list[RegionResult]:
        """One result per scan unit (region or project); a failed unit is an outcome, and so
        is one listed in part (its `unlisted` units and `warnings`)."""
        ...

    def check(self, account: CloudAccount) -> tuple[str, ...]:
        """Raise ProviderError saying what failed unless the credentials can inventory and read
        metrics everywhere the account scans; gives up fast (a person is waiting). Returns
        warnings for what they can do only in part (AWS: clusters refused, instances listed)."""
        ...

    def forget(self, account_id: int) -> None:
        """Drop cached sessions and clients of an account (edited, tested again or deleted)."""
        ...

    def metrics(self, configured: Sequence[str]) -> tuple[str, ...]:
        """The metric keys this provider stores for the configured metrics."""
        ...

    def plan(self, requests: Sequence[SeriesRequest], single: bool) -> Sequence[PlannedCall]:
        """The fewest calls that answer these requests within the API's limits; `single`: the
        requests are one instance's (a backfill of it alone)."""
        ...

    def estimate(self, requests: Sequence[SeriesRequest], calls: Sequence[PlannedCall]) -> Estimate:
        """What these planned calls cost, for a dry run."""
        ...

    def source(self, account: CloudAccount, scope: str, bucket: TokenBucket) -> HourlySource:
        """The metric source of one scope, each request taking a token from `bucket` first."""
        ...

    def stop_blocker(self, instance: DiscoveredInstance) -> str | None:
        """Why this instance can never be stopped on its own, or None if it can be."""
        ...

    def read_power(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit]
    ) -> dict[PowerUnit, PowerReading]:
        """The power state of these units of one scope, in as few describe calls as the API
        allows (the reconciler's refresh); a unit the cloud no longer lists reads GONE.
        Raises ProviderError."""
        ...

    def set_power(self, account: CloudAccount, unit: PowerUnit, awake: bool) -> PowerReading:
        """Ask the cloud to start (`awake`) or stop the unit, once; the state the cloud reports
        right after. Eligibility is the caller's business (checked before). Raises
        ProviderError, `retryable` when trying again later may help."""
        ...

    def recent_activity(
        self, account: CloudAccount, scope: str, units: Sequence[PowerUnit], minutes: int
    ) -> dict[PowerUnit, dict[str, float]]:
        """For the stop guard: each unit's activity over the last `minutes`, as the stored metric
        keys ("cpu", "connections", "read_iops", "write_iops") mapped to the average over that
        span (an Aurora cluster: its busiest member); a unit with no data is absent. Raises
        ProviderError."""
        ...
