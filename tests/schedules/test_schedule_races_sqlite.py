"""Workers deciding about one instance at once on the embedded SQLite store (see racehelp): its
open action, its override, its schedule.

The same scenarios as on PostgreSQL, collected here to run on SQLite. There, a row lock
(`actions.locked`, `overrides.expire`) or a named lock (`locks.hold`, schedule writes) takes
the database's write lock (store/sqlite.py). Without it the second worker decided on what it
read before the first committed: a skip overwrote the stop another worker had claimed, an
expiry dropped the override just set again, and a recommendation applied twice failed (500)
on the schedule's unique name.
"""

from __future__ import annotations

import pytest
import test_schedule_races_postgres as on_postgres

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

planned = on_postgres.planned  # the fixture
test_a_stop_guard_skip_never_overwrites_another_workers_claim = (
    on_postgres.test_a_stop_guard_skip_never_overwrites_another_workers_claim
)
test_an_override_set_again_as_its_predecessor_expires_is_kept = (
    on_postgres.test_an_override_set_again_as_its_predecessor_expires_is_kept
)
test_a_recommendation_applied_twice_at_once_makes_one_schedule = (
    on_postgres.test_a_recommendation_applied_twice_at_once_makes_one_schedule
)
