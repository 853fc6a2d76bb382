"""The command line's security helpers: the IAM policy, and the endpoint allow-list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbsnooze.cli import app
from dbsnooze.providers.aws.permissions import least_privilege_policy
from listener import Listener

AMBIENT_KEY_ID = "AKIAAMBIENTSERVER001"


def test_iam_policy_prints_the_policy_built_from_the_call_sites() -> None:
    result = CliRunner().invoke(app, ["iam-policy"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == least_privilege_policy(include_assume_role=True)
    assert "rds:DescribeDBInstances" in result.stdout
    assert "rds:StopDBCluster" in result.stdout


def test_iam_policy_read_only_without_assume_role() -> None:
    result = CliRunner().invoke(app, ["iam-policy", "--read-only", "--no-assume-role"])

    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)
    assert policy == least_privilege_policy(read_only=True)
    assert "sts:AssumeRole" not in result.stdout
    assert "rds:StopDBInstance" not in result.stdout
    assert "rds:DescribeDBClusters" in result.stdout


@pytest.fixture()
def listener() -> Iterator[Listener]:
    with Listener() as server:
        yield server


def test_accounts_add_refuses_an_endpoint_outside_the_list_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    monkeypatch.setenv("DBSNOOZE_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("DBSNOOZE_SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("DBSNOOZE_ALLOWED_ENDPOINTS", f"127.0.0.1:{listener.port + 1},*.example")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AMBIENT_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret-of-the-server-000000000")

    add = ["accounts", "add", "stranger", "--region", "us-east-1", "--endpoint-url", listener.url]
    result = CliRunner().invoke(app, add)

    assert result.exit_code == 1
    assert "endpoint_not_allowed" in result.output
    assert listener.received == []
