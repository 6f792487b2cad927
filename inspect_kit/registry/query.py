"""Read the registries: listing with filters, one record with its history, export to files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from inspect_kit.errors import InspectError
from inspect_kit.registry.schema import FIELDS, Field
from inspect_kit.registry.tabular import write_table
from inspect_kit.registry.writers import insert_block_change
from inspect_kit.storage.models import Conflict, Entity, Inspector, InspectorQualification, RegistryChange

# An entity's columns as read: all but the pointer to its insert history (see show_record).
_ENTITY_COLUMNS = [c for c in Entity.__table__.c if c.name != "insert_block_id"]

LIST_COLUMNS = {
    "entities": ("identifier", "name", "category", "township", "credit_class", "status", "exempt_reason"),
    "inspectors": ("cert_no", "name", "department", "kind", "status", "cert_valid_to", "qualifications"),
    "conflicts": ("cert_no", "inspector", "identifier", "entity", "reason"),
}


def _entity_rows(
    conn: Connection, where: Sequence[ColumnElement[bool]] = (), limit: int | None = None, offset: int = 0
) -> Iterator[dict[str, Any]]:
    stmt = select(*_ENTITY_COLUMNS).where(*where).order_by(Entity.identifier).offset(offset)
    if limit:
        stmt = stmt.limit(limit)
    for r in conn.execute(stmt):
        yield r._asdict()


def _inspector_rows(
    conn: Connection, where: Sequence[ColumnElement[bool]] = (), limit: int | None = None, offset: int = 0
) -> Iterator[dict[str, Any]]:
    stmt = select(Inspector.__table__).where(*where).order_by(Inspector.cert_no).offset(offset)
    if limit:
        stmt = stmt.limit(limit)
    rows = [r._asdict() for r in conn.execute(stmt)]
    quals: dict[int, list[str]] = {}
    if rows:
        q = InspectorQualification.__table__
        for qr in conn.execute(select(q.c.inspector_id, q.c.qualification).order_by(q.c.qualification)):
            quals.setdefault(qr.inspector_id, []).append(qr.qualification)
    for r in rows:
        r["qualifications"] = quals.get(r["id"], [])
        yield r


def _conflict_rows(
    conn: Connection, where: Sequence[ColumnElement[bool]] = (), limit: int | None = None, offset: int = 0
) -> Iterator[dict[str, Any]]:
    stmt = (
        select(
            Inspector.cert_no,
            Inspector.name.label("inspector"),
            Entity.identifier,
            Entity.name.label("entity"),
            Conflict.reason,
            Conflict.id,
        )
        .join(Inspector, Inspector.id == Conflict.inspector_id)
        .join(Entity, Entity.id == Conflict.entity_id)
        .where(*where)
        .order_by(Inspector.cert_no, Entity.identifier)
        .offset(offset)
    )
    if limit:
        stmt = stmt.limit(limit)
    for r in conn.execute(stmt):
        yield r._asdict()


READERS = {"entities": _entity_rows, "inspectors": _inspector_rows, "conflicts": _conflict_rows}


def _filters(
    kind: str,
    category: str | None = None,
    township: str | None = None,
    department: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    models: dict[str, type[Entity] | type[Inspector]] = {"entities": Entity, "inspectors": Inspector}
    model = models.get(kind)
    if model is None:
        return where
    if category and kind == "entities":
        where.append(Entity.category == category)
    if township and kind == "entities":
        where.append(Entity.township == township)
    if department:
        where.append(model.department == department)
    if status:
        where.append(model.status == status)
    if search:
        where.append(model.name.contains(search))
    return where


def list_records(
    engine: Engine, kind: str, *, limit: int | None = 50, offset: int = 0, **filters: str | None
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page of records as dicts)."""
    if kind not in READERS:
        raise InspectError(f"unknown registry {kind!r}; use one of {', '.join(READERS)}")
    where = _filters(kind, **filters)
    with engine.connect() as conn:
        base = {"entities": Entity, "inspectors": Inspector, "conflicts": Conflict}[kind]
        total = conn.execute(select(func.count()).select_from(base).where(*where)).scalar_one()
        return total, list(READERS[kind](conn, where, limit, offset))


def show_record(engine: Engine, kind: str, key: str) -> dict[str, Any]:
    """One entity or inspector with its conflicts and its whole change history."""
    with engine.connect() as conn:
        if kind == "entities":
            rows = list(_entity_rows(conn, [Entity.identifier == key]))
        elif kind == "inspectors":
            rows = list(_inspector_rows(conn, [Inspector.cert_no == key]))
        else:
            raise InspectError("show takes entities or inspectors")
        if not rows:
            raise InspectError(f"no {kind[:-1]} {key!r} in the registry")
        rec = rows[0]
        side = Entity.identifier if kind == "entities" else Inspector.cert_no
        rec["conflicts"] = list(_conflict_rows(conn, [side == key]))
        hist = conn.execute(
            select(RegistryChange.at, RegistryChange.action, RegistryChange.changes, RegistryChange.batch_id)
            .where(RegistryChange.table_name == kind, RegistryChange.key == key)
            .order_by(RegistryChange.id)
        )
        rec["history"] = [r._asdict() for r in hist]
        if kind == "entities":  # its insert, since revision 0008 kept in an insert block: first
            block = conn.execute(select(Entity.insert_block_id).where(Entity.identifier == key)).scalar()
            insert = insert_block_change(conn, block, "identifier", key) if block is not None else None
            if insert is not None:
                rec["history"].insert(0, insert)
        return rec


def export_fields(kind: str, include_private: bool = True) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS[kind] if include_private or not f.private)


def export_registry(
    engine: Engine, kind: str, path: Path | str, *, headers: str = "zh", include_private: bool = True
) -> int:
    """Write a registry to .csv or .xlsx in the importer's own format: export → import round-trips."""
    if kind not in READERS:
        raise InspectError(f"unknown registry {kind!r}; use one of {', '.join(READERS)}")
    fields = export_fields(kind, include_private)
    names = [f.headers[0] if headers == "zh" else f.name for f in fields]
    with engine.connect() as conn:
        rows = ([f.export(r.get(f.name)) for f in fields] for r in READERS[kind](conn))
        return write_table(path, names, rows, sheet_title=kind)
