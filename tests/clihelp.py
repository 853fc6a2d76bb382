"""Running the `dbsnooze` command in-process, as the CLI tests do."""

from __future__ import annotations

from typer.testing import CliRunner

from dbsnooze import cli


def run(*args: str) -> tuple[int, str]:
    """Exit code and output of `dbsnooze ARGS`."""
    result = CliRunner().invoke(cli.app, list(args))
    return result.exit_code, result.output
