"""Cloud SQL inventory through the real client over HTTP against the fake."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dbsnooze.analysis.eligibility import StopFacts, why_not_stoppable
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.domain import DiscoveredInstance
from dbsnooze.providers.gcp.inventory import (
    engine_and_version,
    list_instances,
    scan_account,
    status,
)
from gcphelp import OTHER_PROJECT, PROJECT, account, client, fake, gcp_env, key

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name

CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _fleet(fake: GcpFake) -> None:
    add = fake.sql.add_instance
    add(
        PROJECT,
        "orders-pg",
        database_version="POSTGRES_15",
        region="us-central1",
        tier="db-custom-2-7680",
        labels={"env": "prod", "team": "orders"},
        created=CREATED,
    )
    add(
        PROJECT,
        "orders-pg-replica",
        database_version="POSTGRES_15",
        region="us-east1",
        tier="db-custom-2-7680",
        master="orders-pg",
        created=CREATED,
    )
    add(
        PROJECT,
        "legacy-mysql",
        database_version="MYSQL_8_0_31",
        region="europe-west1",
        tier="db-n1-standard-1",
        activation_policy="NEVER",
        created=CREATED,
    )


def test_instances_become_discovered_instances_with_every_field_mapped(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _fleet(fake)

    found = {i.provider_id: i for i in list_instances(client(account(fake.url, key)), PROJECT)}

    assert found[f"{PROJECT}:orders-pg"] == DiscoveredInstance(
        provider_id=f"{PROJECT}:orders-pg",
        region="us-central1",
        engine="postgres",
        engine_version="15",
        instance_class="db-custom-2-7680",
        status="available",
        tags={"env": "prod", "team": "orders"},
        created_at=CREATED,
        replica=False,
    )
    replica = found[f"{PROJECT}:orders-pg-replica"]
    assert (replica.replica, replica.status, replica.region) == (True, "available", "us-east1")
    assert replica.replica_source == f"{PROJECT}:orders-pg"
    assert "it replicates snooze-dev:orders-pg" in (why_not_stoppable(StopFacts.of(replica)) or "")
    stopped = found[f"{PROJECT}:legacy-mysql"]
    assert (stopped.status, stopped.engine, stopped.engine_version) == (
        "stopped",
        "mysql",
        "8.0.31",
    )
    assert (stopped.instance_class, stopped.tags, stopped.replica) == (
        "db-n1-standard-1",
        {},
        False,
    )


def test_listing_follows_next_page_token_over_every_page(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    names = [f"db-{i:02d}" for i in range(11)]
    for name in names:
        fake.sql.add_instance(
            PROJECT, name, database_version="POSTGRES_16", region="us-central1", tier="db-f1-micro"
        )
    gcp = client(account(fake.url, key))

    found = list_instances(gcp, PROJECT, page_size=4)

    assert [i.provider_id for i in found] == [f"{PROJECT}:{n}" for n in names]
    pages = fake.faults.served("/instances")
    assert [r.query.get("pageToken") is None for r in pages] == [True, False, False]
    assert all(r.query["maxResults"] == ["4"] for r in pages)
    assert gcp.api_calls == 3


def test_a_scan_reports_each_project_and_a_refused_one_does_not_stop_the_others(
    fake: GcpFake, key: ServiceAccountKey
) -> None:
    _fleet(fake)
    gcp_account = account(fake.url, key, projects=(OTHER_PROJECT, PROJECT))

    first, second = scan_account(client(gcp_account), gcp_account)

    assert (first.region, first.ok, first.instances) == (OTHER_PROJECT, False, ())
    assert first.error is not None
    assert "cloudsql.instances.list" in first.error and OTHER_PROJECT in first.error
    assert (second.region, second.ok, len(second.instances)) == (PROJECT, True, 3)


@pytest.mark.parametrize(
    ("database_version", "engine", "version"),
    [
        ("POSTGRES_15", "postgres", "15"),
        ("POSTGRES_9_6", "postgres", "9.6"),
        ("MYSQL_8_0", "mysql", "8.0"),
        ("MYSQL_8_4", "mysql", "8.4"),
        ("SQLSERVER_2019_STANDARD", "sqlserver", "2019-standard"),
        ("SQLSERVER_2022_ENTERPRISE", "sqlserver", "2022-enterprise"),
        ("", "", ""),
    ],
)
def test_engine_and_version_come_from_database_version(
    database_version: str, engine: str, version: str
) -> None:
    assert engine_and_version(database_version) == (engine, version)


@pytest.mark.parametrize(
    ("state", "policy", "expected"),
    [
        ("RUNNABLE", "ALWAYS", "available"),
        ("RUNNABLE", "NEVER", "stopped"),  # RUNNABLE alone also means "stopped by owner"
        ("SUSPENDED", "ALWAYS", "suspended"),
        ("MAINTENANCE", "ALWAYS", "maintenance"),
        ("PENDING_CREATE", "ALWAYS", "creating"),
        ("SQL_INSTANCE_STATE_UNSPECIFIED", "ALWAYS", "unknown"),
    ],
)
def test_status_is_stopped_only_for_a_runnable_instance_whose_policy_is_never(
    state: str, policy: str, expected: str
) -> None:
    assert status({"state": state, "settings": {"activationPolicy": policy}}) == expected
