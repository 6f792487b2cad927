"""The fast paths of a registry import (issue 17) against the reference row-by-row path.

`ImportOptions(columnwise=False)` validates every row one by one (RowValidator.record) and writes
every chunk through EntityWriter.write (dicts, SQLAlchemy bulk insert, history built by json_dumps):
the reference. The default path reads CSV in blocks, validates blocks column by column, writes
all-new chunks with constants as SQL literals and, on SQLite, skips the per-chunk "does any key
exist" query when the table was empty at the start. Both must leave the same database, byte for
byte in a dump, and refuse hostile files with the same reports."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from inspect_kit.errors import InspectError
from inspect_kit.registry import importer
from inspect_kit.registry.importer import import_registry
from inspect_kit.registry.tabular import read_table
from tests.conftest import write_csv
from tests.test_registry_import import MESSY_HEADER, _messy_entity_rows, _outcome, _stored


def _dump(engine) -> list[str]:
    """Every statement of the SQLite database's dump (schema and rows)."""
    path = engine.url.database
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_fast_path_leaves_the_same_database_as_the_row_path(configured, twin, import_options, tmp_path, encoding):
    """Empty table first (the no-lookup path), then a file that updates some keys and adds others
    (the lookup path and the upsert), both with messy cells: quotes, backslashes, tabs, dates,
    unit names, blank lines."""
    n = 2 * importer.BLOCK + 777
    first = _messy_entity_rows(n)
    second = [first[0]] + _messy_entity_rows(n + 900, seed=5, renamed=True)[1 + n // 2 :]
    if encoding == "gbk":  # characters GBK has no code for are not in a GBK file
        first, second = (
            [[c.replace("\u200b", "").replace("e\u0301", "é") for c in r] for r in f] for f in (first, second)
        )
    paths = [write_csv(tmp_path / "a.csv", first, encoding), write_csv(tmp_path / "b.csv", second, encoding)]
    opts = import_options()
    for i, path in enumerate(paths):
        fast = _outcome(configured, path, opts)
        slow = _outcome(twin, path, dataclasses.replace(opts, columnwise=False))
        assert fast == slow
        assert fast[0] == "ok" and fast[1]["added"] > 0 and (i == 0 or fast[1]["updated"] > 0)
    assert _stored(configured) == _stored(twin)
    if configured.dialect.name == "sqlite":
        fast_dump, slow_dump = _dump(configured), _dump(twin)
        assert len(fast_dump) > n  # the entities (their insert history is a few block rows)
        assert fast_dump == slow_dump


def test_first_import_skips_the_lookup_only_while_it_holds_the_table(configured, import_options, tmp_path, monkeypatch):
    """The no-lookup path is taken on an empty table only; a second import, a dry run and
    PostgreSQL ask per chunk — and a key the table has is updated, not inserted twice."""
    import inspect_kit.registry.writers as writers

    asked: list[int] = []
    monkeypatch.setattr(
        writers, "any_exists", lambda conn, col, keys, _f=writers.any_exists: asked.append(1) or _f(conn, col, keys)
    )
    rows = _messy_entity_rows(importer.BLOCK + 10)
    path = write_csv(tmp_path / "a.csv", rows)
    import_registry(configured, "entities", path, import_options(dry_run=True))
    assert asked  # a dry run holds no write lock: it asks
    asked.clear()
    s = import_registry(configured, "entities", path, import_options())
    assert s.added == importer.BLOCK + 10
    assert bool(asked) == (configured.dialect.name != "sqlite")
    asked.clear()
    again = write_csv(tmp_path / "b.csv", [rows[0]] + _messy_entity_rows(importer.BLOCK + 10, renamed=True)[1:])
    s = import_registry(configured, "entities", again, import_options())
    assert asked and s.added == 0 and s.updated == importer.BLOCK + 10


def _table_rows(path):
    t = read_table(path, lambda r: 2)
    return t.headers, list(t.rows)


def test_block_reader_numbers_lines_across_blocks_as_the_row_reader(tmp_path):
    """Quoted newlines (one cell spanning lines), blank lines and apostrophe-quoted formulas, around
    the block boundaries of the reader: the same line numbers and cells through `rows` and through
    `row_blocks()`."""
    from inspect_kit.registry.table import BLOCK_ROWS

    rows = [MESSY_HEADER]
    for i in range(3 * BLOCK_ROWS + 7):
        cell = f"名称{i}"
        if i % 97 == 5:
            cell = f"多行\n名称{i}\r\n第三行"
        if i % 89 == 3:
            cell = f"'=SUM({i})"
        rows.append([f"code{i}", cell] + [""] * (len(MESSY_HEADER) - 2))
        if i % 211 == 0:
            rows.append([])
    path = write_csv(tmp_path / "m.csv", rows)
    headers, flat = _table_rows(path)
    t = read_table(path, lambda r: 2)
    blocks = list(t.row_blocks())
    assert [r for b in blocks for r in b] == flat
    assert all(0 < len(b) <= BLOCK_ROWS for b in blocks)
    # line numbers are the physical lines an editor shows: count them from the file itself
    text = path.read_text(encoding="utf-8")
    assert flat[-1][0] == len(text.splitlines())
    by_cell = {cells[0]: (num, cells[1]) for num, cells in flat if cells}
    assert by_cell["code3"][1] == "=SUM(3)"  # the apostrophe written against formulas is removed
    assert by_cell["code5"][1] == "多行\n名称5\r\n第三行"
    after = by_cell["code6"][0]
    assert after == by_cell["code5"][0] + 1 and text.splitlines()[after - 1].startswith("code6,")


@pytest.mark.parametrize("at", [3, 499, 500, 1234])
def test_a_broken_row_in_a_later_block_is_named_as_before(tmp_path, at):
    """An over-long cell at and after block boundaries (and in the rows the header is looked for
    in): the report names the row and column where the file breaks, whatever block it falls in."""
    import csv

    rows = [MESSY_HEADER] + [[f"c{i}", f"n{i}"] + [""] * 12 for i in range(1500)]
    long_rows = [list(r) for r in rows]
    long_rows[at][3] = "x" * (csv.field_size_limit() + 5)
    path = write_csv(tmp_path / "long.csv", long_rows)
    with pytest.raises(InspectError) as e:
        _table_rows(path)
    assert f"row {at + 1}, column '监管部门'" in str(e.value)


def test_uscc_column_check_is_the_check_of_every_code():
    """uscc.all_valid(codes) == all(uscc.problem(c) is None for c in codes), on columns of valid
    codes with one code spoiled in every way: check character, shape, length, case, a newline
    that would make two codes of one cell."""
    import random

    from inspect_kit.registry import uscc

    rng = random.Random(11)

    def code() -> str:
        a = "".join(rng.choice(uscc.ALPHABET) for _ in range(2))
        return uscc.with_check(a + f"{rng.randrange(10**6):06d}" + "".join(rng.choice(uscc.ALPHABET) for _ in range(9)))

    spoil = [
        lambda c: c[:-1] + uscc.ALPHABET[(uscc.ALPHABET.index(c[-1]) + rng.randrange(1, 31)) % 31],
        lambda c: c[:5] + "A" + c[6:],  # a letter among the division digits
        lambda c: c[:-1],
        lambda c: c + "0",
        lambda c: c.lower() if c.lower() != c else "I" + c[1:],
        lambda c: c + "\n" + code(),
        lambda c: c[:3] + "O" + c[4:],
        lambda c: "",
        lambda c: c[:9] + "\n" + c[10:],
    ]
    for trial in range(300):
        codes = [code() for _ in range(rng.randrange(1, 60))]
        if trial % 3:
            i = rng.randrange(len(codes))
            codes[i] = rng.choice(spoil)(codes[i])
        assert uscc.all_valid(codes) == all(uscc.problem(c) is None for c in codes), codes
    assert uscc.all_valid([])


def test_closing_the_rows_early_closes_the_file(tmp_path):
    """A reader that stops early (rows.close()) releases the file at once, not when collected."""
    import gc
    import os

    from inspect_kit.registry.table import BLOCK_ROWS

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to see open files")
    path = write_csv(tmp_path / "e.csv", [MESSY_HEADER] + [[f"c{i}"] + [""] * 13 for i in range(2 * BLOCK_ROWS)])

    def open_on_path() -> int:
        return sum(os.path.realpath(f"/proc/self/fd/{fd}") == str(path.resolve()) for fd in os.listdir("/proc/self/fd"))

    gc.disable()  # the file must be closed by close(), not by the collector
    try:
        t = read_table(path, lambda r: 2)
        rows = t.rows
        first = [next(rows) for _ in range(BLOCK_ROWS + 3)]
        assert first[-1][1][0] == f"c{BLOCK_ROWS + 2}" and open_on_path() == 1
        rows.close()
        assert open_on_path() == 0
    finally:
        gc.enable()
