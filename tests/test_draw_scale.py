"""The fast draw paths against the slow ones and the package: the streamed frame (FrameBuilder,
frame_members, draw_members), the in-database draw on PostgreSQL (inspect_kit.draw.store.indb), and the
transparency log's bulk digest of a draw's tasks. Random instances include Chinese identifiers,
strata and seeds, empty and full strata, and hostile values."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import zlib

import pytest
from consistent_sampler import sampler as oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update

from inspect_kit.draw import service
from inspect_kit.draw.core.frame import (
    FrameBuilder,
    canonical_frame_bytes,
    canonical_rows,
    draw_members,
    draw_stratified,
    frame_members,
    frame_sha256,
)
from inspect_kit.draw.core.sampler import tickets
from inspect_kit.draw.core.seeds import SeedSource
from inspect_kit.draw.store import indb, prepare
from inspect_kit.errors import InspectError
from inspect_kit.storage.models import Draw, Task
from inspect_kit.transparency import store
from inspect_kit.transparency.chain import canonical, row_content

T0 = dt.datetime(2026, 1, 5, 9, 0)
DICE = SeedSource.witnessed("掷骰", ["公证员周文"])
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY企业城关镇个体户\\'\"%-é"


def _instance(rnd: random.Random, n: int) -> tuple[list[tuple[str, str]], dict[str, int], str]:
    ids = list({"".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, 20))) for _ in range(n)})
    labels = ["A", "甲类", "B/城关镇", "z"][: rnd.randint(1, 4)]
    rows = [(i, rnd.choice(labels)) for i in ids]
    present = {s for _, s in rows}
    counts = {s: sum(1 for _, x in rows if x == s) for s in present}
    sizes = {s: rnd.choice([0, 1, counts[s], rnd.randint(0, counts[s])]) for s in present}
    seed = rnd.choice(["48213 90577 16342 75018", "种子·随机", str(rnd.random())])
    return rows, sizes, seed


def _sample(result):
    return [(s, c.id, c.ticket, c.rank) for s, c in result.sample]


def _add_enterprises(conn, rows) -> None:
    """Active enterprises of department SCJG: (identifier, credit class) rows."""
    conn.execute(
        text(
            "INSERT INTO entities (identifier, id_scheme, name, category, department, credit_class, "
            "status, updated_at) VALUES (:i, 'uscc', 'x', '企业', 'SCJG', :c, 'active', :t)"
        ),
        [{"i": i, "c": c, "t": T0} for i, c in rows],
    )


@pytest.mark.parametrize("case", range(6))
def test_streamed_frame_equals_the_canonical_one(case):
    rnd = random.Random(case)
    rows, sizes, seed = _instance(rnd, 300)
    ordered = canonical_rows(rows)
    b = FrameBuilder()
    cut = rnd.randint(0, len(ordered))
    assert b.add(ordered[:cut]) and b.add(ordered[cut:])
    sha, blob = b.finish()
    assert sha == frame_sha256(rows) and zlib.decompress(blob) == canonical_frame_bytes(rows)
    got_sha, n, members = frame_members(blob)
    assert got_sha == sha and n == len(rows) and members is not None
    assert _sample(draw_members(seed, members, sizes, sha)) == _sample(draw_stratified(seed, rows, sizes))
    for label, n in sizes.items():  # and the package
        expected = list(oracle(members[label], seed=seed, with_replacement=False, take=n, output="id"))
        assert [c.id for c in draw_members(seed, members, sizes, sha).stratum(label).selected] == expected


@pytest.mark.parametrize(
    "bad",
    [
        [("b", "S"), ("a", "S")],  # not in code point order (a collation that is not byte order)
        [("a", "S"), ("a", "T")],  # a duplicate
        [("a\tb", "S")],
        [("a", "")],
        [("", "S")],
        [("a", "x\u2028")],
        [("a", 5)],
    ],
)
def test_builder_refuses_what_is_not_plainly_canonical(bad):
    assert FrameBuilder().add(bad) is False
    b = FrameBuilder()
    assert b.add([("b", "S")]) and not b.add([("a", "S")])  # order holds across chunks too


@pytest.mark.parametrize(
    "text_",
    [b"a\tS\tT\nb\tS\n", b"b\tS\na\tS\n", b"a\tS\na\tS\n", b"a\t\n", b"\tS\n", b"a\tS\nbS\nc\t\tS\n", b"a\x01\tS\n"],
)
def test_stored_frames_that_are_not_canonical_go_the_slow_way(text_):
    sha, _, members = frame_members(zlib.compress(text_))
    assert sha == hashlib.sha256(text_).hexdigest() and members is None


def test_log_digest_of_tasks_in_bulk_equals_row_by_row():
    keys = ["id", "draw_id", "task_no", "identifier", "stratum", "ticket", "rank", "note"]
    rows = [
        (1, 7, "X-001", '企业"1', "A", "0.1", 1, None),
        (2, 7, "X-002", "id},{x", "B", "0.2", 2, "n"),
        (3, 7, "X-003", "c", "甲", "0.3", 3, dt.date(2026, 1, 2)),
    ]
    for chunk in (rows[:1], rows[:2], rows, [rows[0], rows[2]]):
        h = hashlib.sha256()
        store._feed_children(h, keys, chunk)
        expected = hashlib.sha256(b"".join(canonical(row_content(dict(zip(keys, r)))) + b"\n" for r in chunk))
        assert h.hexdigest() == expected.hexdigest()


# -- PostgreSQL: the in-database draw --------------------------------------------------------------


def _pg(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")


@pytest.mark.parametrize("case", range(4))
def test_in_database_tickets_and_sample_equal_the_client_path(engine, case):
    _pg(engine)
    rnd = random.Random(100 + case)
    rows, sizes, seed = _instance(rnd, 400)
    b = FrameBuilder()
    assert b.add(canonical_rows(rows))
    sha, blob = b.finish()
    with engine.begin() as conn:
        conn.execute(text('CREATE TEMP TABLE t (identifier text COLLATE "C")'))
        conn.execute(text("INSERT INTO t VALUES (:i)"), [{"i": i} for i, _ in rows])
        prefix = hashlib.sha256(seed.encode()).hexdigest().encode()
        got = dict((i, t) for i, t, _ in conn.execute(text(indb.tickets_sql("t")), {"prefix": prefix}))
        assert got == dict(zip([i for i, _ in rows], tickets(seed, [i for i, _ in rows])))
        d = indb.draw(conn, 1, blob, sha, seed, sizes)
        sample = conn.execute(
            text(
                "SELECT stratum, identifier, ticket, rank FROM inspect_frame_1_sample "
                'ORDER BY stratum COLLATE "C", rank'
            )
        ).all()
        assert [tuple(r) for r in sample] == _sample(draw_stratified(seed, rows, sizes))
        assert d.n_selected == len(sample)
        conn.rollback()


def test_a_short_ticket_is_padded_like_the_package(engine):
    """x < 10**63 (a digest with leading zero bytes) needs the zero padding to 64 digits."""
    _pg(engine)
    with engine.connect() as conn:
        sql = indb.tickets_sql("(SELECT 'x'::text AS identifier) ").replace(
            "sha256(CAST(:prefix AS bytea) || convert_to(f.identifier, 'UTF8'))", "CAST(:digest AS bytea)"
        )
        for x in (0, 1, 10**62 + 7, 2**256 - 1, 10**63):
            got = conn.execute(text(sql), {"digest": x.to_bytes(32, "big")}).one()[1]
            assert got == "0." + str(x).zfill(64)[::-1]


def test_service_draws_in_the_database_byte_identical_to_the_client(engine, config):
    """The same registry drawn both ways (the second a re-draw of the same frame and seed source):
    same frame hash, same tasks in the same order, same sample hash; and the log verifies."""
    _pg(engine)
    from tests.test_draw_service import draw

    rnd = random.Random(7)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entities (identifier, id_scheme, name, category, department, township, "
                "credit_class, status, updated_at) VALUES (:i, 'uscc', :n, '企业', 'SCJG', '城关镇', :c, "
                "'active', :t)"
            ),
            [
                {"i": i, "n": f"企业{k}", "c": rnd.choice(["A", "B", "C", "D", None]), "t": T0}
                for k, (i, _) in enumerate(_instance(rnd, 600)[0])
            ],
        )
    a = draw(engine, indb.with_min_rows(config, 0), "SCJG-01", "2026")
    b = draw(
        engine,
        indb.with_min_rows(config, None),
        "SCJG-01",
        "2026",
        redraw=True,
        reason="the other path",
        prep=T0 + dt.timedelta(hours=2),
        now=T0 + dt.timedelta(hours=3),
    )
    assert a.frame_sha256 == b.frame_sha256 and a.n_selected == b.n_selected > 0
    strip = [{k: v for k, v in t.items() if k != "task_no"} for t in a.tasks]
    assert strip == [{k: v for k, v in t.items() if k != "task_no"} for t in b.tasks]
    assert [t["task_no"].replace("SCJG-01-2026-", "") for t in a.tasks] == [
        t["task_no"].replace("SCJG-01-2026-R1-", "") for t in b.tasks
    ]
    with engine.connect() as conn:
        digests = conn.execute(select(Draw.sample_sha256).order_by(Draw.id)).scalars().all()
        assert digests[0] == digests[1]
        assert store.verify_log(conn).ok
    assert service.verify_draw(engine, a.id).ok


def test_in_database_draw_refuses_an_altered_frame(engine, config):
    _pg(engine)
    from inspect_kit.storage.models import Frame

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entities (identifier, id_scheme, name, category, department, credit_class, "
                "status, updated_at) VALUES (:i, 'uscc', 'x', '企业', 'SCJG', 'A', 'active', :t)"
            ),
            [{"i": f"ID{k:04d}", "t": T0} for k in range(50)],
        )
    config = indb.with_min_rows(config, 0)
    f = service.prepare_frame(engine, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    forged = zlib.compress("".join(f"ID{k:04d}\tA\n" for k in range(1, 51)).encode())
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE frames DISABLE TRIGGER USER"))
        conn.execute(update(Frame).where(Frame.id == f.id).values(frame_blob=forged))
        conn.execute(text("ALTER TABLE frames ENABLE TRIGGER USER"))
    with pytest.raises(InspectError, match="does not match its stored SHA-256"):
        service.run_draw(
            engine, config, "SCJG-01", "2026", seed="48213 90577 16342 75018", now=T0 + dt.timedelta(hours=1)
        )
    with engine.connect() as conn:
        assert conn.execute(select(Task.id)).first() is None


def test_a_frame_not_streamed_in_order_is_built_the_slow_way_with_the_same_hash(engine, config, monkeypatch):
    """If the database's order is not code point order (or a value is not plain), prepare re-reads
    the frame and sorts it in Python: the frozen frame is the same."""
    with engine.begin() as conn:
        _add_enterprises(conn, [("乙0001", "A"), ("B0002", None), ("a0003", "B"), ("A0004", "A"), ("甲0005", "C")])
    rows = [("乙0001", "A"), ("B0002", "-"), ("a0003", "B"), ("A0004", "A"), ("甲0005", "C")]
    calls = []

    class Unordered(FrameBuilder):
        def add(self, chunk):
            calls.append(len(chunk))
            return False if len(calls) == 1 else super().add(chunk)

    monkeypatch.setattr(prepare, "FrameBuilder", Unordered)  # the frame is frozen in draw/store/prepare.py
    f = service.prepare_frame(engine, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    assert len(calls) == 2 and f.sha256 == frame_sha256(rows) and f.n_rows == 5
    d = service.run_draw(
        engine, config, "SCJG-01", "2026", seed="48213 90577 16342 75018", now=T0 + dt.timedelta(hours=1)
    )
    assert d.frame_sha256 == f.sha256 and d.n_selected == sum(s["n"] for s in f.strata)


_JSON_TRAPS = st.sampled_from(list('"\\%sd},{\n\x00\x1f\u2028企😀é'))  # "%s", "},{", escapes, controls
_text = st.text(alphabet=_JSON_TRAPS | st.characters(exclude_categories=("Cs",)), max_size=12)
_KEYS = st.lists(
    st.text(alphabet=_JSON_TRAPS | st.sampled_from("abz_"), min_size=1, max_size=6), min_size=1, max_size=5, unique=True
)


@settings(max_examples=80, deadline=None)
@given(keys=_KEYS, data=st.data())
def test_log_template_lines_equal_the_canonical_json_of_each_row(keys, data):
    """The %-template path of the log digest (int and str columns) against canonical() row by row:
    quotes, backslashes, control characters, "%" in values and keys, huge and negative ints, bools
    and None (which must leave the template path) — the same bytes every time."""
    kinds = [data.draw(st.sampled_from(["int", "str", "mixed"])) for _ in keys]
    column = {
        "int": st.integers(-(10**30), 10**30),
        "str": _text,
        "mixed": st.one_of(st.integers(), _text, st.booleans(), st.none()),
    }
    rows = data.draw(st.lists(st.tuples(*[column[k] for k in kinds]), min_size=2, max_size=8))
    h = hashlib.sha256()
    store._feed_children(h, keys, rows)
    expected = b"".join(canonical(row_content(dict(zip(keys, r)))) + b"\n" for r in rows)
    assert h.hexdigest() == hashlib.sha256(expected).hexdigest()
    if "mixed" not in kinds:
        assert store._template_lines(keys, rows) == expected.decode()  # the template path was taken


@pytest.mark.parametrize("case", range(3))
def test_the_log_digest_of_tasks_from_memory_equals_reading_them_back(engine, config, monkeypatch, case):
    """`run` digests the tasks it just wrote from the sample in memory plus (id, entity_id) read
    back (run._tasks_digest), not the whole rows: the logged content must be exactly what reading
    the tasks back gives (store.record_content) — identifiers with quotes, backslashes, "%", "é"
    and Chinese, task numbers past 999 — hashed in slices (cases 0, 1) or rendered ahead on a
    thread while the tasks are written (case 2, store.LinesAhead) — and the log must verify."""
    from inspect_kit.draw.store import run as run_mod
    from inspect_kit.transparency.chain import content_sha256

    rnd = random.Random(200 + case)
    rows = _instance(rnd, 2400)[0]
    with engine.begin() as conn:
        _add_enterprises(conn, [(i, rnd.choice("ABDDDDDDDDD")) for i, _ in rows])
    hashed = []
    if case < 2:
        monkeypatch.setattr(run_mod, "_AHEAD_MAX", 0)
        monkeypatch.setattr(run_mod, "_DIGEST_SLICE", [97, 1][case])  # hashed in slices, single rows too

        def spy(keys, slices):
            return store.children_sha256(keys, (hashed.append(len(part[0])) or part for part in slices))

        monkeypatch.setattr(run_mod, "children_sha256", spy)
    else:
        monkeypatch.setattr(run_mod, "spare_cores", lambda: 1)  # as on an idle machine
        monkeypatch.setattr(run_mod, "lines_compiled", lambda: False)  # rendered ahead in Python
        digest = store.LinesAhead.sha256

        def spy_digest(self, late):
            hashed.append(len(late["id"]))
            return digest(self, late)

        monkeypatch.setattr(store.LinesAhead, "sha256", spy_digest)
        monkeypatch.setattr(store.LinesAhead, "_BLOCK", 97)  # hashed block by block
        monkeypatch.setattr(run_mod, "children_sha256", None)  # never called
    service.prepare_frame(engine, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    d = service.run_draw(
        engine, config, "SCJG-01", "2026", seed="种子 %s},{ 48213 90577 16342 75018", now=T0 + dt.timedelta(hours=1)
    )
    assert sum(hashed) == d.n_selected > 1000  # the in-memory digest
    assert max(hashed) == [97, 1, d.n_selected][case]  # in slices, or all at once
    with engine.connect() as conn:
        entry = store.entry_of(conn, "draw", d.id)
        assert entry is not None
        assert entry.content_sha256 == content_sha256(store.record_content(conn, "draw", d.id))
        assert store.verify_log(conn).ok


@settings(max_examples=200, deadline=None)
@given(keys=_KEYS, data=st.data())
def test_log_lines_rendered_in_c_equal_the_template(keys, data):
    """The compiled renderer of the log's child lines (json_lines) against the %-template it
    replaces (store._template_columns), the oracle: every control character and quote, non-BMP,
    ints at and beyond 64 bits, and, where the template declines (bools, None), or where C cannot
    (a lone surrogate, an int beyond 64 bits), `_template_bytes` gives the template's answer."""
    if store._compiled is None:
        pytest.skip("the C extension is not built")
    edge = st.sampled_from([0, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 10**30])
    column = {
        "int": st.integers(-(2**62), 2**62) | edge,
        "str": st.text(
            alphabet=_JSON_TRAPS
            | st.characters(exclude_categories=("Cs",))
            | st.sampled_from([chr(c) for c in range(0x20)] + ["\x7f"]),
            max_size=12,
        ),
        "odd": st.one_of(st.booleans(), st.none(), st.sampled_from(["\ud800", "a\udfff"]), st.floats(allow_nan=False)),
    }
    kinds = [data.draw(st.sampled_from(["int", "str", "str", "odd"])) for _ in keys]
    n = data.draw(st.integers(1, 6))
    columns = [data.draw(st.lists(column[k], min_size=n, max_size=n)) for k in kinds]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    prefixes = [(("{" if j == 0 else ",") + store._encode_str(keys[i]) + ":").encode() for j, i in enumerate(order)]
    compiled = store._compiled.json_lines(prefixes, [columns[i] for i in order], b"}\n")
    template = store._template_columns(keys, columns)
    values = [v for col in columns for v in col]
    surrogate = any(type(v) is str and any(0xD800 <= ord(c) < 0xE000 for c in v) for v in values)
    plain = not surrogate and all(type(v) is str or type(v) is int and -(2**63) <= v < 2**63 for v in values)
    if plain:
        assert template is not None and compiled == template.encode()
    else:
        assert compiled is None  # declined: the template decides
    if template is None:
        assert store._template_bytes(keys, columns) is None
    elif surrogate:
        with pytest.raises(UnicodeEncodeError):  # as the template's lines always did
            store._template_bytes(keys, columns)
    else:
        assert store._template_bytes(keys, columns) == template.encode()


