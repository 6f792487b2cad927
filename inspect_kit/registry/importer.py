"""Import a registry file: validate every row, then upsert by key in ONE transaction.

All or nothing: rows are validated and written chunk by chunk inside a single transaction; after
the first bad row nothing more is written, validation goes on so that the report lists every bad
row, and the transaction is rolled back. `dry_run` always rolls back. Memory stays bounded: only
keys seen so far are kept (to find repeats), never the rows.

Upsert semantics: a row whose key exists updates the columns the file HAS (an empty cell clears
the value); columns the file does not have are left as they are. Rows are never deleted by an
import. Every insert and update is written to `registry_changes` with old and new values.
The file is read by `tabular.read_table`, which refuses hostile and careless files (limits, refused
characters, duplicate headers, no data rows) from inside the transaction: no batch is recorded.

Speed (a million rows is a normal county file): rows are read in blocks and an entity block is
validated column by column with C-speed operations (one cleanliness test per column, parsed
values remembered per distinct cell, the USCC checksum as one base-34 number instead of a loop
over characters) whenever every row of it passes; a block with any problem is validated again
row by row, which gives the reasons.
Chunks of rows whose keys are all new are inserted column by column, their history JSON written
as text equal to what the column's serializer writes; chunks with existing keys take the
row-by-row upsert. Both ways store the same values (tests/test_registry_import.py compares them).

Two imports at once: on PostgreSQL the second waits for the first's new keys to commit, then
fails on them (or on a deadlock); it is rolled back whole and says "someone else imported <kind>
at the same time; nothing was written, run it again" — run again, it sees the first's rows and
updates them. On SQLite the second waits for the database lock (the busy timeout; see
inspect_kit.storage.db).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from array import array
from dataclasses import dataclass, field
from itertools import islice, repeat
from json.encoder import encode_basestring as _json_str
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.registry import uscc
from inspect_kit.registry.schema import FIELDS, KEY_FIELDS, Field, header_index
from inspect_kit.registry.schema import _phone
from inspect_kit.registry.schema import _text as _identity
from inspect_kit.registry.tabular import read_table
from inspect_kit.storage.bulk import Same, any_exists, bulk_insert, bulk_insert_columns
from inspect_kit.storage.db import ConcurrentWrite, _json_dumps, is_unique_violation
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import (
    Conflict,
    Entity,
    ImportBatch,
    Inspector,
    InspectorQualification,
    RegistryChange,
    Unit,
)
from inspect_kit.text import clean_cell, clean_cells, clean_code, header_key
from inspect_kit.transparency.store import append_pending

KINDS = tuple(FIELDS)
CHUNK = 2000  # rows per write; also keeps IN (...) lists under every backend's parameter limit
MAX_PROBLEMS = 10_000  # a file this broken is reported in part; the count stays exact
BLOCK = CHUNK  # rows read and validated together, column by column
MEMO_LIMIT = 4096  # distinct values of a column whose parsed value is remembered


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


# A valid USCC, checked with C-speed string operations: the shape by a pattern, the mod-31 sum
# by reading the 17 values as one base-34 number (34 ≡ 3 mod 31, so Σ v·34^i ≡ Σ v·3^i).
# Only a code that fails here is given to uscc.problem, for the reason.
_USCC_SHAPE = re.compile(f"[{uscc.ALPHABET}]{{2}}[0-9]{{6}}[{uscc.ALPHABET}]{{10}}")
_USCC_BASE34 = str.maketrans({ch: "0123456789ABCDEFGHIJKLMNOPQRSTU"[v] for ch, v in uscc.VALUE.items()})


def _uscc_ok(code: str) -> bool:
    return (_USCC_SHAPE.fullmatch(code) is not None
            and uscc.ALPHABET[-int(code[16::-1].translate(_USCC_BASE34), 34) % 31] == code[17])


def _uscc_problem(code: str) -> str | None:
    return None if _uscc_ok(code) else uscc.problem(code)


def _cell_text(cell: Any) -> str:
    """A cell as the text that is validated (cleaned, whole floats without '.0', dates as ISO)."""
    if type(cell) is str:  # every CSV cell, most xlsx cells
        return clean_cell(cell)
    if isinstance(cell, (dt.date, dt.datetime)):
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel stores whole numbers as floats
    return clean_cell(cell)


def _json_value(v: Any) -> str:
    """JSON text of _jsonable(v), as the history column's serializer writes it inside a dict."""
    if type(v) is str:
        return _json_str(v)
    return _json_dumps(_jsonable(v))


