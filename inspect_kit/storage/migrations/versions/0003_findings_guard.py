"""findings guard: revision numbers; findings never deleted, changed only with a new revision

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:30:00

Adds `findings.revision` (the number of the finding's latest revision) and
`finding_revisions.revision` (1, 2, 3 … per finding, unique with finding_id), numbers the
existing history in id order, and adds triggers: DELETE (and TRUNCATE) on findings refused; a new
finding starts at revision 1; an UPDATE raises `revision` by exactly one, to a revision that
finding_revisions already holds, and never changes id, task_id or created_at. See
inspect_kit/storage/models/findings.py. The SQL is copied here on purpose (a migration must not
change when live code does).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_DELETED = "inspect-kit: findings are never deleted (a recorded result cannot disappear)"
_NEW = "inspect-kit: a new finding starts at revision 1, once per task"
_UPDATED = ("inspect-kit: a finding changes only with a new revision (revision + 1, recorded in "
            "finding_revisions first; id, task_id and created_at never change)")

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION inspect_kit_findings_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'inspect-kit: % is append-only (no TRUNCATE)', TG_TABLE_NAME;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION '{_DELETED}';
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.revision IS DISTINCT FROM 1 THEN
      RAISE EXCEPTION '{_NEW}';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.task_id IS DISTINCT FROM OLD.task_id
     OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.revision IS DISTINCT FROM OLD.revision + 1
     OR NOT EXISTS (SELECT 1 FROM finding_revisions r WHERE r.finding_id = NEW.id AND r.revision = NEW.revision) THEN
    RAISE EXCEPTION '{_UPDATED}';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

PG_TRIGGERS = (
    "CREATE TRIGGER findings_guard BEFORE INSERT OR UPDATE OR DELETE ON findings "
    "FOR EACH ROW EXECUTE FUNCTION inspect_kit_findings_guard()",
    "CREATE TRIGGER findings_no_truncate BEFORE TRUNCATE ON findings "
    "FOR EACH STATEMENT EXECUTE FUNCTION inspect_kit_findings_guard()",
    "CREATE TRIGGER finding_revisions_no_truncate BEFORE TRUNCATE ON finding_revisions "
    "FOR EACH STATEMENT EXECUTE FUNCTION inspect_kit_findings_guard()",
)
PG_DROP = (
    "DROP TRIGGER IF EXISTS finding_revisions_no_truncate ON finding_revisions",
    "DROP TRIGGER IF EXISTS findings_no_truncate ON findings",
    "DROP TRIGGER IF EXISTS findings_guard ON findings",
    "DROP FUNCTION IF EXISTS inspect_kit_findings_guard()",
)

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER findings_no_delete BEFORE DELETE ON findings BEGIN SELECT RAISE(ABORT, '{_DELETED}'); END",
    # EXISTS: an INSERT OR REPLACE would otherwise delete the stored row without a DELETE trigger
    f"CREATE TRIGGER findings_new_revision BEFORE INSERT ON findings WHEN NEW.revision IS NOT 1 "
    f"OR EXISTS (SELECT 1 FROM findings f WHERE f.id = NEW.id OR f.task_id = NEW.task_id) "
    f"BEGIN SELECT RAISE(ABORT, '{_NEW}'); END",
    f"CREATE TRIGGER findings_revised BEFORE UPDATE ON findings WHEN NEW.id IS NOT OLD.id "
    f"OR NEW.task_id IS NOT OLD.task_id OR NEW.created_at IS NOT OLD.created_at "
    f"OR NEW.revision IS NOT OLD.revision + 1 "
    f"OR NOT EXISTS (SELECT 1 FROM finding_revisions r WHERE r.finding_id = NEW.id AND r.revision = NEW.revision) "
    f"BEGIN SELECT RAISE(ABORT, '{_UPDATED}'); END",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS findings_revised", "DROP TRIGGER IF EXISTS findings_new_revision",
               "DROP TRIGGER IF EXISTS findings_no_delete")

# finding_revisions is append-only (0002); numbering its existing rows needs one UPDATE.
SQLITE_REVISIONS_NO_UPDATE = ("CREATE TRIGGER finding_revisions_no_update BEFORE UPDATE ON finding_revisions BEGIN "
                              "SELECT RAISE(ABORT, 'inspect-kit: finding_revisions is append-only (no UPDATE)'); END")
NUMBER_REVISIONS = ("UPDATE finding_revisions SET revision = (SELECT count(*) FROM finding_revisions r "
                    "WHERE r.finding_id = finding_revisions.finding_id AND r.id <= finding_revisions.id)")
NUMBER_FINDINGS = ("UPDATE findings SET revision = (SELECT count(*) FROM finding_revisions r "
                   "WHERE r.finding_id = findings.id)")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column('findings', sa.Column('revision', sa.Integer(), server_default=sa.text('1'), nullable=False))
    op.add_column('finding_revisions', sa.Column('revision', sa.Integer(), server_default=sa.text('0'),
                                                 nullable=False))
    if dialect == "postgresql":
        op.execute("ALTER TABLE finding_revisions DISABLE TRIGGER finding_revisions_append_only")
        op.execute(NUMBER_REVISIONS)
        op.execute("ALTER TABLE finding_revisions ENABLE TRIGGER finding_revisions_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS finding_revisions_no_update")
        op.execute(NUMBER_REVISIONS)
        op.execute(SQLITE_REVISIONS_NO_UPDATE)
    op.execute(NUMBER_FINDINGS)
    op.create_index('ux_finding_revisions_finding_id_revision', 'finding_revisions', ['finding_id', 'revision'],
                    unique=True)
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for stmt in PG_TRIGGERS:
            op.execute(stmt)
    else:
        for stmt in SQLITE_TRIGGERS:
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in (PG_DROP if dialect == "postgresql" else SQLITE_DROP):
        op.execute(stmt)
    op.drop_index('ux_finding_revisions_finding_id_revision', table_name='finding_revisions')
    if dialect == "postgresql":
        op.drop_column('finding_revisions', 'revision')
        op.drop_column('findings', 'revision')
    else:  # SQLite >= 3.35 drops a column in place (a batch copy would fight the foreign keys)
        op.execute("ALTER TABLE finding_revisions DROP COLUMN revision")
        op.execute("ALTER TABLE findings DROP COLUMN revision")