def test_log_lines_in_c_refuse_what_is_not_columns():
    if store._compiled is None:
        pytest.skip("the C extension is not built")
    with pytest.raises(ValueError):
        store._compiled.json_lines([b"{", b","], [[1, 2], [3]], b"}\n")  # unequal lengths
    with pytest.raises(ValueError):
        store._compiled.json_lines([b"{"], [[1], [2]], b"}\n")  # a prefix a column
    with pytest.raises(TypeError):
        store._compiled.json_lines(["{"], [[1]], b"}\n")  # prefixes are bytes


_OLD_BAD_LINE = re.compile(r"\t[^\n]*\t|\t\n|\n\t|^\t")  # the regex _plain_lines replaced


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\t\n企", max_size=30))
def test_plain_lines_agrees_with_the_regex_it_replaced(text_):
    """A stored frame's line structure (one tab per line, non-empty identifier and stratum) checked
    by numpy positions: the same verdict as the former regex and counts on every small text."""
    from inspect_kit.draw.core.frame import _plain_lines

    data = text_.encode()
    expected = text_.count("\t") == text_.count("\n") and text_.endswith("\n") and _OLD_BAD_LINE.search(text_) is None
    assert (_plain_lines(data) if data else False) == expected


@pytest.mark.parametrize("case", range(3))
def test_packed_identifiers_hash_and_draw_like_strings(case):
    """A stored frame's strata come back packed (hashing.PackedIds: one UTF-8 buffer + offsets):
    the same identifiers, the same digests on one process, on forked workers and in the compiled
    kernel, and the same sample as plain strings and as the package — Chinese and ASCII chunks."""
    from inspect_kit import sha256_kernel
    from inspect_kit.draw.core.sampler import _seed_state, digest_block, select
    from inspect_kit.hashing import PackedIds, sha256_block

    rnd = random.Random(300 + case)
    rows, sizes, seed = _instance(rnd, 500)
    b = FrameBuilder()
    assert b.add(canonical_rows(rows))
    sha, blob = b.finish()
    _, _, members = frame_members(blob)
    assert members is not None
    plain: dict[str, list[str]] = {}
    for i, s in canonical_rows(rows):
        plain.setdefault(s, []).append(i)
    assert {k: list(v) for k, v in members.items()} == plain
    for label, packed in members.items():
        assert isinstance(packed, PackedIds) and len(packed) == len(plain[label])
        assert packed[-1] == plain[label][-1] and packed[1:3] == plain[label][1:3]
        expected = b"".join(hashlib.sha256(_seed_hash(seed) + i.encode()).digest() for i in plain[label])
        assert sha256_block(_seed_state(seed), packed, workers=1) == expected
        assert sha256_block(_seed_state(seed), packed, workers=2) == expected
        if sha256_kernel.available():
            assert sha256_kernel.digests(_seed_hash(seed), packed, 2) == expected
        assert digest_block(seed, packed) == expected
        n = sizes[label]
        assert select(seed, packed, n) == select(seed, plain[label], n)
        assert [c.id for c in select(seed, packed, n)] == list(
            oracle(plain[label], seed=seed, with_replacement=False, take=n, output="id")
        )
    with pytest.raises(IndexError):
        next(iter(members.values()))[10**6]


