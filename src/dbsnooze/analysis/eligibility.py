"""Whether an instance or a cluster can be stopped at all, and why not (SPEC §11), as data.

dbsnooze decides this itself from the inventory's facts, before it recommends or acts: the
cloud's emulator accepts stops that real RDS refuses. It is the one source of truth: both
providers' `stop_blocker` and the stored rows' facts are judged here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dbsnooze.domain import DiscoveredInstance, Unit


@dataclass(frozen=True, slots=True)
class StopFacts:
    engine: str
    status: str
    multi_az: bool = False
    replica_source: str | None = None  # set on a read replica ("" when the source is unknown)
    read_replicas: tuple[str, ...] = ()
    cluster_id: str | None = None
    unit: Unit = Unit.INSTANCE
    engine_mode: str | None = None  # a cluster's ("serverless" is Aurora Serverless v1)
    global_cluster: str | None = None

    @property
    def aurora(self) -> bool:
        return self.engine.startswith("aurora")

    @property
    def cluster(self) -> bool:
        return self.unit is Unit.CLUSTER

    @classmethod
    def of(cls, item: DiscoveredInstance) -> StopFacts:
        """The facts of an instance or cluster as the cloud listed it."""
        return cls(
            engine=item.engine,
            status=item.status,
            multi_az=item.multi_az,
            replica_source=item.replica_source or ("" if item.replica else None),
            read_replicas=item.read_replicas,
            cluster_id=item.cluster_id,
            unit=item.unit,
            engine_mode=item.engine_mode,
            global_cluster=item.global_cluster,
        )


@dataclass(frozen=True, slots=True)
class Ineligible:
    applies: Callable[[StopFacts], bool]
    reason: Callable[[StopFacts], str]


def _of(source: str | None) -> str:
    return f" (it replicates {source})" if source else ""


CLUSTER_RULES: tuple[Ineligible, ...] = (
    Ineligible(
        lambda f: not f.aurora,
        lambda f: "a Multi-AZ DB cluster cannot be stopped",
    ),
    Ineligible(
        lambda f: f.engine_mode == "serverless",
        lambda f: "an Aurora Serverless v1 cluster cannot be stopped (it pauses by itself)",
    ),
    Ineligible(
        lambda f: f.global_cluster is not None,
        lambda f: f"a cluster of the Aurora global database {f.global_cluster} cannot be stopped",
    ),
    Ineligible(
        lambda f: f.replica_source is not None,
        lambda f: "a cross-region replica cluster cannot be stopped" + _of(f.replica_source),
    ),
    Ineligible(
        lambda f: bool(f.read_replicas),
        lambda f: (
            f"the source of replica clusters ({', '.join(f.read_replicas)}) cannot be stopped"
        ),
    ),
)

INSTANCE_RULES: tuple[Ineligible, ...] = (
    Ineligible(
        lambda f: f.replica_source is not None,
        lambda f: "a read replica cannot be stopped" + _of(f.replica_source),
    ),
    Ineligible(
        lambda f: bool(f.read_replicas),
        lambda f: f"the source of read replicas ({', '.join(f.read_replicas)}) cannot be stopped",
    ),
    Ineligible(
        lambda f: f.aurora,
        lambda f: (
            "an Aurora cluster member: stop its cluster"
            + (f" {f.cluster_id}" if f.cluster_id else "")
            + " instead"
        ),
    ),
    Ineligible(
        lambda f: f.cluster_id is not None,
        lambda f: f"a member of the Multi-AZ DB cluster {f.cluster_id}, which cannot be stopped",
    ),
    Ineligible(
        lambda f: f.multi_az and f.engine.startswith("sqlserver"),
        lambda f: "SQL Server Multi-AZ instances cannot be stopped",
    ),
)

GONE = Ineligible(lambda f: f.status == "deleted", lambda f: f"the {f.unit.value} no longer exists")


def why_not_stoppable(facts: StopFacts) -> str | None:
    """The first reason the instance or cluster cannot be stopped, or None if it can."""
    rules = (GONE, *(CLUSTER_RULES if facts.cluster else INSTANCE_RULES))
    for rule in rules:
        if rule.applies(facts):
            return rule.reason(facts)
    return None
