"""sleep recommendations, prices, stop facts of instances, account time zones

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dbsnooze.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# SQLite may rebuild a table to alter it: the rebuilt one keeps AUTOINCREMENT (see 0003).
KEEP_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(
            sa.Column("multi_az", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("replica_source", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("read_replicas", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("cluster_id", sa.String(length=255), nullable=True))
    with op.batch_alter_table("cloud_accounts", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    op.create_table(
        "prices",
        sa.Column("instance_class", sa.String(length=64), nullable=False),
        sa.Column("engine", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("deployment", sa.String(length=16), nullable=False),
        sa.Column("usd_per_hour", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "instance_class", "engine", "region", "deployment", name=op.f("pk_prices")
        ),
    )
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("timezone_source", sa.String(length=16), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("windows_key", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("hours_per_week", sa.Float(), nullable=False),
        sa.Column("saving_hours_month", sa.Float(), nullable=False),
        sa.Column("usd_per_hour", sa.Float(), nullable=True),
        sa.Column("price_source", sa.String(length=16), nullable=True),
        sa.Column("saving_usd_month", sa.Float(), nullable=True),
        sa.Column("backtest", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("dismissed_key", sa.Text(), nullable=True),
        sa.Column("dismissed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("dismissed_by", sa.String(length=128), nullable=True),
        sa.Column("applied_key", sa.Text(), nullable=True),
        sa.Column("applied_windows", sa.JSON(), nullable=True),
        sa.Column("applied_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_recommendations_instance_id_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_recommendations_instance_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("recommendations")
    op.drop_table("prices")
    with op.batch_alter_table("cloud_accounts", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column("timezone")
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column("cluster_id")
        batch_op.drop_column("read_replicas")
        batch_op.drop_column("replica_source")
        batch_op.drop_column("multi_az")