def _seed_hash(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).hexdigest().encode()


@pytest.mark.parametrize("compiled", [True, False])
def test_packed_take_decodes_the_chosen_and_refuses_outside(monkeypatch, compiled):
    """PackedIds.take in C (packed_take) and in Python: the same strings, IndexError outside, and
    in C hostile offsets (beyond the data, descending) and bytes that are not UTF-8 refused."""
    from inspect_kit import hashing
    from inspect_kit.hashing import PackedIds

    if compiled and hashing._compiled is None:
        pytest.skip("the C extension is not built")
    if not compiled:
        monkeypatch.setattr(hashing, "_compiled", None)

    ids = ["a", "企业", "", "z9"]
    data = "".join(ids).encode()
    offsets = [0]
    for i in ids:
        offsets.append(offsets[-1] + len(i.encode()))
    import numpy as np

    packed = PackedIds(data, np.array(offsets, dtype=np.int64))
    assert packed.take([3, 1, 1, 0, 2]) == ["z9", "企业", "企业", "a", ""] and packed.take([]) == []
    assert list(packed) == ids and packed[-3] == "企业"
    for bad in ([4], [-1]):
        with pytest.raises(IndexError):
            packed.take(bad)
    if compiled:
        for offsets in ([0, 3, 99], [0, 3, 2], [-1, 2]):
            with pytest.raises(ValueError, match="offsets"):
                PackedIds(b"abcdef", np.array(offsets, dtype=np.int64)).take([0, 1][: len(offsets) - 1])
        with pytest.raises(UnicodeDecodeError):
            PackedIds(b"a\xff", np.array([0, 1, 2], dtype=np.int64)).take([1])


