"""provisional hours, refetched hours and progress of jobs

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A sample fetched before its hour was final (the hour ended at most ten minutes before the
# fetch) is provisional. Spelled per dialect because hours are text on SQLite.
_PROVISIONAL = {
    "postgresql": "fetched_at <= hour + interval '70 minutes'",
    "sqlite": "fetched_at <= strftime('%Y-%m-%d %H:%M:%S', hour, '+70 minutes') || '.000000'",
}


def upgrade() -> None:
    with op.batch_alter_table("metric_samples", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("final", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE metric_samples SET final = false WHERE {_PROVISIONAL[dialect]}")
    with op.batch_alter_table("metric_samples", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_samples_provisional",
            ["hour"],
            unique=False,
            sqlite_where=sa.text("final = 0"),
            postgresql_where=sa.text("NOT final"),
        )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hours_refetched", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("progress", sa.Float(), server_default="0", nullable=False))
    op.execute(
        "UPDATE jobs SET progress = CASE WHEN state = 'succeeded' THEN 1.0 "
        "WHEN hours_total > 0 THEN (hours_skipped + hours_backfilled + hours_empty) * 1.0 "
        "/ hours_total ELSE 0 END"
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("progress")
        batch_op.drop_column("hours_refetched")
    with op.batch_alter_table("metric_samples", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_metric_samples_provisional",
            sqlite_where=sa.text("final = 0"),
            postgresql_where=sa.text("NOT final"),
        )
        batch_op.drop_column("final")
