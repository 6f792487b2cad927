"""left-out index: the entities a frame leaves out (not active, or with an exemption reason)

Revision ID: 0009
Revises: 0008

Self-contained (imports no live code). A partial index on entities(category) over the rows that
are not active or carry an exempt_reason: the few a draw's frame may leave out. Counting them per
draw (inspect_kit.draw.store.frames.FrameSource) then reads those rows only, not the whole
registry (at a million entities a full scan cost a third of a second of every `draw prepare`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHERE = "status <> 'active' OR exempt_reason IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_entities_left_out",
        "entities",
        ["category"],
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_entities_left_out", table_name="entities")
