"""Writers of a registry import: one per registry, upserting checked records chunk by chunk.

A writer is built complete — `WRITERS[kind](conn, layout, opts, batch_id)` — and is handed
chunks of records as columns in `layout.names` order: `problems_for_columns` (what only the database
can tell, e.g. a conflict naming an unknown inspector) and then `write_columns`. It counts what it
added, updated and left unchanged, and writes every update, and every insert of an inspector or a
conflict, to `registry_changes` with old and new values. It never commits: the importer owns the
one transaction.

Entity inserts (the bulk of a large import) are not one history row each: the entities a chunk
adds are one `registry_insert_blocks` row (the file's field names and the values as inserted,
column by column), and each entity points at it by `insert_block_id`. `insert_block_change`
reads an entity's insert back as the registry_changes row it replaces: same at, action, changes
({field: [null, value]} for each non-empty field of the file) and batch. Entities are never
deleted, so an entity has one insert, before all its updates (registry.query.show_record).

Upsert semantics: a row whose key exists updates the columns the file HAS (an empty cell clears
the value); columns the file does not have are left as they are. Rows are never deleted.

Column-wise inserts (ImportOptions.columnwise): a chunk of entities whose keys are all new goes in
column by column, its history one insert block; a chunk with existing keys takes the row-by-row
upsert (its new rows one insert block too). Both store the
same values (tests/test_registry_import.py and test_registry_import_fast.py compare them). Whether
a chunk has an existing key is one query per chunk, left out on SQLite when the table was empty
once the import held the write lock (nothing else can add a key before it commits).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from inspect_kit.errors import Problem
from inspect_kit.registry import fast_csv
from inspect_kit.registry.options import ImportOptions
from inspect_kit.registry.rows import Layout
from inspect_kit.storage.bulk import Same, any_exists, bulk_insert, bulk_insert_columns
from inspect_kit.storage.db import JSONText, json_dumps
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import (
    Conflict,
    Entity,
    Inspector,
    InspectorQualification,
    RegistryChange,
    RegistryInsertBlock,
)

_PLAIN = (str, int, float, type(None))


def jsonable(v: Any) -> Any:
    if type(v) in _PLAIN:
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple, set, frozenset)):
        return sorted(v)
    return v


def _jsonable_column(col: Sequence[Any]) -> list[Any]:
    """A column's values as its history stores them (jsonable)."""
    if set(map(type, col)) <= _PLAIN_TYPES:
        return list(col)
    return list(map(jsonable, col))


_PLAIN_TYPES = frozenset(_PLAIN)
_INSERT_BLOCK = insert(RegistryInsertBlock.__table__)


def insert_block_change(conn: Connection, block_id: int, key_field: str, key: str) -> dict[str, Any] | None:
    """The insert of `key` kept in registry_insert_blocks row `block_id`, as the registry_changes
    row of that insert reads: {at, action, changes, batch_id}; None if the block does not hold it."""
    b = RegistryInsertBlock.__table__
    row = conn.execute(select(b.c.at, b.c.batch_id, b.c.names, b.c.columns).where(b.c.id == block_id)).first()
    if row is None or key_field not in row.names:
        return None
    keys = row.columns[row.names.index(key_field)]
    if key not in keys:
        return None
    i = keys.index(key)
    changes = {name: [None, col[i]] for name, col in zip(row.names, row.columns) if col[i] is not None}
    return {"at": row.at, "action": "insert", "changes": changes, "batch_id": row.batch_id}


