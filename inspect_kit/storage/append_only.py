"""Database triggers that refuse UPDATE and DELETE on the append-only tables.

The code never rewrites a draw, a task, a revision or a notice; the triggers make that a property
of the database too, so that a hand-edited row (sqlite3 shell, psql) fails loudly instead of
silently changing a published record."""

from __future__ import annotations

from typing import Iterable

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION inspect_kit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'inspect-kit: % is append-only (no UPDATE or DELETE)', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql
"""


def create_statements(dialect: str, tables: Iterable[str]) -> list[str]:
    out = [PG_FUNCTION] if dialect == "postgresql" else []
    for t in tables:
        if dialect == "postgresql":
            out.append(f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
                       "FOR EACH ROW EXECUTE FUNCTION inspect_kit_append_only()")
        elif dialect == "sqlite":
            for op in ("UPDATE", "DELETE"):
                out.append(f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} BEGIN "
                           f"SELECT RAISE(ABORT, 'inspect-kit: {t} is append-only (no {op})'); END")
    return out


def drop_statements(dialect: str, tables: Iterable[str]) -> list[str]:
    out = []
    for t in tables:
        if dialect == "postgresql":
            out.append(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
        elif dialect == "sqlite":
            out += [f"DROP TRIGGER IF EXISTS {t}_no_update", f"DROP TRIGGER IF EXISTS {t}_no_delete"]
    if dialect == "postgresql":
        out.append("DROP FUNCTION IF EXISTS inspect_kit_append_only()")
    return out
