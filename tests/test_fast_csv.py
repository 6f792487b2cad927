"""The compiled CSV path of a registry import (inspect_kit/_csvx.c, registry.fast_csv) against the
Python path (csv.reader, the Python checks and validators): hostile random files imported both ways
must leave the same database and the same report, and each compiled piece must agree with the
Python function it stands for."""

from __future__ import annotations

import array
import csv
import dataclasses
import io
import random
import sqlite3
import unicodedata

import pytest

from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.registry import fast_csv, importer
from inspect_kit.registry.importer import import_registry
from inspect_kit.registry.writers import jsonable
from inspect_kit.storage.db import json_dumps
from inspect_kit.text import REFUSED_TEXT, clean_cell
from tests.test_registry_import import MESSY_HEADER, _messy_entity_rows, _stored

pytestmark = pytest.mark.skipif(not fast_csv.available(), reason="the C extension inspect_kit._csvx is not built")


def _result(engine, path, opts):
    try:
        return ("ok", import_registry(engine, "entities", path, opts).__dict__)
    except ValidationFailed as exc:
        return ("refused", str(exc), [(p.reason, p.file, p.row, p.column) for p in exc.problems])
    except InspectError as exc:
        return ("error", str(exc))


def _both_ways(monkeypatch, fast_engine, slow_engine, path, opts):
    """The outcome of importing `path` with the compiled reader and without it (nothing else
    differs), and the rows the compiled reader read."""
    read: list[int] = []
    real = fast_csv.parse_block
    monkeypatch.setattr(fast_csv, "parse_block", lambda *a: (r := real(*a)) and read.append(len(r[2].nums)) or r)
    monkeypatch.setattr(fast_csv, "enabled", True)
    fast = _result(fast_engine, path, opts)
    monkeypatch.setattr(fast_csv, "parse_block", real)
    monkeypatch.setattr(fast_csv, "enabled", False)
    slow = _result(slow_engine, path, opts)
    monkeypatch.setattr(fast_csv, "enabled", True)
    return fast, slow, sum(read)


ODD_NAMES = [
    "  前后空格{i}  ",
    "全角\u3000空格{i}",
    "不换行\u00a0空格{i}",
    "零宽\u200b{i}",
    "软\u00ad连字符{i}",
    "e\u0301组合{i}",
    "制表\t符{i}",
    '引号"{i}"',
    "反斜杠\\{i}",
    "（全角括号）{i}",
    "ＡＢＣ１２３{i}",
    "兼容\uf900汉字{i}",
    "𠀀扩展{i}",
    "“引”…—{i}",
    "·少数民族{i}",
    "逗,号{i}",
    "分;号{i}",
]
DECLINED_NAMES = ["多行\n名称{i}", "回车\r\n名称{i}", "'=SUM({i})", "'abc{i}"]  # csv.reader reads their blocks


def _plain_rows(rng: random.Random, n: int) -> list[list[str]]:
    """Rows whose blocks pass the column-wise validation (valid codes, known categories), with odd
    text in the free-text columns: what the compiled reader cleans and the column path stores."""
    from inspect_kit.registry.uscc import with_check

    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    rows = [MESSY_HEADER]
    for i in range(n):
        code = with_check(f"91360199{rng.randrange(10**9):09d}")
        code = rng.choice([code] * 6 + [code.lower(), code.translate(fw), f" {code}"])
        name = rng.choice(ODD_NAMES).format(i=i) if rng.random() < 0.3 else f"商贸{i}有限公司"
        odd = rng.choice(["", "城关镇", " 城关镇", "城关　镇", "清水​镇", "白沙  乡"])
        rows.append(
            [code, name, rng.choice(["企业", "个体工商户"]), rng.choice(["", "SCJG"]), "", odd]
            + [rng.choice(["", "制造业", "批发\t零售"]), rng.choice(["", "A", "Ｂ"]), rng.choice(["", "存续"])]
            + ["", "", "", rng.choice(["", f"138{i:08d}", f"１３８{i:08d}", f"138 {i:08d}"]), odd]
        )
    return rows


