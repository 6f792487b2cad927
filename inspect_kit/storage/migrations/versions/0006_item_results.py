"""item results: a finding's result per checklist item (一表通查)

Revision ID: 0006
Revises: 0005

Adds the nullable JSON column `findings.item_results`: a list of {"code", "result", "category",
"note"} in checklist order, or NULL when the finding records no item (see
inspect_kit.findings.items). A plain ADD COLUMN on both dialects: the findings guard's triggers
(0003) stay as they are, so the column changes only with a new revision like every other field,
and finding_revisions' `changes` name it like any field. Self-contained (imports no live code).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("findings", sa.Column("item_results", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place (a batch copy would drop the guard's triggers)
    op.execute("ALTER TABLE findings DROP COLUMN item_results")
