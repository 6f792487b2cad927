"""The compiled frame passes (frame_chunk, frame_split in inspect_kit._sha256x) against the Python
passes they replace (inspect_kit.draw.core.frame._frame_chunk, _split_chunk), the oracle: the same
bytes, counts, packed identifiers and dict orders, and None exactly where Python refuses. Random
frames mix ASCII, é, Chinese and astral identifiers of fixed and varied widths, many strata, chunk
boundaries anywhere; hostile ones hold refused characters, lone surrogates, invalid UTF-8, extra
tabs, empty fields, duplicates, disorder (also across chunks), wrong row shapes and types."""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inspect_kit.draw.core.frame as F
from inspect_kit import sha256_kernel

X = F._compiled
compiled_only = pytest.mark.skipif(X is None, reason="the C extension (with the frame passes) is not built")


def test_the_extension_has_the_frame_passes_where_ci_requires_it():
    """CI sets INSPECT_REQUIRE_CEXT=1: there an extension built without frame_chunk/frame_split (or
    none) fails here rather than silently taking the Python passes."""
    if os.environ.get("INSPECT_REQUIRE_CEXT") == "1":
        assert sha256_kernel.available() and X is not None


_CHARS = ["A", "B", "7", "0", "-", "é", "企", "业", "城", "𠀀", "😀", "\\", "'", " "]
_HOSTILE = ["\x00", "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\ud800", "\udfff", "\t", "\n", "\r"]


def _text(draw, fixed: int | None = None) -> str:
    if fixed is not None:  # one width in characters of one class: equal UTF-8 widths
        return draw(st.text(st.sampled_from(["A", "B", "7", "0"]), min_size=fixed, max_size=fixed))
    return draw(st.text(st.sampled_from(_CHARS), min_size=1, max_size=8))


@st.composite
def _rows(draw):
    """Rows in canonical order, or with exactly one fault (so that each refusal is tested alone):
    out of order, a duplicate, an empty value, or one refused character in one value."""
    fixed = draw(st.sampled_from([None, None, 1, 4, 18]))
    ids = sorted({_text(draw, fixed) for _ in range(draw(st.integers(1, 40)))})
    labels = [_text(draw) for _ in range(draw(st.sampled_from([1, 3, 5, 17, 40])))]
    rows: list[tuple[str, str]] = [(i, draw(st.sampled_from(labels))) for i in ids]
    fault = draw(st.sampled_from(["none"] * 4 + ["swap", "duplicate", "empty", "hostile"]))
    k = draw(st.integers(0, len(rows) - 1))
    i, s = rows[k]
    if fault == "swap" and len(rows) > 1:
        j = draw(st.integers(0, len(rows) - 1))
        rows[k], rows[j] = rows[j], rows[k]
    elif fault == "duplicate":
        rows.insert(k, (i, draw(st.sampled_from(labels))))
    elif fault == "empty":
        rows[k] = ("", s) if draw(st.booleans()) else (i, "")
    elif fault == "hostile":
        h, value = draw(st.sampled_from(_HOSTILE)), draw(st.booleans())
        at = draw(st.integers(0, len(rows[k][value])))
        spoilt = rows[k][value][:at] + h + rows[k][value][at:]
        rows[k] = (spoilt, s) if value == 0 else (i, spoilt)
    return rows


class _Str(str):
    pass


def _shape(draw, row: tuple[str, str]) -> object:
    """The row as the driver gives it (a tuple), a list, or something Python or C must refuse."""
    i, s = row
    kind = draw(st.sampled_from(["tuple"] * 8 + ["list", "short", "long", "int", "none", "bytes", "sub", "str"]))
    return {
        "tuple": (i, s),
        "list": [i, s],
        "short": (i,),
        "long": (i, s, s),
        "int": (i, 5),
        "none": (None, s),
        "bytes": (i.encode("utf-8", "surrogatepass"), s),
        "sub": (_Str(i), s),
        "str": i[:1] + s[:1],
    }[kind]


def _same_chunk(rows: Sequence, last: str | None) -> None:
    compiled, python = X.frame_chunk(rows, last), F._frame_chunk(rows, last)
    if compiled is False:  # a row of a type left to Python
        assert any(type(r) not in (tuple, list) for r in rows)
        return
    if python is None:
        assert compiled is None
        return
    assert compiled is not None
    assert compiled[0] == python[0]
    assert list(compiled[1].items()) == list(python[1].items())  # counts, in the same order