def _hostile_rows(rng: random.Random, n: int, seed: int, plain: bool) -> list[list[str]]:
    if not plain:
        rows = _messy_entity_rows(n, bad_every=rng.choice([0, 0, 53]), bad_from=rng.randrange(1500, n), seed=seed)
    else:
        rows = _plain_rows(rng, n)
    out = [rows[0]]
    declined = rng.randrange(len(rows))  # one row csv.reader reads (its block of BLOCK_ROWS with it)
    for i, row in enumerate(rows[1:]):
        row = list(row)
        r = rng.random()
        if row and r < 0.05:
            row[1] = rng.choice(ODD_NAMES).format(i=i)
        elif row and r < 0.06:
            row = row[: rng.randrange(3, len(row))]  # a short row
        elif row and r < 0.07:
            row = row + ["", "多余"]
        elif row and r < 0.08:
            row[13] = " " + row[13] + "  "
        if i == declined:
            row[1] = rng.choice(DECLINED_NAMES).format(i=i)
        out.append(row)
        if rng.random() < 0.01:
            out.append(rng.choice([[], [""], ["", ""], [" ", "\u3000"], ["\t"], ["  "] * 14]))
        if rng.random() < 0.001 and len(out) > 20:
            out.append(list(rng.choice(out[1:])))  # a repeat, identical
    return out


def _serialize(rng: random.Random, rows: list[list[str]], delimiter: str, hostile: str | None) -> str:
    """CSV text, quoting as a careless exporter does; `hostile` adds one thing csv.reader reads its
    own way or the checks refuse."""
    ends = rng.choice([["\r\n"], ["\n"], ["\r\n", "\n", "\r"]])
    lines = []
    for row in rows:
        cells = []
        for c in row:
            if any(ch in c for ch in f'"{delimiter}\r\n') or rng.random() < 0.1:
                c = '"' + c.replace('"', '""') + '"'
            cells.append(c)
        lines.append(delimiter.join(cells))
    k = rng.randrange(12, len(lines))
    if hostile == "refused":
        lines[k] += rng.choice(["\x07", "\x1b", "\u202e", "\x85"])
    elif hostile == "after quote":
        lines[k] = '"ab"c' + delimiter + lines[k]
    elif hostile == "wide":
        lines[k] += delimiter * 600
    elif hostile == "long":
        lines[k] = lines[k].replace(delimiter, delimiter + "长" * 40_000, 1)
    elif hostile == "inner quote":
        lines[k] = lines[k].replace(delimiter, delimiter + 'a"b', 1)
    elif hostile == "open quote":
        lines[-1] += delimiter + '"never closed'
    return "".join(line + rng.choice(ends) for line in lines)


CASES = [
    (1, "utf-8", None),
    (2, "utf-8-sig", None),
    (3, "gbk", None),
    (4, "utf-16", None),
    (14, "utf-8", None),
    (16, "gbk", None),
    (5, "utf-8", "refused"),
    (6, "utf-8", "after quote"),
    (7, "utf-8", "wide"),
    (8, "utf-8", "long"),
    (9, "utf-8", "inner quote"),
    (10, "utf-8", "open quote"),
    (11, "utf-8", "bad byte"),
    (12, "gbk", "refused"),
]


