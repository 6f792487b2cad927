"""The transparency log in the database: append, head, segments, verify.

Every service that writes a logged record calls ``append_pending(conn, now)`` inside the same
transaction, after its inserts: one entry is appended for every logged record that has none yet
(kinds in ``LOGGED`` order, then by id), so a record and its entry commit together or not at all.
Appending takes a lock on PostgreSQL (``LOCK TABLE log_entries``), so concurrent writers queue
instead of forking the chain; SQLite writers are serialised by its own write lock.

``verify_log`` re-hashes the whole chain and every logged record: an entry whose record is gone
(deleted, truncated, a restored file), a record whose content changed after it was logged, a
record that has no entry, a broken link or hash — each is a problem. Records that existed before
the log (an upgraded database) are counted by the genesis entry; removing one of them is found too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from inspect_kit.storage.models import (
    Assignment,
    Commitment,
    Draw,
    Evidence,
    FindingReview,
    FindingRevision,
    Frame,
    ImportBatch,
    JointVisit,
    JointVisitTask,
    LogEntry,
    LogGenesis,
    ManualValue,
    Notice,
    ScoringRun,
    Task,
    TeamMember,
    Unsealing,
)
from inspect_kit.transparency.chain import (
    Entry,
    canonical,
    content_sha256,
    head_problems,
    make_entry,
    row_content,
    segment_problems,
)


@dataclass(frozen=True)
class LoggedKind:
    """One kind of logged record: its table, and child rows whose digest is part of its content."""

    kind: str
    table: Table
    children: tuple[Table, str] | None = None  # (child table, foreign key column)


# One registry of what the log covers. A new kind of published record is one line here (and in
# the migration that adds its table, the genesis counts of later databases start at zero).
LOGGED: tuple[LoggedKind, ...] = (
    LoggedKind("import_batch", ImportBatch.__table__),
    LoggedKind("frame", Frame.__table__),
    LoggedKind("commitment", Commitment.__table__),
    LoggedKind("draw", Draw.__table__, (Task.__table__, "draw_id")),
    LoggedKind("unsealing", Unsealing.__table__),
    LoggedKind("assignment", Assignment.__table__),
    LoggedKind("team_member", TeamMember.__table__),
    LoggedKind("finding_revision", FindingRevision.__table__),
    LoggedKind("finding_review", FindingReview.__table__),
    LoggedKind("evidence", Evidence.__table__),
    LoggedKind("notice", Notice.__table__),
    LoggedKind("manual_value", ManualValue.__table__),
    LoggedKind("scoring_run", ScoringRun.__table__),
    LoggedKind("joint_visit", JointVisit.__table__, (JointVisitTask.__table__, "joint_visit_id")),
)
KINDS = {k.kind: k for k in LOGGED}
_LOG = LogEntry.__table__


def _entry(row: Any) -> Entry:
    at = row.at.isoformat() if row.at is not None else None
    return Entry(row.seq, row.kind, row.record_id, row.content_sha256, row.prev_hash, row.entry_hash, at)


try:  # the lines rendered in C (json_lines in inspect_kit/_sha256x.c): the same bytes, faster
    from inspect_kit import _sha256x as _compiled
except ImportError:  # not built: rendered by _template_columns
    _compiled = None  # type: ignore[assignment]
if _compiled is not None and not hasattr(_compiled, "json_lines"):  # built before it
    _compiled = None  # type: ignore[assignment]

_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode  # = chain.canonical
_PLAIN = frozenset((int, str, bool, type(None)))  # values jsonable() leaves as they are
_encode_str = json.encoder.encode_basestring  # the C function the encoder above uses for str


def _feed_children(h: Any, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """h.update(canonical(row_content(row)) + b"\n") for every row, in bulk: rows of int and str
    columns by a template (_template_bytes: in C, or _template_columns), other flat rows of
    plain values by one C-level json call and split between objects ("},{" occurs
    only there unless a value contains it, which the count reveals: then row by row)."""
    lines = _template_bytes(keys, [[r[i] for r in rows] for i in range(len(keys))]) if len(rows) > 1 else None
    if lines is not None:
        h.update(lines)
        return
    types = set(map(type, chain.from_iterable(rows))) if len(rows) > 1 else {object}
    if types <= _PLAIN:
        if type(None) in types:
            contents = [{k: v for k, v in zip(keys, r) if v is not None} for r in rows]
        else:
            contents = list(map(dict, map(zip, repeat(keys), rows)))
        text = _CANONICAL(contents)
        if text.count("},{") == len(rows) - 1:
            h.update(text[1:-1].replace("},{", "}\n{").encode() + b"\n")
            return
    for r in rows:
        h.update(canonical(row_content(dict(zip(keys, r)))) + b"\n")


def _template_lines(keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> str | None:
    """The same lines as _feed_children's json call, for rows whose every column holds only int or
    only str: the keys in sorted order in a %-template, strings escaped by the encoder's own
    function (json.encoder.encode_basestring, what ensure_ascii=False uses), ints as int repr —
    one C-level format per row instead of a dict and its key sort. None when a column is mixed."""
    return _template_columns(keys, [[r[i] for r in rows] for i in range(len(keys))])  # not zip(*rows): slow


def _template_columns(keys: Sequence[str], columns: Sequence[Sequence[Any]]) -> str | None:
    """`_template_lines` of the rows given column by column (columns[i]: the values of keys[i])."""
    parts: list[str] = []
    values: list[Sequence[Any]] = []
    for i in sorted(range(len(keys)), key=keys.__getitem__):
        kinds = set(map(type, columns[i]))
        if kinds == {int}:
            parts.append(_encode_str(keys[i]).replace("%", "%%") + ":%d")
            values.append(columns[i])
        elif kinds == {str}:
            parts.append(_encode_str(keys[i]).replace("%", "%%") + ":%s")
            values.append(list(map(_encode_str, columns[i])))
        else:
            return None
    template = "{" + ",".join(parts) + "}\n"
    return "".join(map(template.__mod__, zip(*values)))


def lines_compiled() -> bool:
    """Whether the log's lines of child rows are rendered in C (then rendering them ahead on a
    thread, LinesAhead, gains nothing)."""
    return _compiled is not None


def _template_bytes(keys: Sequence[str], columns: Sequence[Sequence[Any]]) -> bytes | None:
    """`_template_columns(keys, columns)` as UTF-8, rendered by the C extension where it is built
    (json_lines: each value an exact int or str, as the template writes it; it declines anything
    else, e.g. a lone surrogate or an int beyond 64 bits, which the template then renders or
    refuses as before)."""
    if _compiled is not None and keys:
        order = sorted(range(len(keys)), key=keys.__getitem__)
        prefixes = [(("{" if j == 0 else ",") + _encode_str(keys[i]) + ":").encode() for j, i in enumerate(order)]
        lines = _compiled.json_lines(prefixes, [columns[i] for i in order], b"}\n")
        if lines is not None:
            return lines
    text_ = _template_columns(keys, columns)
    return None if text_ is None else text_.encode()


def _rendered(column: Sequence[Any]) -> list[str] | None:
    """A column's values as `_template_columns` writes them (int repr, str JSON-escaped), or None
    when the column is not all int or all str."""
    kinds = set(map(type, column))
    if kinds == {int}:
        return list(map(int.__repr__, column))
    if kinds == {str}:
        return list(map(_encode_str, column))
    return None


class LinesAhead:
    """The log lines of child rows (as `children_sha256` hashes them), rendered before the `late`
    columns are known — the ids a database assigns while it writes the rows: every other column is
    rendered by `prepare` (run it on a thread while the database writes), and `sha256(late)` (or
    `lines(late)`) only joins the late columns in. Both return None when a column is neither all
    int nor all str (the caller then hashes the rows the usual way); columns of unequal lengths are
    refused (ValueError), never truncated."""

    def __init__(self, keys: Sequence[str], columns: Mapping[str, Sequence[Any]], late: Sequence[str]) -> None:
        self.keys, self.columns, self.late = list(keys), columns, set(late)
        self.n = len(next(iter(columns.values()))) if columns else None
        self._pieces: list[tuple[str, Any]] | None = None  # ("text", s) | ("rows", [s]) | ("late", key)

    def prepare(self) -> None:
        """Render the known columns: constant ones once, the others into one string per row for
        each run of them between late columns, a block of rows at a time (the rendered values of
        a whole column are never held beside the rows' strings)."""
        constant: dict[str, str] = {}
        for key in self.keys:
            if key in self.late:
                continue
            column = self.columns[key]
            if set(map(type, column)) not in ({int}, {str}):
                self._pieces = []
                return
            if len(set(column)) == 1:
                constant[key] = (_rendered(column[:1]) or [""])[0]
        segments: list[tuple[str, Any]] = []  # ("late", key) | ("known", [text | ("column", key)])
        run: list[Any] = []
        for i, key in enumerate(sorted(self.keys)):
            run.append(("{" if i == 0 else ",") + _encode_str(key) + ":")
            if key in self.late:
                segments += [("known", run), ("late", key)]
                run = []
            else:
                run.append(constant[key] if key in constant else ("column", key))
        segments.append(("known", run + ["}\n"]))
        pieces: list[tuple[str, Any]] = []
        for kind, value in segments:
            if kind == "late":
                pieces.append(("late", value))
            elif all(isinstance(item, str) for item in value):
                pieces.append(("text", "".join(value)))
            else:
                rows: list[str] = []
                n = self.n or 0
                for lo in range(0, n, self._BLOCK):
                    parts = [
                        repeat(item)
                        if isinstance(item, str)
                        else _rendered(self.columns[item[1]][lo : lo + self._BLOCK])
                        for item in value
                    ]
                    rows += map("".join, zip(*parts))
                pieces.append(("rows", rows))
        self._pieces = pieces

    def lines(self, late: Mapping[str, Sequence[Any]]) -> str | None:
        """Every line, the late columns joined in; None as said above."""
        blocks = self._blocks(late)
        return None if blocks is None else "".join(blocks)

    def sha256(self, late: Mapping[str, Sequence[Any]]) -> str | None:
        """`children_sha256` of the rows: the lines hashed block by block (never all of them as one
        string and its bytes at once); None as said above."""
        blocks = self._blocks(late)
        if blocks is None:
            return None
        h = hashlib.sha256()
        for block in blocks:
            h.update(block.encode())
        return h.hexdigest()

    _BLOCK = 50_000  # rows joined at once

    def _blocks(self, late: Mapping[str, Sequence[Any]]) -> Iterator[str] | None:
        if self._pieces is None:
            self.prepare()
        if not self._pieces:
            return None
        n = self.n if self.n is not None else len(next(iter(late.values()), []))
        if any(len(column) != n for column in chain(self.columns.values(), late.values())):
            raise ValueError("LinesAhead: columns of different lengths")
        parts: list[Iterable[str]] = []
        for kind, value in self._pieces:
            if kind == "late":
                rendered = _rendered(late[value])
                if rendered is None:
                    return None
                parts.append(rendered)
            else:
                parts.append(repeat(value) if kind == "text" else value)
        rows = islice(zip(*parts), n)
        return ("".join(chain.from_iterable(islice(rows, self._BLOCK))) for _ in range(0, n, self._BLOCK))


def children_sha256(keys: Sequence[str], slices: Iterable[Sequence[Sequence[Any]]]) -> str:
    """The digest the log gives a record's child rows (``<child table>_sha256`` in its content),
    from the rows in id order given column by column, in consecutive slices (each slice: one list
    per key, keys[i]'s values; keys: the child table's column names). The same lines as
    `_contents` hashes when it reads the rows back, so a writer that holds the rows it just
    inserted can pass their digest to `append_pending` instead of having them read again."""
    h = hashlib.sha256()
    for part in slices:
        lines = _template_bytes(keys, part) if len(part[0]) > 1 else None
        if lines is not None:
            h.update(lines)
        elif len(part[0]):
            _feed_children(h, keys, list(zip(*part)))
    return h.hexdigest()


def _contents(
    conn: Connection, lk: LoggedKind, where: Any = None, known: Mapping[int, str] | None = None
) -> dict[int, dict[str, Any]]:
    """id → content of the kind's records (those matching ``where``); ``known``: record id → the
    digest of its child rows, given by the writer that inserted them (`children_sha256`), not read."""
    stmt = select(lk.table).order_by(lk.table.c.id)
    if where is not None:
        stmt = stmt.where(where)
    out = {r.id: row_content(r._mapping) for r in conn.execute(stmt)}
    if lk.children is not None and out:
        child, fk = lk.children
        known = {rid: digest for rid, digest in (known or {}).items() if rid in out}
        hashes: dict[int, Any] = {}
        cstmt = select(child).order_by(child.c[fk], child.c.id)
        if where is not None:
            cstmt = cstmt.where(child.c[fk].in_(select(lk.table.c.id).where(where)))
        if known:
            cstmt = cstmt.where(child.c[fk].not_in(list(known)))
        result = conn.execute(cstmt.execution_options(yield_per=50_000))  # a draw may have millions of tasks
        keys = list(result.keys())
        at = keys.index(fk)
        for part in result.partitions():
            start = 0
            while start < len(part):  # rows come grouped by parent: feed each run of one parent at once
                parent = part[start][at]
                end = start + 1
                while end < len(part) and part[end][at] == parent:
                    end += 1
                _feed_children(hashes.setdefault(parent, hashlib.sha256()), keys, part[start:end])
                start = end
        empty = hashlib.sha256().hexdigest()
        for rid, content in out.items():
            digest = known[rid] if rid in known else hashes[rid].hexdigest() if rid in hashes else empty
            content[f"{child.name}_sha256"] = digest
    return out


def record_content(conn: Connection, kind: str, record_id: int) -> dict[str, Any] | None:
    lk = KINDS[kind]
    return _contents(conn, lk, lk.table.c.id == record_id).get(record_id)


def genesis(conn: Connection) -> dict[str, Any]:
    row = conn.execute(select(LogGenesis.content).where(LogGenesis.id == 1)).scalar_one_or_none()
    return json.loads(row) if row else {"existing": {}}


def head(conn: Connection) -> Entry | None:
    row = conn.execute(select(_LOG).order_by(_LOG.c.seq.desc()).limit(1)).first()
    return _entry(row) if row else None


def head_text(conn: Connection) -> str:
    h = head(conn)
    return h.head if h else ""


def entries(conn: Connection, first: int = 1, last: int | None = None) -> list[Entry]:
    stmt = select(_LOG).where(_LOG.c.seq >= first).order_by(_LOG.c.seq)
    if last is not None:
        stmt = stmt.where(_LOG.c.seq <= last)
    return [_entry(r) for r in conn.execute(stmt)]


def entry_of(conn: Connection, kind: str, record_id: int) -> Entry | None:
    row = conn.execute(
        select(_LOG).where(_LOG.c.kind == kind, _LOG.c.record_id == record_id).order_by(_LOG.c.seq).limit(1)
    ).first()
    return _entry(row) if row else None


def excerpt(conn: Connection, relied: Sequence[tuple[str, int]], *, contents: bool = False) -> dict[str, Any]:
    """What a public artefact carries of the log: the head, the entries from the first record it
    relies on up to the head (a consecutive run, so each link can be checked), which entries those
    records are, and — for records whose content is public (a draw's) — their contents."""
    found = [(kind, rid, entry_of(conn, kind, rid)) for kind, rid in relied]
    seqs = [e.seq for _, _, e in found if e is not None]
    last = head(conn)
    out: dict[str, Any] = {
        "head": last.head if last else None,
        "relies_on": [{"kind": kind, "record_id": rid, "seq": e.seq} for kind, rid, e in found if e is not None],
        "entries": [e.to_dict() for e in entries(conn, min(seqs))] if seqs else [],
    }
    if contents:
        out["records"] = [
            {"kind": kind, "record_id": rid, "content": record_content(conn, kind, rid)}
            for kind, rid, e in found
            if e is not None
        ]
    return out


def latest_revisions(conn: Connection, task_ids: Sequence[int]) -> list[tuple[str, int]]:
    """("finding_revision", id) of the latest revision of each task's finding."""
    from inspect_kit.storage.helpers import chunks
    from inspect_kit.storage.models import Finding

    out: list[tuple[str, int]] = []
    for part in chunks(list(task_ids)):
        stmt = (
            select(func.max(FindingRevision.id))
            .join(Finding, Finding.id == FindingRevision.finding_id)
            .where(Finding.task_id.in_(list(part)))
            .group_by(FindingRevision.finding_id)
        )
        out += [("finding_revision", rid) for rid in conn.execute(stmt).scalars()]
    return sorted(out)


def append_pending(
    conn: Connection, now: dt.datetime, known: Mapping[tuple[str, int], str] | None = None
) -> list[Entry]:
    """Append an entry for every logged record that has none yet; return the new entries.

    ``known``: (kind, record id) → the digest of child rows the caller inserted in this
    transaction and still holds (`children_sha256`: a draw's tasks), so they are not read back."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE log_entries IN SHARE ROW EXCLUSIVE MODE"))
    last = head(conn)
    existing = genesis(conn).get("existing", {})
    at = now.isoformat()
    new: list[Entry] = []
    for lk in LOGGED:
        logged_up_to = conn.execute(select(func.max(_LOG.c.record_id)).where(_LOG.c.kind == lk.kind)).scalar()
        start = max(logged_up_to or 0, existing.get(lk.kind, {}).get("max_id", 0))
        given = {rid: digest for (kind, rid), digest in (known or {}).items() if kind == lk.kind}
        pending = _contents(conn, lk, lk.table.c.id > start, given)
        for rid, content in pending.items():
            last = make_entry(last, lk.kind, rid, content_sha256(content), at)
            new.append(last)
    if new:
        conn.execute(
            insert(_LOG),
            [
                {
                    "seq": e.seq,
                    "kind": e.kind,
                    "record_id": e.record_id,
                    "content_sha256": e.content_sha256,
                    "prev_hash": e.prev_hash,
                    "entry_hash": e.entry_hash,
                    "at": now,
                }
                for e in new
            ],
        )
    return new


@dataclass
class LogReport:
    ok: bool
    head: str
    entries: int
    problems: list[str] = field(default_factory=list)


def _limited(problems: list[str], limit: int = 50) -> list[str]:
    return problems if len(problems) <= limit else problems[:limit] + [f"… and {len(problems) - limit} more"]


def verify_log(conn: Connection, expect_heads: Sequence[str] = ()) -> LogReport:
    """Re-hash the chain and every logged record (module docstring); check earlier published heads."""
    chain = entries(conn)
    problems = segment_problems(chain, from_genesis=True)
    gen = conn.execute(select(LogGenesis.content).where(LogGenesis.id == 1)).scalar_one_or_none()
    if not chain or chain[0].kind != "genesis":
        problems.append("the log has no genesis entry")
    elif gen is None or content_sha256(json.loads(gen)) != chain[0].content_sha256:
        problems.append("the genesis record does not match log entry 1")
    existing = json.loads(gen).get("existing", {}) if gen else {}
    by_kind: dict[str, dict[int, Entry]] = defaultdict(dict)
    for e in chain[1:]:
        if e.kind not in KINDS or e.record_id is None:
            problems.append(f"entry {e.seq} names an unknown kind of record {e.kind!r}")
        elif e.record_id in by_kind[e.kind]:
            problems.append(
                f"{e.kind} #{e.record_id} is logged twice (entries {by_kind[e.kind][e.record_id].seq} and {e.seq})"
            )
        else:
            by_kind[e.kind][e.record_id] = e
    for lk in LOGGED:
        contents = _contents(conn, lk)
        logged = by_kind.get(lk.kind, {})
        for rid, e in logged.items():
            content = contents.get(rid)
            if content is None:
                problems.append(
                    f"entry {e.seq}: {lk.kind} #{rid} is missing from the database (deleted, truncated "
                    "or a database restored from before it)"
                )
            elif content_sha256(content) != e.content_sha256:
                problems.append(f"entry {e.seq}: {lk.kind} #{rid} was changed after it was logged")
        before = existing.get(lk.kind, {"count": 0, "max_id": 0})
        unlogged = [rid for rid in contents if rid not in logged]
        prelog = [rid for rid in unlogged if rid <= before["max_id"]]
        problems += [f"{lk.kind} #{rid} has no log entry" for rid in unlogged if rid > before["max_id"]]
        if len(prelog) != before["count"]:
            problems.append(f"{before['count']} {lk.kind} records existed before the log; {len(prelog)} remain")
    for h in expect_heads:
        problems += head_problems(chain, h)
    last = chain[-1].head if chain else ""
    return LogReport(not problems, last, len(chain), _limited(problems))
