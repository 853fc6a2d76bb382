"""`python -m dbsnooze` is the `dbsnooze` command."""

from __future__ import annotations

from dbsnooze.cli import main

main()
