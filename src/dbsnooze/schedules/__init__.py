"""Schedules (SPEC §11): when each database should sleep, and the reconciler that makes it so."""