# What JSON escapes in a string when ensure_ascii is off: control characters, '"' and '\\'
# (NUL is tested apart: it joins a column's cells).
_JSON_ESCAPED = re.compile('[\x01-\x1f"\\\\]')


def _insert_changes_json(names: Sequence[str], columns: Sequence[Sequence[Any]],
                         rows: Iterable[tuple] | None = None) -> list[str]:
    """For each row, the JSON text of {name: [None, _jsonable(value)] for non-None values}: what
    the history column's serializer (_json_dumps) writes for that dict, built with one format per
    row. `rows`, if given, are the rows of `columns` as tuples."""
    anchor = next((j for j, col in enumerate(columns) if None not in col), None)
    if anchor is None:  # every column has an empty cell somewhere: no fixed place for the commas
        return [_json_dumps({k: [None, _jsonable(v)] for k, v in zip(names, r) if v is not None})
                for r in zip(*columns)]
    parts: list[str] = []
    items: list[Sequence[Any]] = []
    for j, (name, col) in enumerate(zip(names, columns)):
        key = (_json_str(name) + ":[null,").replace("%", "%%")
        if j >= anchor and None not in col:  # in every row; a comma before it unless first
            lead = "," if j > anchor else ""
            try:
                joined = "\x00".join(col)
            except TypeError:  # not all str
                joined = None
            if joined is not None and joined.count("\x00") == len(col) - 1 and not _JSON_ESCAPED.search(joined):
                parts.append(lead + key + '"%s"]')  # nothing to escape: the text itself
                items.append(col)
            else:
                parts.append(lead + key + "%s]")
                items.append(list(map(_json_value, col)))
        else:  # empty in some rows: the whole member with its comma, or nothing
            fmt = key + "%s]," if j < anchor else "," + key + "%s]"
            parts.append("%s")
            items.append(["" if v is None else fmt % _json_value(v) for v in col])
    template = "{" + "".join(parts) + "}"
    if rows is None or any(it is not col for it, col in zip(items, columns)):
        rows = zip(*items)
    return list(map(template.__mod__, rows))


