from __future__ import annotations

import json

from dbsnooze.providers.aws.permissions import (
    CALL_SITES,
    CallSite,
    action_for,
    least_privilege_policy,
    required_actions,
)


def test_every_call_site_is_a_service_action() -> None:
    for site in CALL_SITES:
        assert site.action == f"{site.service}:{site.operation}"


def test_action_for_known_and_unknown_operations() -> None:
    assert action_for("rds", "DescribeDBInstances") == "rds:DescribeDBInstances"
    assert action_for("rds", "StopDBInstance") == "rds:StopDBInstance"


READS = [
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "pricing:GetProducts",
    "rds:DescribeDBClusters",
    "rds:DescribeDBInstances",
]
CHANGES = [
    "rds:StartDBCluster",
    "rds:StartDBInstance",
    "rds:StopDBCluster",
    "rds:StopDBInstance",
]


def test_policy_lists_reads_and_changes_apart_and_skips_get_caller_identity() -> None:
    policy = least_privilege_policy()

    assert policy["Version"] == "2012-10-17"
    read, change = policy["Statement"]
    assert (read["Sid"], read["Effect"], read["Action"]) == ("DbsnoozeRead", "Allow", READS)
    assert (change["Sid"], change["Action"]) == ("DbsnoozeChange", CHANGES)
    assert "sts:GetCallerIdentity" not in json.dumps(policy)


def test_the_read_only_policy_keeps_the_history_and_leaves_out_every_stop_and_start() -> None:
    [statement] = least_privilege_policy(read_only=True)["Statement"]

    assert statement["Action"] == READS
    assert not any(site.changes_state for site in CALL_SITES if site.action in READS)


def test_policy_for_role_users_adds_assume_role_for_the_source_identity() -> None:
    policy = least_privilege_policy(include_assume_role=True)

    assert [statement["Sid"] for statement in policy["Statement"]] == [
        "DbsnoozeRead",
        "DbsnoozeChange",
        "DbsnoozeAssumeRole",
    ]
    assert policy["Statement"][2]["Action"] == ["sts:AssumeRole"]
    assert required_actions(on_source_identity=True) == ("sts:AssumeRole",)


EXTRA = CallSite("rds", "RebootDBInstance", "rds:RebootDBInstance", "x", changes_state=True)


def test_actions_that_change_state_get_their_own_statement_and_read_only_leaves_them_out() -> None:
    sites = (*CALL_SITES, EXTRA)

    full = least_privilege_policy(sites=sites)
    read_only = least_privilege_policy(sites=sites, read_only=True)

    assert [statement["Sid"] for statement in full["Statement"]] == [
        "DbsnoozeRead",
        "DbsnoozeChange",
    ]
    assert "rds:RebootDBInstance" in full["Statement"][1]["Action"]
    assert "rds:RebootDBInstance" not in json.dumps(read_only)
    assert read_only == least_privilege_policy(read_only=True)