@compiled_only
@settings(max_examples=250, deadline=None)
@given(data=st.data())
def test_frame_chunk_equals_the_python_pass(data):
    rows = data.draw(_rows())
    shaped = [_shape(data.draw, r) for r in rows] if data.draw(st.booleans()) else rows
    first = rows[0][0]
    last = data.draw(st.sampled_from([None, None, None, first, first[:-1], first + "A", "\U0010ffff", "\ud800"]))
    _same_chunk(shaped, last)
    _same_chunk(tuple(shaped), last)


@compiled_only
@pytest.mark.parametrize(
    ("rows", "last"),
    [
        ([("a", "S"), ("b", "T")], None),
        ([("a", "S"), ("a", "S")], None),  # a duplicate
        ([("b", "S"), ("a", "S")], None),
        ([("a", "S")], "a"),  # equal to the previous chunk's last
        ([("a", "S")], "b"),
        ([("ab", "S")], "a"),
        ([("a", "S")], "\ud800"),
        ([("\ud800", "S")], None),  # a lone surrogate: not UTF-8
        ([("a", "\udfff")], None),
        ([("a\x85", "S")], None),
        ([("a", "\u2029")], None),
        ([("a", "S"), ("b",)], None),
        ([("a", "S"), ("b", "S", "T")], None),
        ([("a", "S"), (_Str("b"), "S")], None),
        ([("a", "S"), ["b", "S"]], None),
        ([("a", "S"), "bS"], None),  # a str is not a row
        ([], None),
    ],
)
@compiled_only
def test_frame_chunk_on_the_edges(rows, last):
    _same_chunk(rows, last)


@compiled_only
@pytest.mark.parametrize("h", _HOSTILE + ["\x1e", "\x80", "~", "\xa0", "\u2027", "\u202a", "\ud7ff", "\ue000"])
def test_every_refused_character_alone(h):
    """Each character of frame._REFUSED (and its neighbours, which are allowed), alone in an
    identifier or a stratum, in both passes: C refuses exactly what Python does."""
    for rows in ([("a" + h, "S")], [(h + "a", "S")], [("a", "S" + h)], [("0", "S"), ("1" + h, "S")]):
        _same_chunk(rows, None)
        _same_split("".join(f"{i}\t{s}\n" for i, s in rows).encode("utf-8", "surrogatepass"), None)
    assert (X.frame_chunk([("a" + h, "S")], None) is None) == (F._REFUSED.search(h) is not None)


@compiled_only
def test_frame_chunk_counts_many_strata_in_order_of_appearance():
    labels = [f"L{k:02d}" for k in range(40, 0, -1)]
    rows = [(f"id{k:05d}", labels[k * 7 % 40]) for k in range(400)]
    data, counts = X.frame_chunk(rows, None)
    assert list(counts) == [labels[k * 7 % 40] for k in range(40)] and set(counts.values()) == {10}
    assert data == "".join(f"{i}\t{s}\n" for i, s in rows).encode()


@compiled_only
def test_builder_with_and_without_the_extension(monkeypatch):
    """The whole FrameBuilder: hash, blob, counts (and their order), last and refusal across chunks."""
    rows = [(f"企业{k:06d}", ["乙", "甲", "B", "𠀀"][k % 4]) for k in range(3000)]

    def build(compiled):
        monkeypatch.setattr(F, "_compiled", compiled)
        b = F.FrameBuilder()
        ok = [b.add(rows[:1000]), b.add(rows[1000:2500]), b.add(rows[2499:2600])]  # the last one overlaps
        return ok, b.finish(), list(b.counts.items()), b.n_rows

    assert build(X) == build(None)
    assert build(X)[0] == [True, True, False]


# -- frame_split ------------------------------------------------------------------------------------

_BAD_BYTES = [
    b"\xff",
    b"\x80",
    b"\xc2",  # truncated
    b"\xc0\x80",  # overlong NUL
    b"\xe0\x80\x80",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf0\x8f\xbf\xbf",
    b"\xc2\x85",  # NEL
    b"\xc2\x9f",
    b"\xc2\xa0",  # NBSP: allowed
    b"\xe2\x80\xa8",
    b"\xe2\x80\xa9",
    b"\xe2\x80\xaa",  # allowed
    b"\x00",
    b"\x08",
    b"\x0b",
    b"\r",
    b"\x1f",
    b"\x7f",
    b"\t",
    b"\n",
    b"\t\t",
    b"\n\n",
]