@pytest.mark.parametrize("seed,encoding,hostile", CASES)
def test_random_hostile_files_leave_the_same_database_both_ways(
    configured, twin, import_options, tmp_path, monkeypatch, seed, encoding, hostile
):
    """A first import into empty tables, then a second file over it (updates, new rows, repeats):
    the same outcome — counts, problem reports (file, row, column, reason) or refusal — and the
    same rows in every table, byte for byte in a dump on SQLite."""
    rng = random.Random(seed)
    for step in range(2):
        n = rng.randrange(importer.BLOCK, 2 * importer.BLOCK + 600)
        rows = _hostile_rows(rng, n, seed * 10 + step, plain=seed % 2 == 0)
        delimiter = "\t" if encoding == "utf-16" else rng.choice([",", ",", ";"])
        text = _serialize(rng, rows, delimiter, hostile if step == 0 else None)
        if encoding == "gbk":  # only what GBK can hold
            text = text.encode("gbk", errors="ignore").decode("gbk")
        data = text.encode(encoding)
        opts = import_options(
            skip_duplicate_rows=rng.random() < 0.5,
            dry_run=step == 1 and seed % 3 == 0,
            encoding="utf-8" if hostile == "bad byte" else None,
        )
        if hostile == "bad byte" and step == 0:
            at = data.index(b"\n", rng.randrange(len(data) // 4, len(data) // 2))
            data = data[:at] + b"\xff\xfe" + data[at:]
        path = tmp_path / f"f{step}.csv"
        path.write_bytes(data)
        fast, slow, compiled = _both_ways(monkeypatch, configured, twin, path, opts)
        assert fast == slow
        if hostile is not None and step == 0:
            assert fast[0] != "ok"
        else:  # most blocks are read the compiled way
            assert compiled > n // 2, (compiled, n)
        if seed % 2 == 0 and hostile is None:  # and most are stored column by column
            assert fast[0] == "ok" or len(fast[2]) < 10, fast[:2]
    assert _stored(configured) == _stored(twin)
    if configured.dialect.name == "sqlite":
        dumps = []
        for eng in (configured, twin):
            with sqlite3.connect(eng.url.database) as conn:
                dumps.append(list(conn.iterdump()))
        assert dumps[0] == dumps[1]


def test_a_clean_file_is_read_by_the_compiled_reader(configured, import_options, tmp_path, monkeypatch):
    """The common file goes the compiled way (else the tests above compare Python with itself)."""
    monkeypatch.setattr(fast_csv, "enabled", True)
    calls = []
    real = fast_csv.parse_block
    monkeypatch.setattr(fast_csv, "parse_block", lambda *a: calls.append(r := real(*a)) or r)
    path = tmp_path / "e.csv"
    path.write_text("".join(",".join(r) + "\n" for r in _messy_entity_rows(3 * importer.BLOCK)), encoding="utf-8")
    s = import_registry(configured, "entities", path, import_options())
    assert s.added > 2 * importer.BLOCK
    assert calls and sum(len(c[2].nums) for c in calls if c is not None) > importer.BLOCK


def _csv_records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line, cells) as csv.reader reads `text` (a file opened with newline="")."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [(reader.line_num, row) for row in reader]


ALPHABET = list("ab ,;\t\"'\r\n") + ["中", "\u3000", "\u00a0", "\u200b", "e\u0301", "Ａ", "\x07", "\u202e", "𠀀"]


def test_parse_block_reads_what_csv_reader_reads():
    """On random short texts: where parse_block answers, it gives csv.reader's records (blank ones
    left out), each wanted cell cleaned, and the flags; it declines whatever the Python checks would
    refuse. Also the prefix it reads when the text may go on (not final)."""
    rng = random.Random(3)
    answered = 0
    for _ in range(4000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))
        delimiter = rng.choice([",", ";", "\t"])
        wanted = tuple(rng.sample(range(4), rng.randrange(1, 4)))
        final = rng.random() < 0.7
        got = fast_csv.parse_block(text, 0, 1000, final, delimiter, 5, wanted, clean_cell)
        if got is None:
            continue
        end, lines, block = got
        if not final:  # only whole lines: those before `end`
            assert end in (0, len(text)) or text[end - 1] in "\r\n"
            assert not (text[end - 1 : end] == "\r" and end == len(text))
        records = _csv_records(text[:end], delimiter)
        assert lines == len(records)
        filled = [(n + 5, r) for n, r in records if "".join(r).strip()]
        assert block.nums == [n for n, _ in filled]
        for j, c in enumerate(wanted):
            col = [clean_cell(r[c]) if c < len(r) else "" for _, r in filled]
            assert block.cells[j] == col
            assert bool(block.flags[j] & fast_csv.EMPTY) == ("" in col)
            if block.flags[j] & fast_csv.ASCII_NO_SPACE:
                assert all(x.isascii() and " " not in x for x in col)
        for _, r in records:
            assert all(REFUSED_TEXT.search(c) is None and not c.startswith("'") for c in r)
        answered += 1
    assert answered > 1000


def test_parse_block_declines_a_bad_record_anywhere_in_the_block():
    good = "a,b\n" * 5
    for bad in ['"a\nb",c\n', "x\x00y,b\n", "'=1,b\n", '"a"b,c\n', "a" * 40_000 + ",b\n", ",".join("x" * 520) + "\n"]:
        assert fast_csv.parse_block(good + bad + good, 0, 100, True, ",", 0, (0,), clean_cell) is None
    assert fast_csv.parse_block(good + bad, 0, 5, True, ",", 0, (0,), clean_cell) is not None  # not reached


def test_plain_characters_need_no_cleaning_and_stay_nfc():
    """The ranges _csvx.c takes as plain (no clean_cell call): never white space, invisible or
    refused, combining class 0, and never the second character of a canonical composition, so that
    any text of them and ASCII is NFC."""
    ranges = [(0x4E00, 0x9FFF), (0xFF01, 0xFF5E), (0x3001, 0x3029), (0x3400, 0x4DBF), (0xA1, 0xFF), (0x2010, 0x2027)]
    seconds = set()
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<") and len(d.split()) == 2:
            seconds.add(int(d.split()[1], 16))
    for lo, hi in ranges:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if cp == 0xAD:
                continue
            assert not ch.isspace() and REFUSED_TEXT.search(ch) is None and clean_cell(ch) == ch, hex(cp)
            assert unicodedata.combining(ch) == 0 and cp not in seconds, hex(cp)
            assert unicodedata.is_normalized("NFC", "a" + ch + "中"), hex(cp)


