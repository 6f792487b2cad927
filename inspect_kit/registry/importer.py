"""Import a registry file: validate every row, then upsert by key in ONE transaction.

All or nothing: rows are validated and written chunk by chunk inside a single transaction; after
the first bad row nothing more is written, validation goes on so that the report lists every bad
row, and the transaction is rolled back. `dry_run` always rolls back. Memory stays bounded: only
keys seen so far are kept (to find repeats), never the rows. The transparency log's pending entry
(transparency.store.append_pending) is written in the same transaction.

The stages (each its own module, Arlo's CSV pipeline is the model):
  tabular.read_table    the file → header and rows (CSV: in blocks, Table.row_blocks); refuses
                        hostile and careless files (limits, refused characters, duplicate
                        headers, no data rows) from inside the transaction: no batch is recorded
                        (CSV with the C extension: the blocks it vouches for come as cleaned
                        columns, fast_csv.ColumnBlock; the others as rows, checked in Python)
  rows.Layout           the header → which cell gives which field
  columns / rows        a block of rows → records: column by column when every row passes
                        (ImportOptions.columnwise), else row by row with the reasons
  rules                 the cross-field rules, written once, run on a block or on a row
  _Keys (here)          a key repeated in the file: refused, or skipped if identical and asked to
  writers               chunks of records → upserts and registry_changes history
The upsert semantics are in registry.writers.

Two imports at once: on PostgreSQL the second waits for the first's new keys to commit, then
fails on them (or on a deadlock); it is rolled back whole and says "someone else imported <kind>
at the same time; nothing was written, run it again" — run again, it sees the first's rows and
updates them. On SQLite the second waits for the database lock (the busy timeout; see
inspect_kit.storage.db).
"""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.registry import columns, fast_csv
from inspect_kit.registry.columns import ColumnValidator
from inspect_kit.registry.fast_csv import ColumnBlock
from inspect_kit.registry.options import ImportOptions
from inspect_kit.registry.rows import Layout, RowValidator
from inspect_kit.registry.schema import FIELDS, KEY_FIELDS, header_index
from inspect_kit.registry.tabular import Table, read_table
from inspect_kit.registry.writers import WRITERS, Writer
from inspect_kit.storage.db import ConcurrentWrite, is_unique_violation, sqlite_cache
from inspect_kit.storage.helpers import insert_id, transaction
from inspect_kit.storage.models import ImportBatch, Unit
from inspect_kit.text import header_key
from inspect_kit.transparency.store import append_pending

__all__ = ["BLOCK", "CHUNK", "KINDS", "ImportOptions", "RegistryImportSummary", "import_registry", "unit_lookup"]

KINDS = tuple(FIELDS)
CHUNK = 2000  # rows per write; also keeps IN (...) lists under every backend's parameter limit
MAX_PROBLEMS = 10_000  # a file this broken is reported in part; the count stays exact
BLOCK = CHUNK  # rows read and validated together, column by column