@st.composite
def _frame_bytes(draw):
    rows = draw(_rows())
    data = "".join(f"{i}\t{s}\n" for i, s in rows).encode("utf-8", "surrogatepass")
    fault = draw(st.sampled_from(["none"] * 3 + ["bytes", "cut"]))
    if fault == "bytes":  # one byte sequence inserted anywhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(_BAD_BYTES)) + data[at:]
    elif fault == "cut":  # no final LF, half a character
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _same_split(data: bytes, last: str | None) -> None:
    compiled, python = X.frame_split(data, last), F._split_chunk(data, last)
    if python is None:
        assert compiled is None
        return
    assert compiled is not None and compiled[:2] == python[:2]
    assert [g[0] for g in compiled[2]] == [g[0] for g in python[2]]
    for (_, ids, lengths), (_, ids_, lengths_) in zip(compiled[2], python[2]):
        assert ids == ids_ and np.frombuffer(lengths, dtype=np.int64).tolist() == np.asarray(lengths_).tolist()


@compiled_only
@settings(max_examples=250, deadline=None)
@given(data=_frame_bytes(), choice=st.integers(0, 6))
def test_frame_split_equals_the_python_pass(data, choice):
    first = data.split(b"\t", 1)[0].decode(errors="replace")
    last = [None, None, None, None, first, first[:-1], first + "A"][choice]
    _same_split(data, last)


@compiled_only
@pytest.mark.parametrize(
    "data",
    [b"", b"a\tS", b"a\tS\n", b"\n", b"\t\n", b"a\t\n", b"\tS\n", b"a\tS\tT\n", b"a\tS\nb\n", b"a\tS\nb\tS\tT\nc\n"],
)
@compiled_only
def test_frame_split_on_the_edges(data):
    _same_split(data, None)
    _same_split(data, "a")


@compiled_only
def test_frame_split_of_many_strata():
    rows = [(f"{k:06d}", f"s{k * 37 % 101}") for k in range(5000)]
    data = "".join(f"{i}\t{s}\n" for i, s in rows).encode()
    _same_split(data, None)
    assert len(X.frame_split(data, None)[2]) == 101


@st.composite
def _frames(draw):
    """Valid frames (sometimes spoiled), as bytes, with the chunk size of frame_chunks."""
    rows = draw(_rows())
    return "".join(f"{i}\t{s}\n" for i, s in rows).encode("utf-8", "surrogatepass"), draw(st.integers(1, 300))


@compiled_only
@settings(max_examples=150, deadline=None)
@given(frame=_frames())
def test_frame_members_with_and_without_the_extension(frame):
    """The whole read of a stored frame, chunk boundaries anywhere (duplicates and disorder across
    chunks included): the same hash, count, labels in the same order, packed bytes and offsets."""
    data, chunk = frame
    blob = zlib.compress(data)
    original = F.frame_chunks
    got = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "frame_chunks", lambda b: original(b, chunk))
        for name, compiled in (("c", X), ("py", None)):
            mp.setattr(F, "_compiled", compiled)
            got[name] = F.frame_members(blob)
    c, py = got["c"], got["py"]
    assert c[:2] == py[:2] and c[0] == hashlib.sha256(data).hexdigest()
    if py[2] is None:
        assert c[2] is None
        return
    assert c[2] is not None and list(c[2]) == list(py[2])
    for label, packed in py[2].items():
        assert c[2][label].data == packed.data and c[2][label].offsets.tolist() == packed.offsets.tolist()


@compiled_only
@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**40), max_size=20), max_size=6))
def test_offsets_of_equals_the_running_sums(parts):
    """The packed identifiers' offsets (frame_members without numpy): 0 and the running sums of
    every chunk's int64 lengths in order, as itertools.accumulate gives them."""
    from array import array
    from itertools import accumulate, chain

    got = memoryview(X.offsets_of([array("q", p).tobytes() for p in parts])).cast("q").tolist()
    assert got == [0, *accumulate(chain.from_iterable(parts))]


@compiled_only
def test_offsets_of_refuses_negative_lengths_and_torn_buffers():
    from array import array

    for bad in ([array("q", [3, -1])], [b"1234567"], [array("q", [2**62]), array("q", [2**62, 2**62])]):
        with pytest.raises(ValueError):
            X.offsets_of(bad)
    with pytest.raises(TypeError):
        X.offsets_of([3])


def test_packed_ids_refuse_offsets_that_are_not_int64():
    from inspect_kit.hashing import PackedIds

    for bad in (np.array([0, 1], dtype=np.int32), np.array([0, 1], dtype=np.float64), b"1234", np.zeros((2, 2))[:, 0]):
        with pytest.raises(ValueError, match="int64"):
            PackedIds(b"a", bad)
    assert PackedIds(b"ab", np.array([0, 1, 2], dtype=np.int64)).take([1, 0]) == ["b", "a"]
    assert PackedIds(b"ab", np.array([0, 1, 2], dtype=np.int64).tobytes())[1] == "b"
