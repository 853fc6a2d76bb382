"""instance summaries for the fleet page, built from the samples already stored

Revision ID: 0005
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dbsnooze.store import summaries
from dbsnooze.store.types import NumberList, UTCDateTime

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_summaries",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("newest_hour", UTCDateTime(timezone=True), nullable=True),
        sa.Column("oldest_sample_hour", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_active_hour", UTCDateTime(timezone=True), nullable=True),
        sa.Column("idle_hours", sa.Integer(), nullable=False),
        sa.Column("awake_hours", sa.Integer(), nullable=False),
        sa.Column("idle_share", sa.Double(), nullable=True),
        sa.Column("hour_flags", NumberList(), nullable=False),
        sa.Column("cpu_averages", NumberList(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_instance_summaries_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_instance_summaries")),
    )
    summaries.rebuild(op.get_bind())  # instances that already hold history get their summary


def downgrade() -> None:
    op.drop_table("instance_summaries")
