"""schedules.origin_instance_id: the instance whose applied sleep recommendation made the
schedule, so applying it again finds the schedule after a rename

Schedules made by an applied recommendation before this revision are named "sleep: <instance>"
and assigned to that instance: those get their origin here.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
# SQLite rebuilds a table to add a foreign key; the rebuilt one keeps AUTOINCREMENT (0003).
KEEP_IDS = {"sqlite_autoincrement": True}

MADE_BY_APPLYING = """
UPDATE schedules SET origin_instance_id = (
    SELECT MIN(a.instance_id)
    FROM schedule_assignments a JOIN instances i ON i.id = a.instance_id
    WHERE a.schedule_id = schedules.id
        AND schedules.name = substr('sleep: ' || i.provider_id, 1, 128)
)
"""


def upgrade() -> None:
    with op.batch_alter_table("schedules", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column("origin_instance_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_schedules_origin_instance_id"), ["origin_instance_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_schedules_origin_instance_id_instances"),
            "instances",
            ["origin_instance_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(MADE_BY_APPLYING)


def downgrade() -> None:
    with op.batch_alter_table("schedules", table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_schedules_origin_instance_id_instances"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_schedules_origin_instance_id"))
        batch_op.drop_column("origin_instance_id")