def test_a_failure_on_the_compression_thread_reaches_the_caller():
    """FrameBuilder compresses on a second thread: an error there (memory, zlib) must surface in
    the caller, never leave a frame whose hash and blob silently miss a chunk."""

    class Broken:
        def compress(self, data):
            raise MemoryError("no room for the frame")

        def flush(self):
            return b""

    b = FrameBuilder()
    b._zip = Broken()
    assert b.add([("a", "S")])  # the chunk is handed over; the thread fails
    with pytest.raises(MemoryError, match="no room"):
        b.finish()


def test_left_out_counts_read_the_partial_index_and_equal_a_plain_count(engine):
    """The frame's exclusion counts come from the partial index ix_entities_left_out (a million-row
    registry is not scanned for the few closed or exempt entities) and equal a count in Python over
    every combination of status, exemption reason and exemption dates, in and out of scope."""
    from inspect_kit.draw.store.frames import left_out_query

    as_of = dt.date(2026, 3, 1)
    dates = [None, dt.date(2026, 1, 1), dt.date(2026, 3, 1), dt.date(2026, 6, 30), dt.date(2025, 12, 31)]
    rnd = random.Random(11)
    rows = [
        {
            "i": f"91{k:016d}",
            "c": rnd.choice(["企业", "个体工商户", "重点排污单位"]),
            "s": rnd.choice(["active", "active", "closed", "cancelled"]),
            "r": rnd.choice([None, None, "守信企业", ""]),
            "f": rnd.choice(dates),
            "to": rnd.choice(dates),
            "t": T0,
        }
        for k in range(400)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entities (identifier, id_scheme, name, category, department, status, exempt_reason, "
                "exempt_from, exempt_to, updated_at) VALUES (:i, 'uscc', :i, :c, 'SCJG', :s, :r, :f, :to, :t)"
            ),
            rows,
        )
    scope = ["企业", "个体工商户"]
    with engine.connect() as conn:  # with what the fixture's registry already holds
        held = conn.execute(text("SELECT category, status, exempt_reason, exempt_from, exempt_to FROM entities")).all()
    assert len(held) >= len(rows)
    as_date = lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v  # noqa: E731 - SQLite's text dates
    mine = [dict(zip("csrft", (c, s, r, as_date(f), as_date(to)))) for c, s, r, f, to in held if c in scope]
    exempt = [
        r
        for r in mine
        if r["s"] == "active"
        and r["r"] is not None
        and (r["f"] is None or r["f"] <= as_of)
        and (r["t"] is None or r["t"] >= as_of)
    ]
    reasons, stmt = left_out_query(scope, as_of)
    with engine.connect() as conn:
        counts = dict(zip(reasons, conn.execute(stmt).one()))
        assert counts == {
            "not active (closed or cancelled)": sum(r["s"] != "active" for r in mine),
            "exempt on the draw date (正面清单)": len(exempt),
        }
        assert all(counts.values())  # the instance exercises both reasons
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            plan = " ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        else:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # 400 rows: a scan would be cheaper
            plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
        assert "ix_entities_left_out" in plan, plan


