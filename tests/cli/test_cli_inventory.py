"""The command line against a real store and the moto emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbsnooze.cli import app
from dbsnooze.demo.emulator import Emulator
from faultproxy import FaultProxy

SECRET = "cli-secret-access-key-never-printed-000"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> dict[str, str]:
    values = {
        "DBSNOOZE_DATABASE_URL": store_url,
        "DBSNOOZE_SECRET_KEY_FILE": str(tmp_path / "key"),
        "DBSNOOZE_AUTO_BACKFILL": "false",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr)."""
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def _json(*args: str) -> object:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_accounts_discover_and_list(env: dict[str, str], moto: Emulator, proxy: FaultProxy) -> None:
    rds = moto.client("rds", "eu-west-1")
    rds.create_db_instance(
        DBInstanceIdentifier="cli-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password123",
    )  # fmt: skip
    proxy.refuse("DescribeDBClusters")  # a policy from before clusters: works, with a warning
    denied = "warning: rds:DescribeDBClusters is denied in eu-west-1"
    code, out = _run(
        "accounts", "add", "main", "--region", "eu-west-1", "--auth", "static_keys",
        "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint-url", proxy.url,
        env={"AWS_SECRET_ACCESS_KEY": SECRET},
    )  # fmt: skip
    assert code == 0, out
    assert "added account" in out and denied in out
    accounts = _json("accounts", "list")
    assert isinstance(accounts, list)
    assert accounts[0]["name"] == "main"
    assert accounts[0]["hint"] == "AKIA…MPLE"
    assert SECRET not in json.dumps(accounts)
    code, out = _run("accounts", "test", str(accounts[0]["id"]))
    assert code == 0 and denied in out
    code, out = _run("discover")
    assert code == 0, out
    assert "warning: account main: rds:DescribeDBClusters is denied in eu-west-1" in out
    instances = _json("instances", "list")
    assert isinstance(instances, list)
    assert [i["name"] for i in instances] == ["cli-db"]
    code, out = _run("accounts", "remove", str(accounts[0]["id"]), "--yes")
    assert code == 0
    assert _json("accounts", "list") == []


def test_rejected_credentials_are_explained(env: dict[str, str]) -> None:
    code, out = _run(
        "accounts", "add", "nowhere", "--region", "us-east-1", "--auth", "static_keys",
        "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--endpoint-url", "http://127.0.0.1:9",
        env={"AWS_SECRET_ACCESS_KEY": SECRET},
    )  # fmt: skip
    assert code == 1
    assert "endpoint_unreachable" in out
    assert SECRET not in out


def test_unknown_account_is_an_error(env: dict[str, str]) -> None:
    code, out = _run("accounts", "test", "42")
    assert code == 1
    assert "no cloud account with id 42" in out


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_serve_refuses_an_open_api_off_loopback(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dbsnooze", "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True, text=True, timeout=60, env={**env, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "DBSNOOZE_API_TOKEN" in result.stderr
