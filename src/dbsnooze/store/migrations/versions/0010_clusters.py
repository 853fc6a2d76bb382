"""DB clusters as rows of instances: the unit a row stands for, a cluster's members and the
facts that decide whether it can be stopped (engine mode, global database)

Every row stored so far is an instance. The identity constraint gains the unit: RDS lets a
cluster and an instance share an identifier.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
# SQLite rebuilds a table to change a constraint; the rebuilt one keeps AUTOINCREMENT (0003).
KEEP_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(
            sa.Column("unit", sa.String(length=16), server_default="instance", nullable=False)
        )
        batch_op.add_column(sa.Column("members", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("engine_mode", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("global_cluster", sa.String(length=255), nullable=True))
        batch_op.drop_constraint("uq_instances_identity", type_="unique")
        batch_op.create_unique_constraint(
            "uq_instances_identity", ["account_id", "region", "unit", "provider_id"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM instances WHERE unit = 'cluster'")
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint("uq_instances_identity", type_="unique")
        batch_op.create_unique_constraint(
            "uq_instances_identity", ["account_id", "region", "provider_id"]
        )
        batch_op.drop_column("global_cluster")
        batch_op.drop_column("engine_mode")
        batch_op.drop_column("members")
        batch_op.drop_column("unit")