@dataclass
class RegistryImportSummary:
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
        s = (
            f"{self.kind}: {self.rows} rows read — {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )
        if self.skipped_duplicates:
            s += f", {self.skipped_duplicates} duplicate rows skipped"
        if self.dry_run:
            s += " (dry run: nothing written)"
        return s


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


CACHE_MIB = (8, 256)  # the SQLite page cache of an import: about the file's size, within these


def _cache_kib(table: Table) -> int:
    """The page cache for importing `table`: its indexes' pages stay in memory (CSV: size_hint is
    bytes; .xlsx: rows, some 200 bytes each)."""
    size = table.size_hint if table.encoding is not None else 200 * table.size_hint
    lo, hi = CACHE_MIB
    return min(max(size, lo << 20), hi << 20) >> 10


def unit_lookup(conn: Connection) -> dict[str, str]:
    """Department cell → unit code; accepts a unit's code or its name."""
    out: dict[str, str] = {}
    for code, name in conn.execute(select(Unit.code, Unit.name)):
        out[code] = code
        out[name] = code
    return out


def _blocks(blocks: Iterable[Any]) -> Iterator[list[tuple[int, list[Any]]] | ColumnBlock]:
    """(row number, cells) in blocks of BLOCK lines read, blank lines left out; a ColumnBlock of
    the reader (blank lines left out already) as it is."""
    buf: list[tuple[int, list[Any]]] = []
    for more in blocks:
        if type(more) is ColumnBlock:
            if buf:
                yield _filled(buf)
                buf = []
            yield more
            continue
        buf += more
        while len(buf) >= BLOCK:
            block = buf[:BLOCK]
            del buf[:BLOCK]
            yield _filled(block)
    if buf:
        yield _filled(buf)


def _filled(block: list[tuple[int, list[Any]]]) -> list[tuple[int, list[Any]]]:
    """The lines of a block that are not blank (a line is blank when the text of all its cells is
    only white space)."""
    try:
        filled: list[Any] = list(map(str.strip, map("".join, map(itemgetter(1), block))))
    except TypeError:  # not all str (xlsx)
        filled = [any((c.strip() if isinstance(c, str) else c is not None) for c in cells) for _, cells in block]
    if not all(filled):
        block = [b for b, f in zip(block, filled) if f]
    return block


class _Keys:
    """The keys seen so far: key → ordinal; first_row[ordinal], digest[ordinal] are the row where
    the key was first seen and the hash of its values (to tell identical repeats). Arrays keep 1M
    keys compact; with the C extension the keys are in a fast_csv.key_index() (same answers)."""

    def __init__(self, layout: Layout, key_fields: tuple[str, ...]):
        self.layout, self.key_fields = layout, key_fields
        self.index: Any = fast_csv.key_index() if fast_csv.active() else None  # else seen
        self.seen: dict[Any, int] = {}
        self.first_row, self.digest = array("q"), array("q")
        self.at = [layout.names.index(k) for k in key_fields]
        self.single = len(key_fields) == 1

    def add_block(self, cols: Sequence[Sequence[Any]], nums: list[int]) -> bool:
        """Add the keys of a block given as columns (rows `nums`) if none repeats, within it or
        earlier (True); else add nothing (False)."""
        keys = cols[self.at[0]] if self.single else list(zip(*(cols[k] for k in self.at)))
        n = len(self.first_row)
        if self.index is not None:
            if not self.index.add_new(keys if type(keys) is list else list(keys), n):
                return False
        else:
            if len(set(keys)) != len(keys) or not self.seen.keys().isdisjoint(keys):
                return False
            self.seen.update(zip(keys, range(n, n + len(nums))))
        self.first_row.extend(nums)
        hashes = fast_csv.row_hashes(cols) if self.index is not None else None
        if hashes is not None:
            self.digest.frombytes(hashes)
        else:
            self.digest.extend(map(hash, zip(*cols)))
        return True

    def add_row(self, rownum: int, values: tuple, skip_identical: bool) -> tuple[bool, Problem | None]:
        """(keep the row, its problem): a new key is kept; a repeat is a problem, or skipped
        (not kept, no problem) when identical to the first and `skip_identical`."""
        key = values[self.at[0]] if self.single else tuple(values[k] for k in self.at)
        digest = hash(tuple(tuple(x) if isinstance(x, list) else x for x in values))
        o = self.seen.get(key) if self.index is None else self.index.get(key)
        if o is None:
            if self.index is None:
                self.seen[key] = len(self.first_row)
            else:
                self.index.add(key, len(self.first_row))
            self.first_row.append(rownum)
            self.digest.append(digest)
            return True, None
        identical = self.digest[o] == digest
        if identical and skip_identical:
            return False, None
        same = " (an identical row)" if identical else " with different values"
        label = key if self.single else " / ".join(key)
        reason = f"{'/'.join(self.key_fields)} {label} repeated in the file: first at row {self.first_row[o]}{same}"
        if identical:
            reason += "; pass --skip-duplicate-rows to drop identical repeats"
        return False, Problem(reason, self.layout.file, rownum, self.layout.header_of[self.key_fields[0]])


class _Run:
    """One import's pipeline inside the transaction: blocks → records → keys → chunks → writer."""

    def __init__(
        self,
        conn: Connection,
        kind: str,
        layout: Layout,
        opts: ImportOptions,
        writer: Writer,
        summary: RegistryImportSummary,
        table: Table,
        progress: Callable[[int, int], None] | None,
    ):
        ctx = opts.rule_context(layout.present, unit_lookup(conn))
        self.opts, self.writer, self.summary, self.table, self.progress = opts, writer, summary, table, progress
        self.rows = RowValidator(layout, ctx)
        self.columns = ColumnValidator(layout, ctx) if opts.columnwise and kind in columns.KINDS else None
        self.keys = _Keys(layout, KEY_FIELDS[kind])
        self.wanted = tuple(c.cell for c in layout.columns)
        self.problems: list[Problem] = []
        self.n_problems = 0
        self.chunk_nums: list[int] = []  # the rows of the chunk not yet written, and their values
        self.chunk_cols: list[list[Any]] = [[] for _ in layout.names]

    def reject(self, problems: list[Problem], rows: int) -> None:
        self.summary.rejected += rows
        self.n_problems += len(problems)
        self.problems.extend(problems[: max(0, MAX_PROBLEMS - len(self.problems))])

    def take(self, block: list[tuple[int, list[Any]]] | ColumnBlock) -> None:
        """Validate one block: column by column if every row of it passes, else row by row."""
        if type(block) is ColumnBlock:
            cols = self.columns.columns(block.cells, block.flags) if self.columns is not None else None
            if cols is None or not self.keys.add_block(cols, block.nums):
                self.take_rows(block.rows(self.wanted))
                return
            self.take_valid(block.nums, cols)
            return
        assert type(block) is list
        cols = self.columns.block([c for _, c in block]) if self.columns is not None and block else None
        nums = [r for r, _ in block]
        if cols is not None and self.keys.add_block(cols, nums):
            self.take_valid(nums, cols)
            return
        self.take_rows(block)

    def take_valid(self, nums: list[int], cols: Sequence[Sequence[Any]]) -> None:
        """A block whose rows all pass, as columns (its keys added already)."""
        self.summary.rows += len(nums)
        if not self.chunk_nums and len(nums) == CHUNK:  # the block is a chunk: as it is
            self.flush_columns(nums, cols)
            return
        self.chunk_nums += nums
        for acc, col in zip(self.chunk_cols, cols):
            acc += col
        while len(self.chunk_nums) >= CHUNK:
            self.flush(CHUNK)

    def take_rows(self, block: list[tuple[int, list[Any]]]) -> None:
        """A block row by row, with the reasons (a repeated key too)."""
        for rownum, cells in block:
            self.summary.rows += 1
            rec, problems = self.rows.record(rownum, cells)
            values = tuple(rec.values()) if rec is not None else ()
            if rec is not None:
                keep, repeat = self.keys.add_row(rownum, values, self.opts.skip_duplicate_rows)
                if repeat is not None:
                    problems = [repeat]
                elif not keep:
                    self.summary.skipped_duplicates += 1
                    continue
            if problems:
                self.reject(problems, 1)
            else:
                self.chunk_nums.append(rownum)
                for acc, v in zip(self.chunk_cols, values):
                    acc.append(v)
                if len(self.chunk_nums) >= CHUNK:
                    self.flush(CHUNK)

    def flush(self, n: int) -> None:
        """Give the first n records of the chunk to the writer."""
        nums, cols = self.chunk_nums[:n], [c[:n] for c in self.chunk_cols]
        del self.chunk_nums[:n]
        for c in self.chunk_cols:
            del c[:n]
        self.flush_columns(nums, cols)

    def flush_columns(self, nums: list[int], cols: Sequence[Sequence[Any]]) -> None:
        """Give a chunk of records, as columns, to the writer (written only while no problem)."""
        extra = self.writer.problems_for_columns(nums, cols)
        if extra:
            self.reject(extra, len({p.row for p in extra}))
        if self.n_problems == 0:
            self.writer.write_columns(nums, cols)
        if self.progress and len(nums) == CHUNK:
            self.progress(self.table.position(), self.table.size_hint)

    def run(self) -> None:
        want = self.table.want_columns
        if self.columns is not None and want is not None:
            want(self.wanted)
        for block in _blocks(self.table.row_blocks()):
            if type(block) is ColumnBlock and not block.nums:
                continue
            if block:
                self.take(block)
        if self.chunk_nums:
            self.flush(len(self.chunk_nums))
        if self.progress:
            self.progress(self.table.size_hint, self.table.size_hint)


def import_registry(
    engine: Engine, kind: str, path: Path | str, opts: ImportOptions, progress: Callable[[int, int], None] | None = None
) -> RegistryImportSummary:
    """Validate and upsert one registry file in a single transaction; see the module docstring."""
    if kind not in KINDS:
        raise InspectError(f"unknown registry {kind!r}; use one of {', '.join(KINDS)}")
    path = Path(path)
    index = header_index(FIELDS[kind])
    table = read_table(
        path, lambda row: sum(1 for c in row if header_key(c) in index), encoding=opts.encoding, sheet=opts.sheet
    )
    summary = RegistryImportSummary(kind, str(path), table.encoding, dry_run=opts.dry_run)
    layout = Layout.of(kind, str(path), table.headers)
    summary.ignored_columns = list(layout.ignored)
    try:
        with transaction(engine, dry_run=opts.dry_run) as conn:  # a dry run is rolled back at the end
            if layout.problems:
                table.close()
                raise ValidationFailed(f"{path}: cannot import {kind}", list(layout.problems))
            batch_id = None
            if not opts.dry_run:
                batch_id = insert_id(
                    conn,
                    ImportBatch.__table__,
                    kind=kind,
                    source=path.name,
                    source_sha256=_file_sha256(path),
                    at=opts.now,
                    by=opts.by,
                )
            writer = WRITERS[kind](conn, layout, opts, batch_id)
            run = _Run(conn, kind, layout, opts, writer, summary, table, progress)
            with sqlite_cache(conn, _cache_kib(table)):
                run.run()
            if run.n_problems:
                raise ValidationFailed(
                    f"{path}: {summary.rejected} of {summary.rows} rows rejected; the import was refused", run.problems
                )
            summary.added, summary.updated, summary.unchanged = writer.added, writer.updated, writer.unchanged
            if not opts.dry_run:
                conn.execute(
                    update(ImportBatch.__table__)
                    .where(ImportBatch.id == batch_id)
                    .values(added=summary.added, updated=summary.updated, unchanged=summary.unchanged)
                )
                append_pending(conn, opts.now)
                summary.batch_id = batch_id
    except (IntegrityError, ConcurrentWrite) as exc:
        # Validation saw every key as new or as stored; only another import committing the same
        # keys (PostgreSQL makes this one wait for it) or a deadlock with it gets here.
        if isinstance(exc, IntegrityError) and not is_unique_violation(exc):
            raise
        raise InspectError(
            f"{path}: someone else imported {kind} at the same time; nothing was written, run it again"
        ) from None
    return summary