# Parsers that are a plain str function (None: the identity) on ASCII text without spaces.
_ASCII_FAST: dict[Callable[[str], Any], Callable[[str], str] | None] = {clean_code: str.upper, _phone: None}


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
        self.names = tuple(f.name for _, f, _ in self.columns)
        self.check = getattr(self, f"_check_{kind}")
        # per column: cell index, name, header, required, parse (None: the text itself)
        self._plan = [(i, f.name, h, f.required, None if f.parse is _identity else f.parse) for i, f, h in self.columns]
        self._memo: list[dict[str, Any] | None] = [{} for _ in self.columns]
        self.max_index = max((i for i, _, _ in self.columns), default=-1)
        # Whole blocks are validated column by column when every row passes (see block()); a block
        # with any problem is validated again row by row by record(), which gives the reasons.
        # Entities only: their checks have a column version, and no field is a list.
        self.blocks = kind == "entities"

    def record(self, rownum: int, cells: list[Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
        rec: dict[str, Any] = {}
        problems: list[Problem] = []
        n = len(cells)
        for i, name, header, required, parse in self._plan:
            cell = cells[i] if i < n else None
            raw = clean_cell(cell) if type(cell) is str else _cell_text(cell)
            if not raw:
                if required:
                    problems.append(Problem(f"missing required field {name}", self.file, rownum, header))
                rec[name] = [] if name == "qualifications" else None
                continue
            if parse is None:
                rec[name] = raw
                continue
            try:
                rec[name] = parse(raw)
            except ValueError as exc:
                problems.append(Problem(str(exc), self.file, rownum, header))
        if not problems:
            problems.extend(self.check(rownum, rec))
        return (None if problems else rec), problems

    def block(self, rows: Sequence[list[Any]]) -> list[Sequence[Any]] | None:
        """The records of rows that ALL pass, as columns in self.names order (the values record()
        would give), or None if any row may have a problem: then call record() row by row."""
        if min(map(len, rows)) <= self.max_index:
            return None
        cells = list(zip(*rows))
        out: list[Sequence[Any]] = []
        for j, (i, _, _, required, parse) in enumerate(self._plan):
            col = cells[i]
            try:
                raws = clean_cells(col)
            except TypeError:  # not all str (xlsx)
                raws = list(map(_cell_text, col))
            has_empty = "" in raws
            if has_empty and required:
                return None
            if parse is None:
                out.append(list(map({"": None}.get, raws, raws)) if has_empty else raws)
                continue
            if parse in _ASCII_FAST and not has_empty and raws is col and all(map(str.isascii, raws)) \
                    and not any(map(str.__contains__, raws, repeat(" "))):
                fast = _ASCII_FAST[parse]
                out.append(raws if fast is None else list(map(fast, raws)))
                continue
            memo = self._memo[j]
            try:
                if memo is not None:
                    for c in set(raws).difference(memo):
                        memo[c] = None if c == "" else parse(c)
                    out.append(list(map(memo.__getitem__, raws)))
                    if len(memo) > MEMO_LIMIT:
                        self._memo[j] = None  # many distinct values: remembering them does not pay
                elif has_empty:
                    out.append([None if c == "" else parse(c) for c in raws])
                else:
                    out.append(list(map(parse, raws)))
            except ValueError:
                return None
        return out if self._check_entity_block(out) else None

    def _check_entity_block(self, cols: list[Sequence[Any]]) -> bool:
        """_check_entities for every row of a block at once: True if no row has a problem; fills in
        department codes and the default status as _check_entities does."""
        at = {name: j for j, name in enumerate(self.names)}
        ids = cols[at["identifier"]]
        if self.opts.id_scheme == "uscc":
            if not all(map(_uscc_ok, ids)):
                return False
        elif not all(map(self.other_re.match, ids)):
            return False
        cats = self.opts.known_categories
        if cats is not None and not all(map(cats.__contains__, cols[at["category"]])):
            return False
        if "department" in at and self.units:
            deps = cols[at["department"]]
            given = set(deps)
            given.discard(None)
            if not given.issubset(self.units.keys()):
                return False
            cols[at["department"]] = list(map(self.units.get, deps, deps))
        if "exempt_from" in at or "exempt_to" in at:
            none = repeat(None)
            reason_col = "exempt_reason" in self.present
            for f, t, r in zip(cols[at["exempt_from"]] if "exempt_from" in at else none,
                               cols[at["exempt_to"]] if "exempt_to" in at else none,
                               cols[at["exempt_reason"]] if reason_col else none):
                if f and t and t < f:
                    return False
                if (f or t) and reason_col and not r:
                    return False
        if "status" in at and None in cols[at["status"]]:
            cols[at["status"]] = ["active" if s is None else s for s in cols[at["status"]]]
        return True

    def _where(self, rownum: int, name: str, reason: str) -> Problem:
        return Problem(reason, self.file, rownum, self.header_of.get(name, name))

    def _check_identifier(self, rownum: int, ident: str) -> list[Problem]:
        if self.opts.id_scheme == "uscc":
            why = _uscc_problem(ident)
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
    table: Table
    key_column: str
    history_name: str

    def __init__(self, conn: Connection, opts: ImportOptions, batch_id: int | None, *, present: frozenset[str],
                 file: str, header_of: dict[str, str], names: tuple[str, ...]):
        """`present`: the fields the file has; `file`, `header_of` (field → the file's header): what
        problems name; `names`: the order of the values in the tuples handed to write_rows()."""
        self.conn, self.opts, self.present, self.batch_id = conn, opts, present, batch_id
        self.file, self.header_of, self.names = file, header_of, names
        self.added = self.updated = self.unchanged = 0
        self.changes: list[dict[str, Any]] = []
        # History JSON may be built as text only if it is what the column's serializer would write.
        self.json_text = getattr(conn.dialect, "_json_serializer", None) is _json_dumps

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

    def write(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        raise NotImplementedError

    def _dicts(self, nums: list[int], rows: list[tuple]) -> list[tuple[int, dict[str, Any]]]:
        names = self.names
        return [(n, dict(zip(names, r))) for n, r in zip(nums, rows)]

    def problems_for_rows(self, nums: list[int], rows: list[tuple]) -> list[Problem]:
        if type(self).problems_for is _Writer.problems_for:
            return []
        return self.problems_for(self._dicts(nums, rows))

    def write_rows(self, nums: list[int], rows: list[tuple]) -> None:
        self.write(self._dicts(nums, rows))


class _EntityWriter(_Writer):
    table = Entity.__table__
    history_name = "entities"
    columns = [c.name for c in Entity.__table__.columns if c.name not in ("id", "updated_at")]

    def write_rows(self, nums: list[int], rows: list[tuple]) -> None:
        """All-new rows (the usual case) go in column by column, with their history written as JSON
        text directly; a chunk with any existing key goes through write()."""
        t = self.table
        names = self.names
        keys = list(map(itemgetter(names.index("identifier")), rows))
        if not self.json_text or any_exists(self.conn, t.c.identifier, keys):
            self.write(self._dicts(nums, rows))
            return
        n = len(rows)
        cols = list(zip(*rows))
        values: dict[str, Any] = {"id_scheme": Same(self.opts.id_scheme), "status": Same("active")}
        values.update(zip(names, cols))
        values["updated_at"] = Same(self.opts.now)
        bulk_insert_columns(self.conn, t, values, n)
        self.added += n
        bulk_insert_columns(self.conn, RegistryChange.__table__, {
            "batch_id": Same(self.batch_id), "at": Same(self.opts.now), "table_name": Same(self.history_name),
            "key": keys, "action": Same("insert"), "changes": _insert_changes_json(names, cols, rows)}, n, json_text=("changes",))

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
                iid = insert_id(self.conn, t, **row)
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


def _update_by_id(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
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
                table.close()
                raise ValidationFailed(f"{path}: cannot import {kind}", v.problems)
            batch_id = None
            if not opts.dry_run:
                batch_id = insert_id(conn, ImportBatch.__table__,
                                     kind=kind, source=path.name, source_sha256=_file_sha256(path), at=opts.now)
            writer = WRITERS[kind](conn, opts, batch_id, present=v.present, file=v.file, header_of=v.header_of,
                                   names=v.names)
            # key → ordinal; first_row[ordinal], digest[ordinal]: the row where the key was first seen
            # and the hash of its values (to tell identical repeats). Arrays keep 1M keys compact.
            seen: dict[Any, int] = {}
            first_row, first_digest = array("q"), array("q")
            single = len(key_fields) == 1
            key_at = [v.names.index(k) for k in key_fields]
            chunk_nums: list[int] = []
            chunk_rows: list[tuple] = []

            def flush(n: int) -> None:
                nonlocal n_problems
                nums, rows = chunk_nums[:n], chunk_rows[:n]
                del chunk_nums[:n], chunk_rows[:n]
                extra = writer.problems_for_rows(nums, rows)
                if extra:
                    n_problems += len(extra)
                    problems.extend(extra[: MAX_PROBLEMS - len(problems)])
                    summary.rejected += len({p.row for p in extra})
                if n_problems == 0:
                    writer.write_rows(nums, rows)

            rows_in = table.rows
            while block := list(islice(rows_in, BLOCK)):
                try:  # a line is blank when the text of all its cells is only white space
                    filled: list[Any] = list(map(str.strip, map("".join, map(itemgetter(1), block))))
                except TypeError:  # not all str (xlsx)
                    filled = [any((c.strip() if isinstance(c, str) else c is not None) for c in cells) for _, cells in block]
                if not all(filled):
                    block = [b for b, f in zip(block, filled) if f]
                cols = v.block([c for _, c in block]) if v.blocks and block else None
                keys: Sequence[Any] = ()
                if cols is not None:
                    keys = cols[key_at[0]] if single else list(zip(*(cols[k] for k in key_at)))
                    if len(set(keys)) != len(keys) or not seen.keys().isdisjoint(keys):
                        cols = None  # a repeated key: row by row, for the report
                if cols is not None:
                    nums = [r for r, _ in block]
                    seen.update(zip(keys, range(len(first_row), len(first_row) + len(nums))))
                    first_row.extend(nums)
                    first_digest.extend(map(hash, zip(*cols)))
                    summary.rows += len(nums)
                    chunk_nums += nums
                    chunk_rows += zip(*cols)
                    while len(chunk_rows) >= CHUNK:
                        flush(CHUNK)
                        if progress:
                            progress(table.position(), table.size_hint)
                    continue
                for rownum, cells in block:
                    summary.rows += 1
                    rec, row_problems = v.record(rownum, cells)
                    values = tuple(rec.values()) if rec is not None else ()
                    if rec is not None:
                        key = values[key_at[0]] if single else tuple(values[k] for k in key_at)
                        digest = hash(tuple(tuple(x) if isinstance(x, list) else x for x in values))
                        o = seen.get(key)
                        if o is None:
                            seen[key] = len(first_row)
                            first_row.append(rownum)
                            first_digest.append(digest)
                        elif first_digest[o] == digest and opts.skip_duplicate_rows:
                            summary.skipped_duplicates += 1
                            rec = None
                        else:
                            same = " (an identical row)" if first_digest[o] == digest else " with different values"
                            label = key if single else " / ".join(key)
                            row_problems = [Problem(f"{'/'.join(key_fields)} {label} repeated in the file: first at row "
                                                    f"{first_row[o]}{same}", v.file, rownum, v.header_of[key_fields[0]])]
                            if first_digest[o] == digest:
                                row_problems[0] = Problem(row_problems[0].reason + "; pass --skip-duplicate-rows to drop "
                                                          "identical repeats", v.file, rownum, v.header_of[key_fields[0]])
                    if row_problems:
                        summary.rejected += 1
                        n_problems += len(row_problems)
                        if len(problems) < MAX_PROBLEMS:
                            problems.extend(row_problems[: MAX_PROBLEMS - len(problems)])
                    elif rec is not None:
                        chunk_nums.append(rownum)
                        chunk_rows.append(values)
                        if len(chunk_rows) >= CHUNK:
                            flush(CHUNK)
                            if progress:
                                progress(table.position(), table.size_hint)
            if chunk_rows:
                flush(len(chunk_rows))
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
            append_pending(conn, opts.now)
            summary.batch_id = batch_id
    except _Rollback:
        pass
    except (IntegrityError, ConcurrentWrite) as exc:
        # Validation saw every key as new or as stored; only another import committing the same
        # keys (PostgreSQL makes this one wait for it) or a deadlock with it gets here.
        if isinstance(exc, IntegrityError) and not is_unique_violation(exc):
            raise
        raise InspectError(f"{path}: someone else imported {kind} at the same time; nothing was written, "
                           "run it again") from None
    return summary
