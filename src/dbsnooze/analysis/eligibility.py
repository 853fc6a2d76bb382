"""Whether an instance can be stopped at all, and why not (SPEC §11), as data.

dbsnooze decides this itself from the inventory's facts, before it recommends or acts: the
cloud's emulator accepts stops that real RDS refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StopFacts:
    engine: str
    status: str
    multi_az: bool = False
    replica_source: str | None = None  # set on a read replica ("" when the source is unknown)
    read_replicas: tuple[str, ...] = ()
    cluster_id: str | None = None

    @property
    def aurora(self) -> bool:
        return self.engine.startswith("aurora")


@dataclass(frozen=True, slots=True)
class Ineligible:
    applies: Callable[[StopFacts], bool]
    reason: Callable[[StopFacts], str]


RULES: tuple[Ineligible, ...] = (
    Ineligible(
        lambda f: f.status == "deleted",
        lambda f: "the instance no longer exists",
    ),
    Ineligible(
        lambda f: f.replica_source is not None,
        lambda f: (
            "a read replica cannot be stopped"
            + (f" (it replicates {f.replica_source})" if f.replica_source else "")
        ),
    ),
    Ineligible(
        lambda f: bool(f.read_replicas),
        lambda f: f"the source of read replicas ({', '.join(f.read_replicas)}) cannot be stopped",
    ),
    Ineligible(
        lambda f: f.cluster_id is not None and f.aurora,
        lambda f: f"an Aurora cluster member: stop its cluster {f.cluster_id} instead",
    ),
    Ineligible(
        lambda f: f.cluster_id is not None and not f.aurora,
        lambda f: f"a member of the Multi-AZ DB cluster {f.cluster_id}, which cannot be stopped",
    ),
    Ineligible(
        lambda f: f.multi_az and f.engine.startswith("sqlserver"),
        lambda f: "SQL Server Multi-AZ instances cannot be stopped",
    ),
)


def why_not_stoppable(facts: StopFacts) -> str | None:
    """The first reason the instance cannot be stopped, or None if it can."""
    for rule in RULES:
        if rule.applies(facts):
            return rule.reason(facts)
    return None