class Writer:
    """The chunk loop shared by the three writers; a subclass gives `write` (and `problems_for`)."""

    table: Table
    history_name: str

    def __init__(self, conn: Connection, layout: Layout, opts: ImportOptions, batch_id: int | None):
        self.conn, self.opts, self.batch_id = conn, opts, batch_id
        self.file, self.names, self.present, self.header_of = (
            layout.file,
            layout.names,
            layout.present,
            layout.header_of,
        )
        self.added = self.updated = self.unchanged = 0
        self.changes: list[dict[str, Any]] = []

    def log(self, key: str, action: str, changes: dict[str, Any]) -> None:
        self.changes.append(
            {
                "batch_id": self.batch_id,
                "at": self.opts.now,
                "table_name": self.history_name,
                "key": key,
                "action": action,
                "changes": changes,
            }
        )

    def flush_log(self) -> None:
        bulk_insert(self.conn, RegistryChange.__table__, self.changes)
        self.changes = []

    def diff(self, old: dict[str, Any], rec: dict[str, Any]) -> dict[str, list[Any]]:
        return {
            k: [jsonable(old.get(k)), jsonable(v)]
            for k, v in rec.items()
            if k in self.present and jsonable(old.get(k)) != jsonable(v)
        }

    def problems_for(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
        return []

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        raise NotImplementedError

    def _dicts(self, nums: list[int], rows: list[tuple]) -> list[tuple[int, dict[str, Any]]]:
        names = self.names
        return [(n, dict(zip(names, r))) for n, r in zip(nums, rows)]

    def others_rows(self, chunk: list[tuple[int, dict[str, Any]]], key: str, label: str) -> list[Problem]:
        """A coordinator's import (``opts.unit``) may add its own unit's rows and change them, never
        a row stored under another unit (or under none): the file's department column says whose
        the row is to be, the database whose it is. Checked before anything is written."""
        unit = self.opts.unit
        if unit is None:
            return []
        t = self.table
        keys = [rec[key] for _, rec in chunk]
        owners = dict(
            self.conn.execute(
                select(t.c[key], t.c.department).where(
                    t.c[key].in_(keys), (t.c.department != unit) | t.c.department.is_(None)
                )
            ).all()
        )
        return [
            Problem(
                f"{label} {rec[key]} is registered under {('unit ' + owners[rec[key]]) if owners[rec[key]] else 'no unit'}, "
                f"not {unit}: only that unit's coordinator, or the county's administrator with "
                "`inspect registry import`, may change it",
                file=self.file,
                row=rownum,
                column=self.header_of[key],
            )
            for rownum, rec in chunk
            if rec[key] in owners
        ]

    def problems_for_columns(self, nums: list[int], cols: Sequence[Sequence[Any]]) -> list[Problem]:
        """Problems of a chunk (as columns) that only the database can tell (row numbers `nums`)."""
        if not self.asks_database():
            return []
        return self.problems_for(self._dicts(nums, list(zip(*cols))))

    def asks_database(self) -> bool:
        """Whether `problems_for` has anything to ask: a writer without one skips building a dict
        per row (the hot path of an import)."""
        return type(self).problems_for is not Writer.problems_for

    def write_columns(self, nums: list[int], cols: Sequence[Sequence[Any]]) -> None:
        """Upsert a chunk of checked records given as columns (in `names` order)."""
        self.write(self._dicts(nums, list(zip(*cols))))


class EntityWriter(Writer):
    table = Entity.__table__
    history_name = "entities"

    def __init__(self, conn: Connection, layout: Layout, opts: ImportOptions, batch_id: int | None):
        super().__init__(conn, layout, opts, batch_id)
        # On SQLite, once this transaction has written (the import batch row), it holds the write
        # lock: if the table is empty now, every key of the file is new, and no chunk needs to
        # ask. Elsewhere (PostgreSQL, a dry run) each chunk asks.
        self.all_new = (
            conn.dialect.name == "sqlite"
            and batch_id is not None
            and conn.execute(select(self.table.c.id).limit(1)).first() is None
        )

    def asks_database(self) -> bool:
        return self.opts.unit is not None and not self.all_new  # an empty table has no one's rows

    def problems_for(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
        return self.others_rows(chunk, "identifier", "entity")

    def write_columns(self, nums: list[int], cols: Sequence[Sequence[Any]]) -> None:
        """All-new rows (the usual case) go in column by column, their history one insert block;
        a chunk with any existing key goes through write()."""
        t = self.table
        names = self.names
        keys = cols[names.index("identifier")]
        if not self.opts.columnwise or (not self.all_new and any_exists(self.conn, t.c.identifier, keys)):
            self.write(self._dicts(nums, list(zip(*cols))))
            return
        n = len(nums)
        values: dict[str, Any] = {
            "id_scheme": Same(self.opts.id_scheme),
            "updated_at": Same(self.opts.now),
            "insert_block_id": Same(self.insert_block(cols)),
        }
        if "status" not in names:
            values["status"] = Same("active")
        for name, col in zip(names, cols):  # a value every row of the chunk has is written once
            values[name] = Same(col[0]) if type(col[0]) is str and col.count(col[0]) == n else col
        bulk_insert_columns(self.conn, t, values, n)
        self.added += n

    def insert_block(self, cols: Sequence[Sequence[Any]]) -> int:
        """Record the insert history of a block of new entities (`cols`: their values in `names`
        order, column by column) as one registry_insert_blocks row; its id, for the entities'
        insert_block_id. The columns' JSON is written by compiled code where it is built (the same
        text as the engine's json_dumps)."""
        columns: Any = None
        if fast_csv.active() and getattr(self.conn.dialect, "_json_serializer", None) is json_dumps:
            text = fast_csv.json_columns(cols, jsonable)
            columns = None if text is None else JSONText(text)
        values = {
            "batch_id": self.batch_id,
            "at": self.opts.now,
            "table_name": self.history_name,
            "names": list(self.names),
            "columns": [_jsonable_column(c) for c in cols] if columns is None else columns,
        }
        key = self.conn.execute(_INSERT_BLOCK, values).inserted_primary_key  # one statement: compiled once
        assert key is not None  # a single-row INSERT reports its key
        return int(key[0])

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        t = self.table
        keys = [rec["identifier"] for _, rec in chunk]
        existing = {r.identifier: r._asdict() for r in self.conn.execute(select(t).where(t.c.identifier.in_(keys)))}
        new_rows, new_recs, upd_rows = [], [], []
        for _, rec in chunk:
            rec = {k: v for k, v in rec.items() if k in self.present}
            old = existing.get(rec["identifier"])
            if old is None:
                row = {"id_scheme": self.opts.id_scheme, "status": "active", **rec, "updated_at": self.opts.now}
                new_rows.append(row)
                new_recs.append(tuple(rec[k] for k in self.names))
            else:
                d = self.diff(old, rec)
                if d:
                    upd_rows.append(
                        {**{k: v for k, v in rec.items() if k in d}, "_id": old["id"], "updated_at": self.opts.now}
                    )
                    self.log(rec["identifier"], "update", d)
                else:
                    self.unchanged += 1
        if new_rows:
            block = self.insert_block(list(zip(*new_recs)))
            for row in new_rows:
                row["insert_block_id"] = block
        bulk_insert(self.conn, t, new_rows)
        self.added += len(new_rows)
        _update_by_id(self.conn, t, upd_rows)
        self.updated += len(upd_rows)
        self.flush_log()


class InspectorWriter(Writer):
    table = Inspector.__table__
    history_name = "inspectors"

    def asks_database(self) -> bool:
        return self.opts.unit is not None  # a coordinator's import: whose rows these are

    def problems_for(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
        return self.others_rows(chunk, "cert_no", "inspector")

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        t, q = self.table, InspectorQualification.__table__
        keys = [rec["cert_no"] for _, rec in chunk]
        existing = {r.cert_no: r._asdict() for r in self.conn.execute(select(t).where(t.c.cert_no.in_(keys)))}
        quals: dict[int, list[str]] = {}
        if existing:
            ids = [o["id"] for o in existing.values()]
            for r in self.conn.execute(select(q.c.inspector_id, q.c.qualification).where(q.c.inspector_id.in_(ids))):
                quals.setdefault(r.inspector_id, []).append(r.qualification)
        for _, rec in chunk:
            rec = {k: v for k, v in rec.items() if k in self.present}
            new_quals = rec.pop("qualifications", None)
            old = existing.get(rec["cert_no"])
            if old is None:
                row = {"kind": "officer", "status": "active", **rec, "updated_at": self.opts.now}
                iid = insert_id(self.conn, t, **row)
                _set_quals(self.conn, iid, new_quals or [])
                full = {**rec, "qualifications": new_quals or []} if new_quals is not None else rec
                self.log(
                    rec["cert_no"], "insert", {k: [None, jsonable(v)] for k, v in full.items() if v not in (None, [])}
                )
                self.added += 1
                continue
            d = self.diff(old, rec)
            if new_quals is not None and sorted(quals.get(old["id"], [])) != sorted(new_quals):
                d["qualifications"] = [sorted(quals.get(old["id"], [])), sorted(new_quals)]
                _set_quals(self.conn, old["id"], new_quals)
            if d:
                values = {k: v for k, v in rec.items() if k in d}
                self.conn.execute(update(t).where(t.c.id == old["id"]).values(**values, updated_at=self.opts.now))
                self.log(rec["cert_no"], "update", d)
                self.updated += 1
            else:
                self.unchanged += 1
        self.flush_log()


class ConflictWriter(Writer):
    table = Conflict.__table__
    history_name = "conflicts"

    def __init__(self, conn: Connection, layout: Layout, opts: ImportOptions, batch_id: int | None):
        super().__init__(conn, layout, opts, batch_id)
        # the ids of the chunk's inspectors and entities, found by problems_for, used by write
        self.inspectors: dict[str, int] = {}
        self.entities: dict[str, int] = {}

    def problems_for(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
        certs = {rec["cert_no"] for _, rec in chunk}
        idents = {rec["identifier"] for _, rec in chunk}
        self.inspectors = dict(
            self.conn.execute(select(Inspector.cert_no, Inspector.id).where(Inspector.cert_no.in_(certs))).all()
        )
        self.entities = dict(
            self.conn.execute(select(Entity.identifier, Entity.id).where(Entity.identifier.in_(idents))).all()
        )
        out = []
        for rownum, rec in chunk:
            if rec["cert_no"] not in self.inspectors:
                out.append(
                    Problem(
                        f"no inspector with 执法证号 {rec['cert_no']} in the registry",
                        file=self.file,
                        row=rownum,
                        column=self.header_of["cert_no"],
                    )
                )
            if rec["identifier"] not in self.entities:
                out.append(
                    Problem(
                        f"no entity with identifier {rec['identifier']} in the registry",
                        file=self.file,
                        row=rownum,
                        column=self.header_of["identifier"],
                    )
                )
        return out

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        t = self.table
        pairs = [(self.inspectors[r["cert_no"]], self.entities[r["identifier"]]) for _, r in chunk]
        existing = {
            (r.inspector_id, r.entity_id): r
            for r in self.conn.execute(
                select(t).where(t.c.inspector_id.in_({p[0] for p in pairs}), t.c.entity_id.in_({p[1] for p in pairs}))
            )
        }
        for (_, rec), (iid, eid) in zip(chunk, pairs):
            key = f"{rec['cert_no']}|{rec['identifier']}"
            old = existing.get((iid, eid))
            if old is None:
                self.conn.execute(
                    insert(t).values(inspector_id=iid, entity_id=eid, reason=rec["reason"], updated_at=self.opts.now)
                )
                self.log(key, "insert", {"reason": [None, rec["reason"]]})
                self.added += 1
            elif old.reason != rec["reason"]:
                self.conn.execute(
                    update(t).where(t.c.id == old.id).values(reason=rec["reason"], updated_at=self.opts.now)
                )
                self.log(key, "update", {"reason": [old.reason, rec["reason"]]})
                self.updated += 1
            else:
                self.unchanged += 1
        self.flush_log()


WRITERS = {"entities": EntityWriter, "inspectors": InspectorWriter, "conflicts": ConflictWriter}


def _update_by_id(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    # Group by the set of changed columns: executemany needs one statement shape per group.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(k for k in r if k != "_id")), []).append(r)
    for cols, group in groups.items():
        stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in cols})
        conn.execute(stmt, group)


def _set_quals(conn: Connection, inspector_id: int, quals: Iterable[str]) -> None:
    q = InspectorQualification.__table__
    conn.execute(q.delete().where(q.c.inspector_id == inspector_id))
    rows = [{"inspector_id": inspector_id, "qualification": x} for x in sorted(set(quals))]
    if rows:
        conn.execute(insert(q), rows)
