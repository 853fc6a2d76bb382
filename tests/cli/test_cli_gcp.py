"""GCP accounts and the custom role from the command line, against a real store and the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbsnooze.cli import app
from dbsnooze.demo.gcpfake import GcpFake, ServiceAccountKey
from dbsnooze.demo.gcpfake.auth import ALL_PERMISSIONS
from gcphelp import OTHER_PROJECT, PROJECT, add_instances, fake, gcp_env, key

__all__ = ["fake", "gcp_env", "key"]  # fixtures used by name


@pytest.fixture()
def env(gcp_env: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    monkeypatch.setenv("DBSNOOZE_DATABASE_URL", store_url)
    monkeypatch.setenv("DBSNOOZE_SECRET_KEY_FILE", str(gcp_env / "secret"))
    monkeypatch.setenv("DBSNOOZE_AUTO_BACKFILL", "false")


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def _json(*args: str) -> object:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _add(fake: GcpFake, name: str, *extra: str, stdin: str | None = None) -> tuple[int, str]:
    return _run("accounts", "add", name, "--provider", "gcp", "--project", PROJECT,
                "--endpoint-url", fake.url, *extra, stdin=stdin)  # fmt: skip


def test_a_key_from_a_file_or_stdin_adds_an_account_whose_instances_are_discovered(
    env: None, fake: GcpFake, key: ServiceAccountKey, gcp_env: Path
) -> None:
    add_instances(fake, PROJECT, {"pg-a": ("POSTGRES_15", "us-central1")})
    key_file = gcp_env / "key.json"
    key_file.write_text(json.dumps(key.info))

    from_file = _add(fake, "from-file", "--key-file", str(key_file))
    from_stdin = _add(fake, "from-stdin", "--key-file", "-", stdin=json.dumps(key.info))
    accounts = _json("accounts", "list")
    discovered = _run("discover")
    instances = _json("instances", "list")
    backfilled = _run("backfill", "1", "--days", "1")

    assert from_file[0] == 0 and "added account" in from_file[1], from_file[1]
    assert from_stdin[0] == 0, from_stdin[1]
    assert isinstance(accounts, list) and isinstance(instances, list)
    assert [(a["name"], a["provider"], a["regions"]) for a in accounts] == [
        ("from-file", "gcp", PROJECT),
        ("from-stdin", "gcp", PROJECT),
    ]
    assert accounts[0]["hint"] == f"{key.key_id[:4]}…{key.key_id[-4:]}"
    assert discovered[0] == 0, discovered[1]
    assert [i["name"] for i in instances] == [f"{PROJECT}:pg-a"] * 2
    assert backfilled[0] == 0, backfilled[1]  # the fake holds no data: every hour is empty
    assert "0 hours backfilled, 0 skipped, 24 empty of 24; 24 Cloud Monitoring calls" in " ".join(
        backfilled[1].split()
    )
    for output in (from_file[1], from_stdin[1], json.dumps(accounts), discovered[1]):
        assert key.key_id not in output and "PRIVATE KEY" not in output


def test_what_failed_is_said_and_nothing_is_saved(
    env: None, fake: GcpFake, key: ServiceAccountKey, gcp_env: Path
) -> None:
    key_file = gcp_env / "key.json"
    key_file.write_text(json.dumps(key.info))

    other = _run("accounts", "add", "other", "--provider", "gcp", "--project", OTHER_PROJECT,
                 "--endpoint-url", fake.url, "--key-file", str(key_file))  # fmt: skip
    no_key = _add(fake, "no-key")
    no_project = _run("accounts", "add", "x", "--provider", "gcp", "--key-file", str(key_file))
    missing = _add(fake, "missing", "--key-file", str(gcp_env / "nope.json"))

    assert other[0] == 1
    assert "cloudsql.instances.list" in other[1] and OTHER_PROJECT in other[1]
    assert no_key[0] == 1 and "service_account_json" in no_key[1]
    assert no_project[0] == 1 and "at least one project" in no_project[1]
    assert missing[0] == 1 and "cannot read the key file" in missing[1]
    assert _json("accounts", "list") == []
    assert key.key_id not in other[1]


def test_iam_policy_prints_the_gcp_custom_role_from_the_call_sites() -> None:
    result = CliRunner().invoke(app, ["iam-policy", "--provider", "gcp"])
    code, out = result.exit_code, result.stdout
    read_only = json.loads(
        CliRunner().invoke(app, ["iam-policy", "--provider", "gcp", "--read-only"]).stdout
    )

    assert code == 0
    role = json.loads(out)
    assert role["includedPermissions"] == sorted(ALL_PERMISSIONS)
    assert "cloudsql.instances.update" in role["includedPermissions"]
    assert read_only["includedPermissions"] == sorted(
        ALL_PERMISSIONS - {"cloudsql.instances.update"}
    )
