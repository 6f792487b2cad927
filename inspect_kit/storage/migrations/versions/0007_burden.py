"""burden: joint visits (综合查一次), cap exclusions of a frame, coordination of a commitment

Revision ID: 0007
Revises: 0006

Self-contained (imports no live code). joint_visits and joint_visit_tasks are append-only (no
UPDATE, no DELETE, no TRUNCATE), with the same triggers as 0004/0005. The nullable columns
frames.cap_excluded (the entities left out at their yearly cap, with the records behind each
count) and commitments.coordination (the PRN coordination of a draw) are NULL on older rows; a
NULL is left out of a record's logged content, so entries logged before this revision verify.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NEW_APPEND_ONLY = ("joint_visits", "joint_visit_tasks")


def _row_triggers(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION inspect_kit_append_only()"]
    return [f"CREATE TRIGGER {table}_no_{op_.lower()} BEFORE {op_} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'inspect-kit: {table} is append-only (no {op_})'); END"
            for op_ in ("UPDATE", "DELETE")]


def upgrade() -> None:
    op.create_table(
        "joint_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_no", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("lead_unit", sa.String(length=32), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_joint_visits_entity_id_entities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_visits")),
        sa.UniqueConstraint("visit_no", name=op.f("uq_joint_visits_visit_no")),
    )
    op.create_index(op.f("ix_joint_visits_period"), "joint_visits", ["period"])
    op.create_table(
        "joint_visit_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("joint_visit_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["joint_visit_id"], ["joint_visits.id"],
                                name=op.f("fk_joint_visit_tasks_joint_visit_id_joint_visits")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_joint_visit_tasks_task_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_visit_tasks")),
        sa.UniqueConstraint("task_id", name=op.f("uq_joint_visit_tasks_task_id")),
    )
    op.create_index(op.f("ix_joint_visit_tasks_joint_visit_id"), "joint_visit_tasks", ["joint_visit_id"])
    # New nullable columns on append-only tables: plain ADD COLUMN (no table rebuild, triggers kept).
    op.add_column("frames", sa.Column("cap_excluded", sa.JSON(), nullable=True))
    op.add_column("commitments", sa.Column("coordination", sa.JSON(), nullable=True))
    dialect = op.get_bind().dialect.name
    for table in NEW_APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION inspect_kit_append_only()")
        for stmt in _row_triggers(dialect, table):
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in NEW_APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for op_ in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op_}")
    op.drop_column("commitments", "coordination")
    op.drop_column("frames", "cap_excluded")
    op.drop_table("joint_visit_tasks")
    op.drop_table("joint_visits")
