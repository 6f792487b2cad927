"""trust: commitments, sealed draws, per-draw seeds, the transparency log, TRUNCATE guards

Revision ID: 0004
Revises: 0003

Self-contained (imports no live code): the append-only trigger statements and the genesis entry's
hashing are written out here as they were when this revision was made.
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_APPEND_ONLY = ("commitments", "seal_salts", "unsealings", "log_entries", "log_genesis")
ALL_APPEND_ONLY = ("frames", "draws", "tasks", "registry_changes", "assignments", "team_members",
                   "finding_revisions", "notices", "scoring_runs", "manual_values") + NEW_APPEND_ONLY
# finding_revisions has its TRUNCATE guard from revision 0003.
TRUNCATE_GUARDED = tuple(t for t in ALL_APPEND_ONLY if t != "finding_revisions")
# Tables whose records the log covers, by log kind (inspect_kit.transparency.LOGGED at this revision).
LOGGED_TABLES = (("import_batch", "import_batches"), ("frame", "frames"), ("commitment", "commitments"),
                 ("draw", "draws"), ("unsealing", "unsealings"), ("assignment", "assignments"),
                 ("team_member", "team_members"), ("finding_revision", "finding_revisions"),
                 ("notice", "notices"), ("manual_value", "manual_values"), ("scoring_run", "scoring_runs"))

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION inspect_kit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'inspect-kit: % is append-only (no UPDATE, DELETE or TRUNCATE)', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql
"""


def _row_triggers(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION inspect_kit_append_only()"]
    return [f"CREATE TRIGGER {table}_no_{op_.lower()} BEFORE {op_} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'inspect-kit: {table} is append-only (no {op_})'); END"
            for op_ in ("UPDATE", "DELETE")]


def _canonical(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def upgrade() -> None:
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("frame_id", sa.Integer(), nullable=False),
        sa.Column("matter_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("committed_at", sa.DateTime(), nullable=False),
        sa.Column("frame_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("ticket_group", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("salt_sha256", sa.String(length=64), nullable=True),
        sa.Column("one_step", sa.Boolean(), nullable=False),
        sa.Column("redraw_reason", sa.Text(), nullable=True),
        sa.Column("commitment_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["frame_id"], ["frames.id"], name=op.f("fk_commitments_frame_id_frames")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint("frame_id", name=op.f("uq_commitments_frame_id")),
    )
    op.create_index(op.f("ix_commitments_matter_code"), "commitments", ["matter_code"])
    op.create_index(op.f("ix_commitments_period"), "commitments", ["period"])
    op.create_table(
        "seal_salts",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitments.id"],
                                name=op.f("fk_seal_salts_commitment_id_commitments")),
        sa.PrimaryKeyConstraint("commitment_id", name=op.f("pk_seal_salts")),
    )
    op.create_table(
        "unsealings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("unsealed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitments.id"],
                                name=op.f("fk_unsealings_commitment_id_commitments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unsealings")),
        sa.UniqueConstraint("commitment_id", name=op.f("uq_unsealings_commitment_id")),
    )
    op.create_table(
        "log_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_log_entries")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_log_entries_entry_hash")),
    )
    op.create_index("ix_log_entries_kind_record", "log_entries", ["kind", "record_id"])
    op.create_table(
        "log_genesis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_genesis")),
    )
    # New nullable columns on an append-only table: plain ADD COLUMN (no table rebuild, triggers kept).
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":  # SQLite adds a column's foreign key only inline
        op.execute("ALTER TABLE draws ADD COLUMN commitment_id INTEGER "
                   "CONSTRAINT fk_draws_commitment_id_commitments REFERENCES commitments (id)")
    else:
        op.add_column("draws", sa.Column("commitment_id", sa.Integer(), nullable=True))
    op.add_column("draws", sa.Column("derived_seed", sa.String(length=64), nullable=True))
    op.add_column("draws", sa.Column("seed_evidence", sa.JSON(), nullable=True))
    op.create_index("ux_draws_commitment_id", "draws", ["commitment_id"], unique=True)
    if dialect == "postgresql":
        op.create_foreign_key(op.f("fk_draws_commitment_id_commitments"), "draws", "commitments",
                              ["commitment_id"], ["id"])
        op.execute(PG_FUNCTION)
        for table in TRUNCATE_GUARDED:  # row triggers do not see TRUNCATE: a statement trigger does
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION inspect_kit_append_only()")
    for table in NEW_APPEND_ONLY:
        for stmt in _row_triggers(dialect, table):
            op.execute(stmt)
    # The genesis entry: what existed before the log (counts and highest ids per logged table).
    existing = {}
    for kind, table in LOGGED_TABLES:
        count, max_id = bind.execute(sa.text(f"SELECT count(*), max(id) FROM {table}")).one()
        existing[kind] = {"count": int(count), "max_id": int(max_id or 0)}
    content = {"genesis": "inspect-kit transparency log", "existing": existing}
    content_sha = hashlib.sha256(_canonical(content)).hexdigest()
    prev = "0" * 64
    entry = {"seq": 1, "kind": "genesis", "record_id": None, "content_sha256": content_sha, "prev": prev, "at": None}
    bind.execute(sa.text("INSERT INTO log_entries (seq, kind, record_id, content_sha256, prev_hash, entry_hash, at) "
                         "VALUES (1, 'genesis', NULL, :c, :p, :h, NULL)"),
                 {"c": content_sha, "p": prev, "h": hashlib.sha256(_canonical(entry)).hexdigest()})
    bind.execute(sa.text("INSERT INTO log_genesis (id, content) VALUES (1, :c)"),
                 {"c": _canonical(content).decode("utf-8")})


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.drop_table("log_genesis")
    if dialect == "postgresql":
        for table in TRUNCATE_GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.drop_constraint(op.f("fk_draws_commitment_id_commitments"), "draws", type_="foreignkey")
    for table in NEW_APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.drop_index("ux_draws_commitment_id", table_name="draws")
    op.drop_column("draws", "seed_evidence")
    op.drop_column("draws", "derived_seed")
    op.drop_column("draws", "commitment_id")
    op.drop_index("ix_log_entries_kind_record", table_name="log_entries")
    op.drop_table("log_entries")
    op.drop_table("unsealings")
    op.drop_table("seal_salts")
    op.drop_index(op.f("ix_commitments_period"), table_name="commitments")
    op.drop_index(op.f("ix_commitments_matter_code"), table_name="commitments")
    op.drop_table("commitments")
