"""Eligibility for clusters and the facts the providers judge through the one rule set."""

from __future__ import annotations

import pytest

from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.domain import DiscoveredInstance, Unit

CLUSTER = Unit.CLUSTER


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (
            StopFacts("aurora-postgresql", "available", unit=CLUSTER, engine_mode="provisioned"),
            None,
        ),
        (StopFacts("aurora-mysql", "stopped", unit=CLUSTER), None),
        (StopFacts("postgres", "available", unit=CLUSTER), "a Multi-AZ DB cluster cannot"),
        (
            StopFacts("aurora-mysql", "available", unit=CLUSTER, engine_mode="serverless"),
            "Aurora Serverless v1",
        ),
        (
            StopFacts("aurora-mysql", "available", unit=CLUSTER, global_cluster="glob"),
            "global database glob",
        ),
        (
            StopFacts("aurora-mysql", "available", unit=CLUSTER, replica_source="arn:src"),
            "cross-region replica cluster cannot be stopped (it replicates arn:src)",
        ),
        (
            StopFacts("aurora-mysql", "available", unit=CLUSTER, read_replicas=("arn:far",)),
            "replica clusters (arn:far)",
        ),
        (StopFacts("aurora-mysql", "deleted", unit=CLUSTER), "the cluster no longer exists"),
        (StopFacts("postgres", "deleted"), "the instance no longer exists"),
        (StopFacts("aurora-postgresql", "available"), "stop its cluster instead"),
        # an instance's member facts never make a cluster ineligible, nor the reverse
        (StopFacts("aurora-postgresql", "available", cluster_id="c1", unit=CLUSTER), None),
    ],
)
def test_cluster_rules(facts: StopFacts, reason: str | None) -> None:
    found = why_not_stoppable(facts)
    assert (found is None) if reason is None else (found is not None and reason in found)


def test_facts_of_what_the_cloud_listed() -> None:
    replica = DiscoveredInstance(
        "r", "x", "postgres", "1", "c", "available", {}, None, replica=True
    )
    cluster = DiscoveredInstance(
        "c",
        "x",
        "aurora-mysql",
        "3",
        "",
        "available",
        {},
        None,
        unit=CLUSTER,
        members=("c-1",),
        engine_mode="serverless",
        global_cluster="g",
    )

    assert StopFacts.of(replica).replica_source == ""  # a replica whose source is unknown
    facts = StopFacts.of(cluster)
    assert (facts.cluster, facts.engine_mode, facts.global_cluster) == (True, "serverless", "g")
