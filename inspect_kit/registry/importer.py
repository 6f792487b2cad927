"""Import a registry file: validate every row, then upsert by key in ONE transaction.

All or nothing: rows are validated and written chunk by chunk inside a single transaction; after
the first bad row nothing more is written, validation goes on so that the report lists every bad
row, and the transaction is rolled back. `dry_run` always rolls back. Memory stays bounded: only
keys seen so far are kept (to find repeats), never the rows.

Upsert semantics: a row whose key exists updates the columns the file HAS (an empty cell clears
the value); columns the file does not have are left as they are. Rows are never deleted by an
import. Every insert and update is written to `registry_changes` with old and new values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, Engine, insert, select, update

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.registry import uscc
from inspect_kit.registry.schema import FIELDS, KEY_FIELDS, Field, header_index, header_key
from inspect_kit.registry.schema import _text as _identity
from inspect_kit.registry.tabular import read_table
from inspect_kit.storage.bulk import bulk_insert
from inspect_kit.storage.models import (
    Conflict,
    Entity,
    ImportBatch,
    Inspector,
    InspectorQualification,
    RegistryChange,
    Unit,
)
from inspect_kit.text import clean_cell

KINDS = tuple(FIELDS)
CHUNK = 2000  # rows per write; also keeps IN (...) lists under every backend's parameter limit
MAX_PROBLEMS = 10_000  # a file this broken is reported in part; the count stays exact


@dataclass
class ImportOptions:
    now: dt.datetime  # the clock is the caller's, so that imports are reproducible in tests
    dry_run: bool = False
    skip_duplicate_rows: bool = False  # drop rows identical to an earlier row instead of refusing
    encoding: str | None = None
    sheet: str | None = None
    known_categories: frozenset[str] | None = None  # None: accept any category
    id_scheme: str = "uscc"  # uscc | other
    other_id_pattern: str = r"^[0-9A-Z][0-9A-Z\-]{3,31}$"


@dataclass
class ImportSummary:
    kind: str
    file: str
    encoding: str | None
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped_duplicates: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    batch_id: int | None = None

    def line(self) -> str:
        s = (f"{self.kind}: {self.rows} rows read — {self.added} added, {self.updated} updated, "
             f"{self.unchanged} unchanged, {self.rejected} rejected")
        if self.skipped_duplicates:
            s += f", {self.skipped_duplicates} duplicate rows skipped"
        if self.dry_run:
            s += " (dry run: nothing written)"
        return s


class _Rollback(Exception):
    pass


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


_PLAIN = (str, int, float, type(None))


def _jsonable(v: Any) -> Any:
    if type(v) in _PLAIN:
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple, set, frozenset)):
        return sorted(v)
    return v


class _Validator:
    """Turns (row number, cells) into a record dict, or problems."""

    def __init__(self, kind: str, path: Path, headers: list[str], opts: ImportOptions, units: dict[str, str]):
        self.kind, self.file, self.opts, self.units = kind, str(path), opts, units
        index = header_index(FIELDS[kind])
        self.columns: list[tuple[int, Field, str]] = []
        self.problems: list[Problem] = []
        self.ignored: list[str] = []
        seen: dict[str, str] = {}
        for i, h in enumerate(headers):
            if not clean_cell(h):
                continue
            f = index.get(header_key(h))
            if f is None:
                self.ignored.append(clean_cell(h))
            elif f.name in seen:
                self.problems.append(Problem(f"columns {seen[f.name]!r} and {clean_cell(h)!r} both give "
                                             f"{f.name}; keep one", file=self.file, row=None, column=clean_cell(h)))
            else:
                seen[f.name] = clean_cell(h)
                self.columns.append((i, f, clean_cell(h)))
        for f in FIELDS[kind]:
            if f.required and f.name not in seen:
                self.problems.append(Problem(f"missing required column {f.headers[0]} ({f.name}); "
                                             f"accepted headers: {', '.join(f.headers)}", file=self.file))
        self.present = frozenset(seen)
        self.header_of = {f.name: h for _, f, h in self.columns}
        self.other_re = re.compile(opts.other_id_pattern)

    def record(self, rownum: int, cells: list[Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
        rec: dict[str, Any] = {}
        problems: list[Problem] = []
        n = len(cells)
        for i, f, header in self.columns:
            cell = cells[i] if i < n else None
            if type(cell) is str:  # every CSV cell, most xlsx cells
                raw = clean_cell(cell)
            elif isinstance(cell, (dt.date, dt.datetime)):
                raw = cell.isoformat()[:10]
            elif isinstance(cell, float) and cell.is_integer():
                raw = str(int(cell))  # Excel stores whole numbers as floats
            else:
                raw = clean_cell(cell)
            if not raw:
                if f.required:
                    problems.append(Problem(f"missing required field {f.name}", self.file, rownum, header))
                rec[f.name] = [] if f.name == "qualifications" else None
                continue
            if f.parse is _identity:
                rec[f.name] = raw
                continue
            try:
                rec[f.name] = f.parse(raw)
            except ValueError as exc:
                problems.append(Problem(str(exc), self.file, rownum, header))
        if not problems:
            problems.extend(getattr(self, f"_check_{self.kind}")(rownum, rec))
        return (None if problems else rec), problems

    def _where(self, rownum: int, name: str, reason: str) -> Problem:
        return Problem(reason, self.file, rownum, self.header_of.get(name, name))

    def _check_identifier(self, rownum: int, ident: str) -> list[Problem]:
        if self.opts.id_scheme == "uscc":
            why = uscc.problem(ident)
            return [self._where(rownum, "identifier", why)] if why else []
        if not self.other_re.match(ident):
            return [self._where(rownum, "identifier",
                                f"identifier {ident!r} does not match the configured pattern {self.opts.other_id_pattern}")]
        return []

    def _department(self, rownum: int, rec: dict[str, Any]) -> list[Problem]:
        dep = rec.get("department")
        if dep is None or not self.units:
            return []
        code = self.units.get(dep)
        if code is None:
            return [self._where(rownum, "department", f"unknown department {dep!r}; configured units: "
                                f"{', '.join(sorted(set(self.units.values())))}")]
        rec["department"] = code
        return []

    def _check_entities(self, rownum: int, rec: dict[str, Any]) -> list[Problem]:
        out = self._check_identifier(rownum, rec["identifier"])
        cats = self.opts.known_categories
        if cats is not None and rec["category"] not in cats:
            out.append(self._where(rownum, "category", f"unknown category {rec['category']!r}; configured "
                                   f"categories: {', '.join(sorted(cats))}"))
        out += self._department(rownum, rec)
        f, t = rec.get("exempt_from"), rec.get("exempt_to")
        if f and t and t < f:
            out.append(self._where(rownum, "exempt_to", f"exemption ends ({t}) before it starts ({f})"))
        if (f or t) and "exempt_reason" in self.present and not rec.get("exempt_reason"):
            out.append(self._where(rownum, "exempt_reason", "exemption dates given without a reason"))
        if "status" in rec and rec["status"] is None:
            rec["status"] = "active"
        return out

    def _check_inspectors(self, rownum: int, rec: dict[str, Any]) -> list[Problem]:
        out = self._department(rownum, rec)
        f, t = rec.get("cert_valid_from"), rec.get("cert_valid_to")
        if f and t and t < f:
            out.append(self._where(rownum, "cert_valid_to", f"certificate expires ({t}) before it is valid ({f})"))
        for name, default in (("status", "active"), ("kind", "officer")):
            if name in rec and rec[name] is None:
                rec[name] = default
        return out

    def _check_conflicts(self, rownum: int, rec: dict[str, Any]) -> list[Problem]:
        return []  # existence of both sides is checked against the database, per chunk


# -- writers: one per registry, sharing the chunk loop --------------------------------------------

class _Writer:
    table: Any
    key_column: str
    history_name: str

    def __init__(self, conn: Connection, opts: ImportOptions, present: frozenset[str], batch_id: int | None):
        self.conn, self.opts, self.present, self.batch_id = conn, opts, present, batch_id
        self.added = self.updated = self.unchanged = 0
        self.changes: list[dict[str, Any]] = []

    def log(self, key: str, action: str, changes: dict[str, Any]) -> None:
        self.changes.append({"batch_id": self.batch_id, "at": self.opts.now, "table_name": self.history_name,
                             "key": key, "action": action, "changes": changes})

    def flush_log(self) -> None:
        bulk_insert(self.conn, RegistryChange.__table__, self.changes)
        self.changes = []

    def diff(self, old: dict[str, Any], rec: dict[str, Any]) -> dict[str, list[Any]]:
        return {k: [_jsonable(old.get(k)), _jsonable(v)] for k, v in rec.items()
                if k in self.present and _jsonable(old.get(k)) != _jsonable(v)}

    def problems_for(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
        return []


class _EntityWriter(_Writer):
    table = Entity.__table__
    history_name = "entities"
    columns = [c.name for c in Entity.__table__.columns if c.name not in ("id", "updated_at")]

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        t = self.table
        keys = [rec["identifier"] for _, rec in chunk]
        existing = {r.identifier: r._asdict() for r in self.conn.execute(select(t).where(t.c.identifier.in_(keys)))}
        new_rows, upd_rows = [], []
        for _, rec in chunk:
            rec = {k: v for k, v in rec.items() if k in self.present}
            old = existing.get(rec["identifier"])
            if old is None:
                row = {"id_scheme": self.opts.id_scheme, "status": "active", **rec, "updated_at": self.opts.now}
                new_rows.append(row)
                self.log(rec["identifier"], "insert", {k: [None, _jsonable(v)] for k, v in rec.items() if v is not None})
            else:
                d = self.diff(old, rec)
                if d:
                    upd_rows.append({**{k: v for k, v in rec.items() if k in d}, "_id": old["id"], "updated_at": self.opts.now})
                    self.log(rec["identifier"], "update", d)
                else:
                    self.unchanged += 1
        bulk_insert(self.conn, t, new_rows)
        self.added += len(new_rows)
        _update_by_id(self.conn, t, upd_rows)
        self.updated += len(upd_rows)
        self.flush_log()


class _InspectorWriter(_Writer):
    table = Inspector.__table__
    history_name = "inspectors"

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
                iid = self.conn.execute(insert(t).values(row)).inserted_primary_key[0]
                _set_quals(self.conn, iid, new_quals or [])
                full = {**rec, "qualifications": new_quals or []} if new_quals is not None else rec
                self.log(rec["cert_no"], "insert", {k: [None, _jsonable(v)] for k, v in full.items() if v not in (None, [])})
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


class _ConflictWriter(_Writer):
    table = Conflict.__table__
    history_name = "conflicts"

    def problems_for(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
        certs = {rec["cert_no"] for _, rec in chunk}
        idents = {rec["identifier"] for _, rec in chunk}
        self.inspectors = dict(self.conn.execute(select(Inspector.cert_no, Inspector.id).where(Inspector.cert_no.in_(certs))).all())
        self.entities = dict(self.conn.execute(select(Entity.identifier, Entity.id).where(Entity.identifier.in_(idents))).all())
        out = []
        for rownum, rec in chunk:
            if rec["cert_no"] not in self.inspectors:
                out.append(Problem(f"no inspector with 执法证号 {rec['cert_no']} in the registry", file=self.file, row=rownum,
                                   column=self.header_of["cert_no"]))
            if rec["identifier"] not in self.entities:
                out.append(Problem(f"no entity with identifier {rec['identifier']} in the registry", file=self.file,
                                   row=rownum, column=self.header_of["identifier"]))
        return out

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        t = self.table
        pairs = [(self.inspectors[r["cert_no"]], self.entities[r["identifier"]]) for _, r in chunk]
        existing = {(r.inspector_id, r.entity_id): r for r in self.conn.execute(
            select(t).where(t.c.inspector_id.in_({p[0] for p in pairs}), t.c.entity_id.in_({p[1] for p in pairs})))}
        for (_, rec), (iid, eid) in zip(chunk, pairs):
            key = f"{rec['cert_no']}|{rec['identifier']}"
            old = existing.get((iid, eid))
            if old is None:
                self.conn.execute(insert(t).values(inspector_id=iid, entity_id=eid, reason=rec["reason"], updated_at=self.opts.now))
                self.log(key, "insert", {"reason": [None, rec["reason"]]})
                self.added += 1
            elif old.reason != rec["reason"]:
                self.conn.execute(update(t).where(t.c.id == old.id).values(reason=rec["reason"], updated_at=self.opts.now))
                self.log(key, "update", {"reason": [old.reason, rec["reason"]]})
                self.updated += 1
            else:
                self.unchanged += 1
        self.flush_log()


WRITERS = {"entities": _EntityWriter, "inspectors": _InspectorWriter, "conflicts": _ConflictWriter}


def _update_by_id(conn: Connection, table, rows: list[dict[str, Any]]) -> None:
    # Group by the set of changed columns: executemany needs one statement shape per group.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(k for k in r if k != "_id")), []).append(r)
    from sqlalchemy import bindparam

    for cols, group in groups.items():
        stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in cols})
        conn.execute(stmt, group)


def _set_quals(conn: Connection, inspector_id: int, quals: Iterable[str]) -> None:
    q = InspectorQualification.__table__
    conn.execute(q.delete().where(q.c.inspector_id == inspector_id))
    rows = [{"inspector_id": inspector_id, "qualification": x} for x in sorted(set(quals))]
    if rows:
        conn.execute(insert(q), rows)


def unit_lookup(conn: Connection) -> dict[str, str]:
    """Department cell → unit code; accepts a unit's code or its name."""
    out: dict[str, str] = {}
    for code, name in conn.execute(select(Unit.code, Unit.name)):
        out[code] = code
        out[name] = code
    return out