def test_a_frame_holding_most_of_a_large_sqlite_registry_is_read_by_a_scan(engine, config, monkeypatch):
    """SQLite has no statistics: a frame whose categories hold most of a large registry is read by a
    scan of the table (sequential), one that holds a small share through the category index; the
    rows are the same either way."""
    from inspect_kit.draw.store import frames
    from inspect_kit.periods import parse_period

    rnd = random.Random(5)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entities (identifier, id_scheme, name, category, department, credit_class, status, "
                "updated_at) VALUES (:i, 'uscc', :i, :c, 'SCJG', :k, 'active', :t)"
            ),
            [
                {"i": f"91{k:016d}", "c": "企业" if k % 10 else "重点排污单位", "k": rnd.choice("ABCD"), "t": T0}
                for k in range(300)
            ],
        )
    monkeypatch.setattr(frames, "SCAN_MIN_ROWS", 100)
    wide, narrow = config.matter("SCJG-01"), config.matter("STHJ-01")  # 企业…; 重点排污单位
    period, as_of = parse_period("2026"), dt.date(2026, 1, 5)
    with engine.connect() as conn:
        for matter, scan in ((wide, True), (narrow, False)):
            src = frames.FrameSource(conn, matter, period, as_of)
            rows = [r for chunk in src.chunks() for r in chunk]
            with monkeypatch.context() as m:
                m.setattr(frames, "SCAN_MIN_ROWS", 10**9)  # the plain condition
                plain = [r for chunk in frames.FrameSource(conn, matter, period, as_of).chunks() for r in chunk]
            assert rows == plain and rows
            if conn.dialect.name == "sqlite":
                sql = str(src._stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
                plan = " ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert ("ix_entities_category" not in plan) == scan, plan


@settings(max_examples=80, deadline=None)
@given(
    keys=st.lists(
        st.text(alphabet=_JSON_TRAPS | st.sampled_from("abz_"), min_size=1, max_size=6),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    data=st.data(),
)
def test_lines_rendered_ahead_equal_the_template_lines(keys, data):
    """store.LinesAhead (every column but the late ones rendered before the rows are written, the
    late ones joined in after) gives exactly `_template_columns`' lines — late columns anywhere in
    the key order, constant columns, escapes — or None where the template path refuses a column."""
    kinds = [data.draw(st.sampled_from(["int", "str", "const", "mixed"])) for _ in keys]
    n = data.draw(st.integers(2, 7))
    values = {
        "int": st.integers(-(10**30), 10**30),
        "str": _text,
        "mixed": st.one_of(st.integers(), _text, st.booleans(), st.none()),
    }
    columns = {}
    for key, kind in zip(keys, kinds):
        if kind == "const":
            columns[key] = [data.draw(st.one_of(st.integers(), _text))] * n
        else:
            columns[key] = data.draw(st.lists(values[kind], min_size=n, max_size=n))
    late = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
    ahead = store.LinesAhead(keys, {k: v for k, v in columns.items() if k not in late}, late)
    ahead._BLOCK = data.draw(st.integers(1, 3))  # rendered and hashed block by block
    if data.draw(st.booleans()):
        ahead.prepare()
    expected = store._template_columns(keys, [columns[k] for k in keys])
    assert ahead.lines({k: columns[k] for k in late}) == expected
    digest = ahead.sha256({k: columns[k] for k in late})
    assert digest == (None if expected is None else hashlib.sha256(expected.encode()).hexdigest())


def _sqlite_registry(path, rows, **kw):
    from inspect_kit.storage.db import init_database, make_engine

    eng = make_engine(f"sqlite:///{path}", **kw)
    init_database(eng)
    with eng.begin() as conn:
        _add_enterprises(conn, rows)
    return eng


def _fk_on(eng) -> int:
    """1 when the next connection checks foreign keys and keeps temporary tables as configured."""
    with eng.connect() as conn:
        temp = conn.exec_driver_sql("PRAGMA temp_store").scalar_one()
        return conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() if temp == 0 else -1


def test_a_sqlite_draw_looks_up_no_foreign_key_and_the_connection_checks_them_again(tmp_path, config, monkeypatch):
    """SQLite: the draw's transaction writes its tasks without a lookup per foreign key (every key
    was read in it: storage.helpers.write_transaction's keys_by_construction), its staging tables
    in memory — and only it: the one pooled connection checks keys again and keeps temporary tables
    as before after a draw and after a refused one, another writer's task naming no entity is
    refused, and the task ids are the ones SQLite would have given."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.pool import StaticPool

    from inspect_kit.draw.store import run as run_mod

    rnd = random.Random(7)
    rows = [(f"9136{i:014d}", rnd.choice("ABD")) for i in range(400)]
    eng = _sqlite_registry(tmp_path / "one.db", rows, poolclass=StaticPool)  # one connection, reused
    seen = []
    write_tasks = run_mod._write_tasks_sqlite

    def spy(conn, *args):
        seen.append(conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
        seen.append(conn.exec_driver_sql("PRAGMA temp_store").scalar_one())  # 2: memory
        return write_tasks(conn, *args)

    monkeypatch.setattr(run_mod, "_write_tasks_sqlite", spy)
    assert _fk_on(eng) == 1
    service.prepare_frame(eng, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    d = service.run_draw(eng, config, "SCJG-01", "2026", seed="48213 90577 16342 75018", now=T0 + dt.timedelta(hours=1))
    assert seen == [0, 2] and _fk_on(eng) == 1
    with eng.connect() as conn:
        tasks = conn.execute(select(Task.id, Task.task_no).order_by(Task.id)).all()
    assert [t.id for t in tasks] == list(range(1, d.n_selected + 1))  # what SQLite gives: max + 1, …
    assert [t.task_no for t in tasks] == sorted(t.task_no for t in tasks)
    with pytest.raises(IntegrityError), eng.begin() as conn:  # any other writer: keys are checked
        conn.execute(
            text(
                "INSERT INTO tasks (draw_id, task_no, entity_id, identifier, stratum, ticket, rank) "
                "VALUES (:d, 'X-1', 999999, 'x', 'A', '0.1', 1)"
            ),
            {"d": d.id},
        )
    # a refused draw (no such commitment) leaves the connection checking keys too
    with pytest.raises(InspectError):
        service.run_draw(eng, config, "SCJG-01", "2027", seed="48213 90577 16342 75018", now=T0)
    assert _fk_on(eng) == 1
    eng.dispose()


@pytest.mark.parametrize("lookup", [500, 7])
def test_drawn_entities_missing_from_the_registry_are_named_and_nothing_is_written(
    tmp_path, config, monkeypatch, lookup
):
    """An entity deleted behind the tool's back between prepare and draw (the tool never deletes
    one): the draw names the first five missing in task order, writes nothing, and the next
    connection checks keys again. The same registry, untouched, gives the tasks to compare with,
    looked up in one statement or 7 identifiers at a time (full and partial statements)."""
    from inspect_kit.draw.store import run as run_mod

    monkeypatch.setattr(run_mod, "_LOOKUP", lookup)
    rnd = random.Random(11)
    rows = [(f"9236{i:014d}", rnd.choice("ABD")) for i in range(600)]
    seed, later = "90577 48213 75018 16342", T0 + dt.timedelta(hours=1)
    whole = _sqlite_registry(tmp_path / "whole.db", rows)
    service.prepare_frame(whole, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    drawn = service.run_draw(whole, config, "SCJG-01", "2026", seed=seed, now=later).tasks
    with whole.connect() as conn:  # each task names the entity of its own identifier
        linked = text(
            "SELECT count(*) FROM tasks t JOIN entities e ON e.id = t.entity_id AND e.identifier = t.identifier"
        )
        assert conn.execute(linked).scalar_one() == len(drawn) > 2 * min(lookup, 50)
    eng = _sqlite_registry(tmp_path / "cut.db", rows)
    service.prepare_frame(eng, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    gone = {i for n, (i, _) in enumerate(rows) if n % 3 == 1}
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM entities WHERE identifier = :i"), [{"i": i} for i in gone])
    with pytest.raises(InspectError) as err:
        service.run_draw(eng, config, "SCJG-01", "2026", seed=seed, now=later)
    expected = [t["identifier"] for t in drawn if t["identifier"] in gone][:5]
    assert len(expected) == 5 and f"missing from the registry: {expected}" in str(err.value)
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Task)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(Draw)).scalar_one() == 0
    assert _fk_on(eng) == 1
    for e in (whole, eng):
        e.dispose()


@pytest.mark.parametrize("cores", [0, 1])
def test_the_task_digest_beside_the_write_is_the_logged_one_and_its_failure_aborts(
    tmp_path, config, monkeypatch, cores
):
    """SQLite: the log's digest of the tasks is taken on a thread while they are written where a
    core is idle (cores=1), else after: either way the log verifies against the stored tasks; a
    failure of that work surfaces in the draw, which then writes nothing."""
    import threading

    from inspect_kit.draw.store import run as run_mod

    monkeypatch.setattr(run_mod, "spare_cores", lambda: cores)
    rows = [(f"9336{i:014d}", "ABD"[i % 3]) for i in range(500)]
    digest = run_mod._tasks_digest
    where = []

    def spy(*args, **kw):
        where.append(threading.current_thread() is threading.main_thread())
        return digest(*args, **kw)

    monkeypatch.setattr(run_mod, "_tasks_digest", spy)
    eng = _sqlite_registry(tmp_path / "d.db", rows)
    service.prepare_frame(eng, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    d = service.run_draw(eng, config, "SCJG-01", "2026", seed="16342 48213 90577 75018", now=T0 + dt.timedelta(hours=1))
    assert where == [cores == 0] and d.n_selected > 1
    with eng.connect() as conn:
        assert store.verify_log(conn).ok

    def broken(*args, **kw):
        raise RuntimeError("the digest failed")

    monkeypatch.setattr(run_mod, "_tasks_digest", broken)
    other = _sqlite_registry(tmp_path / "e.db", rows)
    service.prepare_frame(other, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    with pytest.raises(RuntimeError, match="digest failed"):
        service.run_draw(
            other, config, "SCJG-01", "2026", seed="16342 48213 90577 75018", now=T0 + dt.timedelta(hours=1)
        )
    with other.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Task)).scalar_one() == 0
    for e in (eng, other):
        e.dispose()
