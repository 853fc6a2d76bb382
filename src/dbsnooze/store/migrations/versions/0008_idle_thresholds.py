"""idle thresholds per instance: the summaries classify hours by the analysis's rule

The table starts empty: until the analysis runner stores an instance's thresholds, its summary
uses the rule's default thresholds with no learned connection floor. Every summary is then
rebuilt from the stored history by that rule (this also builds the summaries of history stored
before 0005, which left its new table empty).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dbsnooze.store import summaries

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idle_thresholds",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=False),
        sa.Column("iops", sa.Float(), nullable=False),
        sa.Column("connection_floor", sa.Float(), nullable=False),
        sa.Column("connections_margin", sa.Float(), nullable=False),
        sa.Column("uses_iops", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_idle_thresholds_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_idle_thresholds")),
    )
    summaries.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("idle_thresholds")