def test_json_columns_is_json_dumps():
    import datetime as dt

    rng = random.Random(5)
    pool = [chr(c) for c in range(0x20)] + list('"\\/ aé中😀\u2028\x7f\ud7ff') + ["\U0010ffff"]
    for _ in range(300):
        cols = [
            [
                None
                if rng.random() < 0.1
                else dt.date(2026, 1, rng.randrange(1, 29))
                if rng.random() < 0.05
                else "".join(rng.choice(pool) for _ in range(rng.randrange(0, 8)))
                for _ in range(rng.randrange(0, 6))
            ]
            for _ in range(rng.randrange(0, 4))
        ]
        assert fast_csv.json_columns(cols, jsonable) == json_dumps([[jsonable(v) for v in c] for c in cols])
    assert fast_csv.json_columns([["a", 1]], jsonable) is None  # not str: serialized in Python
    assert fast_csv.json_columns([[["x"]]], jsonable) is None


def test_row_hashes_are_tuple_hashes_and_the_key_index_is_a_dict():
    rng = random.Random(9)
    for _ in range(200):
        width, n = rng.randrange(0, 5), rng.randrange(0, 30)
        cols = [[rng.choice([None, "", "中", str(rng.random()), 7, (1, "a")]) for _ in range(n)] for _ in range(width)]
        got = fast_csv.row_hashes(cols)
        if width:
            a = array.array("q")
            a.frombytes(got)
            assert list(a) == [hash(t) for t in zip(*cols)]
    index, ref = fast_csv.key_index(), {}
    for step in range(3000):
        keys = [
            rng.choice(["a", "b", str(rng.randrange(5000)), ("x", str(rng.randrange(50)))])
            for _ in range(rng.randrange(0, 6))
        ]
        start = len(ref) + step
        fresh = len(set(keys)) == len(keys) and ref.keys().isdisjoint(keys)
        assert index.add_new(keys, start) == fresh
        if fresh:
            ref.update(zip(keys, range(start, start + len(keys))))
        k = rng.choice(keys) if keys else "zz"
        assert index.get(k) == ref.get(k) and len(index) == len(ref)


def test_uscc_check_is_the_python_check():
    from inspect_kit.registry import uscc

    rng = random.Random(4)
    for _ in range(3000):
        body = "".join(rng.choice(uscc.ALPHABET + "IOSVZa０ ") for _ in range(17))
        code = rng.choice(
            [body + rng.choice(uscc.ALPHABET), uscc.with_check(body) if set(body) <= set(uscc.ALPHABET) else body]
        )
        codes = [code, uscc.with_check("91360199000000001")]
        assert fast_csv.uscc_all_valid(codes) == all(uscc.is_valid(c) for c in codes), code
    assert fast_csv.uscc_all_valid([]) is True
    assert fast_csv.uscc_all_valid(["x", 1]) is None


def test_turned_off_nothing_compiled_runs(configured, import_options, tmp_path, monkeypatch):
    """fast_csv.enabled = False (INSPECT_CSVX=0): the Python path only."""
    from inspect_kit import _csvx

    monkeypatch.setattr(fast_csv, "enabled", False)
    for name in ("parse_block", "json_columns", "row_hashes", "uscc_all_valid", "KeyIndex"):
        monkeypatch.setattr(_csvx, name, None, raising=True)
    path = tmp_path / "e.csv"
    path.write_text("".join(",".join(r) + "\n" for r in _messy_entity_rows(importer.BLOCK + 9)), encoding="utf-8")
    assert import_registry(configured, "entities", path, import_options()).added > importer.BLOCK


def test_header_alone_and_dataclass_shape():
    assert [f.name for f in dataclasses.fields(fast_csv.ColumnBlock)] == ["nums", "cells", "flags"]
    assert fast_csv.parse_block("", 0, 10, True, ",", 0, (0,), clean_cell) == (
        0,
        0,
        fast_csv.ColumnBlock([], [[]], [2]),
    )
    assert MESSY_HEADER[0] == "统一社会信用代码"


def test_flat_rows_are_the_zipped_rows_chained():
    """The parameters of bulk.py's multi-row INSERTs: the same tuples as zip + chain, any kinds of
    value, the last n % per rows left out."""
    from itertools import chain

    from inspect_kit import _csvx

    rng = random.Random(2)
    for _ in range(200):
        width, n, per = rng.randrange(1, 6), rng.randrange(0, 40), rng.randrange(1, 9)
        cols = [[rng.choice([None, "", "中", 3, 2.5, (1,)]) for _ in range(n)] for _ in range(width)]
        rows = list(zip(*cols))
        want = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, n - n % per, per)]
        assert _csvx.flat_rows(cols, per) == want
    with pytest.raises(ValueError):
        _csvx.flat_rows([[1, 2], [3]], 1)
