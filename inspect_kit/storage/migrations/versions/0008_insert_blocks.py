"""insert blocks: an entity import's insert history as one row per block of entities

Revision ID: 0008
Revises: 0007

Self-contained (imports no live code). New append-only table registry_insert_blocks (no UPDATE,
no DELETE, no TRUNCATE; the same triggers as 0007) holding the values of a block of inserted
entities; new nullable column entities.insert_block_id pointing an entity at its block. Existing
rows are kept as they are: an entity inserted before this revision has insert_block_id NULL and
its insert stays a registry_changes row (append-only: it could not be moved anyway), read as
before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "registry_insert_blocks"


def _row_triggers(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION inspect_kit_append_only()"]
    return [f"CREATE TRIGGER {table}_no_{op_.lower()} BEFORE {op_} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'inspect-kit: {table} is append-only (no {op_})'); END"
            for op_ in ("UPDATE", "DELETE")]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"],
                                name=op.f("fk_registry_insert_blocks_batch_id_import_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_insert_blocks")),
    )
    op.create_index(op.f("ix_registry_insert_blocks_batch_id"), TABLE, ["batch_id"])
    op.add_column("entities", sa.Column("insert_block_id", sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION inspect_kit_append_only()")
    for stmt in _row_triggers(dialect, TABLE):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    else:
        for op_ in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op_}")
    op.drop_column("entities", "insert_block_id")
    op.drop_index(op.f("ix_registry_insert_blocks_batch_id"), table_name=TABLE)
    op.drop_table(TABLE)