def import_registry(engine: Engine, kind: str, path: Path | str, opts: ImportOptions,
                    progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Validate and upsert one registry file in a single transaction; see the module docstring."""
    if kind not in KINDS:
        raise InspectError(f"unknown registry {kind!r}; use one of {', '.join(KINDS)}")
    path = Path(path)
    index = header_index(FIELDS[kind])
    table = read_table(path, lambda row: sum(1 for c in row if header_key(c) in index),
                       encoding=opts.encoding, sheet=opts.sheet)
    summary = ImportSummary(kind, str(path), table.encoding, dry_run=opts.dry_run)
    problems: list[Problem] = []
    n_problems = 0
    key_fields = KEY_FIELDS[kind]
    try:
        with engine.begin() as conn:
            v = _Validator(kind, path, table.headers, opts, unit_lookup(conn))
            summary.ignored_columns = v.ignored
            if v.problems:
                raise ValidationFailed(f"{path}: cannot import {kind}", v.problems)
            batch_id = None
            if not opts.dry_run:
                batch_id = conn.execute(insert(ImportBatch.__table__).values(
                    kind=kind, source=path.name, source_sha256=_file_sha256(path), at=opts.now)).inserted_primary_key[0]
            writer = WRITERS[kind](conn, opts, v.present, batch_id)
            writer.file, writer.header_of = v.file, v.header_of
            seen: dict[tuple, tuple[int, int]] = {}  # key → (first row, hash of its cells)
            chunk: list[tuple[int, dict[str, Any]]] = []

            def flush() -> None:
                nonlocal n_problems
                extra = writer.problems_for(chunk)
                if extra:
                    n_problems += len(extra)
                    problems.extend(extra[: MAX_PROBLEMS - len(problems)])
                    summary.rejected += len({p.row for p in extra})
                if n_problems == 0:
                    writer.write(chunk)
                chunk.clear()

            for rownum, cells in table.rows:
                if not any((c.strip() if isinstance(c, str) else c is not None) for c in cells):
                    continue  # blank line
                summary.rows += 1
                rec, row_problems = v.record(rownum, cells)
                if rec is not None:
                    key = tuple(rec[k] for k in key_fields)
                    digest = hash(tuple(tuple(x) if isinstance(x, list) else x for x in rec.values()))
                    first = seen.get(key)
                    if first is None:
                        seen[key] = (rownum, digest)
                    elif first[1] == digest and opts.skip_duplicate_rows:
                        summary.skipped_duplicates += 1
                        rec = None
                    else:
                        same = " (an identical row)" if first[1] == digest else " with different values"
                        label = " / ".join(key)
                        row_problems = [Problem(f"{'/'.join(key_fields)} {label} repeated in the file: first at row "
                                                f"{first[0]}{same}", v.file, rownum, v.header_of[key_fields[0]])]
                        if first[1] == digest:
                            row_problems[0] = Problem(row_problems[0].reason + "; pass --skip-duplicate-rows to drop "
                                                      "identical repeats", v.file, rownum, v.header_of[key_fields[0]])
                if row_problems:
                    summary.rejected += 1
                    n_problems += len(row_problems)
                    if len(problems) < MAX_PROBLEMS:
                        problems.extend(row_problems[: MAX_PROBLEMS - len(problems)])
                elif rec is not None:
                    chunk.append((rownum, rec))
                    if len(chunk) >= CHUNK:
                        flush()
                        if progress:
                            progress(table.position(), table.size_hint)
            if chunk:
                flush()
            if progress:
                progress(table.size_hint, table.size_hint)
            if n_problems:
                raise ValidationFailed(f"{path}: {summary.rejected} of {summary.rows} rows rejected; the import was "
                                       "refused", problems)
            summary.added, summary.updated, summary.unchanged = writer.added, writer.updated, writer.unchanged
            if opts.dry_run:
                raise _Rollback
            conn.execute(update(ImportBatch.__table__).where(ImportBatch.id == batch_id).values(
                added=summary.added, updated=summary.updated, unchanged=summary.unchanged))
            summary.batch_id = batch_id
    except _Rollback:
        pass
    return summary
