"""The privacy guard of public output against the database: `public_select` (a query for a public
notice can never read a private column), `private_values` (the registries' private values, loaded
to be masked and refused), `guard_public` (the one check every public artefact passes before it is
written) and `private_value_warnings` (for findings just written). The pure matching is
publish.privacy; see publish.service for the whole contract."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Engine, Select, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import TableClause

from inspect_kit.publish import privacy
from inspect_kit.storage.models.base import Base

# The free text of a finding that a results notice prints: field → its column in the template.
PUBLISHED_FINDING_TEXT = {"problems": "问题描述"}


class PrivateColumnError(AssertionError):
    """A query for a public notice asked for a private column: a programming error, never allowed."""


def _columns(item: Any) -> list[Column]:
    if isinstance(item, type) and issubclass(item, Base):
        return list(sa_inspect(item).columns)
    if isinstance(item, TableClause):
        return list(item.columns)
    element = item.__clause_element__() if hasattr(item, "__clause_element__") else item
    return [c for c in visitors.iterate(element) if isinstance(c, Column)]


def public_select(*items: Any) -> Select:
    """``select(*items)``, refusing any column (also inside an expression, or of a whole table or
    model) whose ``info`` marks it private. Every query of this module is built with it."""
    for item in items:
        private = [f"{c.table.name}.{c.name}" for c in _columns(item) if c.info.get("private")]
        if private:
            raise PrivateColumnError(f"public notices must never read private columns: {', '.join(private)}")
    return select(*items)


def private_values(bind: Engine | Connection) -> privacy.PrivateValues:
    """The registries' private values to mask and to refuse in public output: every column marked
    private in storage/models (legal representatives, phones ...) and officers' names, with the
    kind of each (`privacy.KINDS`). Reads private columns on purpose: they are only compared."""
    from inspect_kit.storage.models import Inspector

    wanted = [(t, c) for t in Base.metadata.sorted_tables for c in t.columns if c.info.get("private")]
    wanted.append((Inspector.__table__, Inspector.__table__.c.name))

    def read(conn: Connection) -> list[tuple[str | None, str]]:
        pairs = []
        for table, column in wanted:
            kind = privacy.KINDS.get((table.name, column.name), f"a private value ({table.name}.{column.name})")
            pairs += [(v, kind) for (v,) in conn.execute(select(column).where(column.is_not(None)).distinct())]
        return pairs

    if isinstance(bind, Connection):
        return privacy.PrivateValues.of(read(bind))
    with bind.connect() as conn:
        return privacy.PrivateValues.of(read(conn))


def guard_public(engine: Engine, artefact: str, content: bytes | str, kind: str, public: Sequence[str] = ()) -> None:
    """The public-output guard against this database's private values: every public artefact —
    PDF, attachment, exported JSON/CSV, and later web pages — passes it before it is written.
    Raises InspectError naming ``artefact`` and the kind of value (see `privacy.check_public`).
    ``public``: phrases published on purpose (a draw's witnesses, `privacy.declared_public`)."""
    privacy.check_public(artefact, content, kind, private_values(engine).allowing(public))


def private_value_warnings(engine: Engine, outcomes: Iterable[Any]) -> list[str]:
    """Warnings for findings just written (`findings.service.RowOutcome`s) whose published free text
    quotes a private value: one line per task, field and kind, naming the file, row and column of an
    import. Only changed text is looked at (re-importing a file warns no more)."""
    texts = [
        (o, label, o.changes[key][1])
        for o in outcomes
        for key, label in PUBLISHED_FINDING_TEXT.items()
        if key in (o.changes or {}) and o.changes[key][1]
    ]
    if not texts:
        return []
    values = private_values(engine)
    lines = []
    for o, label, text in texts:
        where = o.task_no + (f" ({o.file}, row {o.row}, column {label})" if o.row is not None else "")
        lines += [
            f"warning: {where}: {label} mentions {kind}; it will be masked in public notices"
            for kind in privacy.mentions(text, values)
        ]
    return lines
