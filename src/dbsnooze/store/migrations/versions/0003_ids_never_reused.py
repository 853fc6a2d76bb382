"""ids never reused; a job outlives its instance

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000

SQLite hands out max(id) + 1, so deleting the newest account, instance, job or event gave its
id to the next one and the audit log became ambiguous; AUTOINCREMENT never reuses an id.
(PostgreSQL sequences never did.) A job keeps its row, cancelled, when its instance goes with a
deleted account, so jobs.instance_id becomes NULL instead of taking the job with it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("cloud_accounts", "instances", "events", "jobs")
JOB_INSTANCE_FK = "fk_jobs_instance_id_instances"


def upgrade() -> None:
    _rebuild(autoincrement=True, on_instance_delete="SET NULL")


def downgrade() -> None:
    _rebuild(autoincrement=False, on_instance_delete="CASCADE")


def _rebuild(autoincrement: bool, on_instance_delete: str) -> None:
    """On SQLite every table is rebuilt (AUTOINCREMENT is part of CREATE TABLE); on PostgreSQL
    only the foreign key changes. env.py turns SQLite's foreign keys off meanwhile, so dropping
    an old table cascades to nothing."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        with op.batch_alter_table(
            table,
            recreate="always" if sqlite else "auto",
            table_kwargs={"sqlite_autoincrement": autoincrement},
        ) as batch:
            if table == "jobs":
                batch.drop_constraint(JOB_INSTANCE_FK, type_="foreignkey")
                batch.create_foreign_key(
                    JOB_INSTANCE_FK,
                    "instances",
                    ["instance_id"],
                    ["id"],
                    ondelete=on_instance_delete,
                )
