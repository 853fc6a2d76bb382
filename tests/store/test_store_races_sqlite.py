"""The store's races on the embedded SQLite store (see racehelp), and its savepoints.

SQLite renders `FOR UPDATE` as nothing, and pysqlite begins a transaction only at its first
write: the reads before it see whatever was committed at that moment. `store/sqlite.py` makes
such a lock take the database's write lock instead, so the second of two writers waits there
for the first to commit, then reads what it wrote; before that, two discoveries of one new
instance both inserted it, and the second failed on the unique identity.
"""

from __future__ import annotations

import pytest
import test_store_races_postgres as on_postgres
from sqlalchemy import func, select

from dbsnooze.context import Context
from dbsnooze.domain import AuthMethod, Credentials, Provider
from dbsnooze.store import accounts as account_store
from dbsnooze.store.accounts import NewAccount
from dbsnooze.store.db import transaction
from dbsnooze.store.tables import AccountRow
from schedhelp import NOW

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

# the same scenario as on PostgreSQL, collected here to run on SQLite
test_two_discoveries_of_a_new_instance_at_once_store_it_once = (
    on_postgres.test_two_discoveries_of_a_new_instance_at_once_store_it_once
)


def test_a_unit_of_work_whose_first_write_is_in_a_savepoint_rolls_back_whole(
    ctx: Context,
) -> None:
    """`accounts.add` inserts in a savepoint (a name taken meanwhile is a 409, not a failed
    transaction). A SAVEPOINT outside a transaction begins one in SQLite, which its RELEASE
    commits: the account used to be stored though the unit of work around it failed."""
    keys = Credentials(AuthMethod.DEFAULT_CHAIN)
    new = NewAccount(Provider.AWS, "main", ("eu-west-1",), keys, None, None)

    with pytest.raises(RuntimeError), transaction(ctx.sessions) as session:
        account_store.add(session, ctx.box, new, NOW)
        raise RuntimeError("what the unit of work does next fails")

    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AccountRow)) == 0
