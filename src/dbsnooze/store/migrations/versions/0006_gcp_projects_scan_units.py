"""GCP accounts' projects; instances' scan unit and read-replica flag

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
# SQLite rebuilds a table to change a column; the rebuilt one keeps AUTOINCREMENT (0003).
KEEP_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("cloud_accounts", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(
            sa.Column("projects", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column("scan_unit", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("replica", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Every instance stored so far is AWS's, scanned region by region.
    op.execute("UPDATE instances SET scan_unit = region")
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column("scan_unit", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_instances_scan_unit", ["account_id", "scan_unit"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instances", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_index("ix_instances_scan_unit")
        batch_op.drop_column("replica")
        batch_op.drop_column("scan_unit")
    with op.batch_alter_table("cloud_accounts", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column("projects")
