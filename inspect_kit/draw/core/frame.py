"""Frozen frames: canonical bytes, their SHA-256, and the stratified draw.

A frame is a list of (identifier, stratum) rows. Its canonical form, whose SHA-256 is
published with every draw, is:

    * one line per entity: identifier, one TAB (U+0009), stratum, one LF (U+000A);
    * lines sorted by identifier in Unicode code point order (the same as UTF-8 byte order);
    * UTF-8, no byte order mark, no header, the last line also ends in LF; an empty frame is
      zero bytes;
    * identifiers and strata exactly as drawn (no case folding, no Unicode normalisation):
      the tickets hash these very strings.

Identifiers are unique and non-empty, strata non-empty, and neither may contain a control
character (tab, CR, LF, ...) or a Unicode line/paragraph separator. Because no allowed character
sorts below TAB, sorting whole lines byte-wise gives the same order, so anyone can check a
published hash with ``LC_ALL=C sort frame.tsv | sha256sum``.

Large frames are never held as several Python copies: `FrameBuilder` takes rows that arrive in
canonical order (the database sorts them) chunk by chunk, checking, hashing and compressing as
they come; `frame_members` reads a stored (zlib) frame back in one pass, hashing the bytes as they
are decompressed, into the identifiers of each stratum; `draw_members` draws from those. Both fast
paths only accept what is plainly canonical and say so; anything else goes through
`canonical_rows`, whose error messages name every problem.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import eq, lt
from typing import TYPE_CHECKING, Any, Literal

from inspect_kit.hashing import PackedIds

if TYPE_CHECKING:
    import numpy as np

from .sampler import Selected, select

try:  # the compiled passes over a frame (frame_chunk, frame_split in inspect_kit/_sha256x.c)
    from inspect_kit import _sha256x as _compiled
except ImportError:  # not built: the Python passes below, which give the same results
    _compiled = None  # type: ignore[assignment]
if _compiled is not None and not hasattr(_compiled, "offsets_of"):  # built before them: rebuild it
    _compiled = None  # type: ignore[assignment]

Row = tuple[str, str]
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp"}  # controls (TAB, CR, LF, NEL...), U+2028, U+2029


def _value_problem(what: str, value: object) -> str | None:
    if type(value) is not str:
        return f"{what} must be a str, got {type(value).__name__}"
    if value == "":
        return f"{what} is empty"
    bad = next((c for c in value if unicodedata.category(c) in _FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        return f"{what} contains the control or line-break character U+{ord(bad):04X}"
    if any("\ud800" <= c <= "\udfff" for c in value):
        return f"{what} contains a lone surrogate, which UTF-8 cannot encode"
    return None


# Exactly the characters _value_problem refuses: category Cc (U+0000–001F, U+007F–009F),
# Zl (U+2028), Zp (U+2029), and lone surrogates. One regex pass instead of a Python loop per
# character keeps a 10-million-row frame's validation to seconds.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _plainly_valid(rows: list) -> bool:
    """The common case, checked fast: every row a 2-sequence of non-empty clean str, ids unique."""
    try:
        if not all(len(r) == 2 and not isinstance(r, str) for r in rows):
            return False
        ids = [r[0] for r in rows]
        strata = [r[1] for r in rows]
        if not all(type(x) is str and x for x in ids) or not all(type(x) is str and x for x in strata):
            return False
    except TypeError:
        return False
    return (
        _REFUSED.search(" ".join(ids)) is None
        and _REFUSED.search(" ".join(strata)) is None
        and len(set(ids)) == len(ids)
    )


def frame_problems(rows: Iterable[Sequence[str]]) -> list[str]:
    """Every reason the rows are not a valid frame (empty list when they are)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if _plainly_valid(rows):
        return []
    problems: list[str] = []
    identifiers: list[str] = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != 2:
            problems.append(f"row {number}: expected (identifier, stratum), got {row!r}")
            continue
        identifier, stratum = row
        for what, value in (("identifier", identifier), ("stratum", stratum)):
            problem = _value_problem(what, value)
            if problem:
                problems.append(f"row {number} ({identifier!r}): {problem}")
        if type(identifier) is str:
            identifiers.append(identifier)
    duplicated = sorted(i for i, count in Counter(identifiers).items() if count > 1)
    problems.extend(f"identifier {i!r} appears more than once" for i in duplicated)
    return problems


def canonical_rows(rows: Iterable[Sequence[str]]) -> list[Row]:
    """The rows validated and sorted by identifier; ValueError lists every problem."""
    row_list = list(rows)
    problems = frame_problems(row_list)
    if problems:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ValueError(f"invalid frame: {shown}{more}")
    return sorted((identifier, stratum) for identifier, stratum in row_list)


def _serialise(canonical: list[Row]) -> bytes:
    return "".join(f"{identifier}\t{stratum}\n" for identifier, stratum in canonical).encode()


def canonical_frame_bytes(rows: Iterable[Sequence[str]]) -> bytes:
    """The canonical serialisation described in the module docstring."""
    return _serialise(canonical_rows(rows))


def frame_sha256(rows: Iterable[Sequence[str]]) -> str:
    """Lowercase hex SHA-256 of `canonical_frame_bytes(rows)`."""
    return hashlib.sha256(canonical_frame_bytes(rows)).hexdigest()


@dataclass(frozen=True)
class StratumDraw:
    stratum: str
    N: int
    n: int
    selected: tuple[Selected, ...]  # in ticket order, ranks 1..n within the stratum


@dataclass(frozen=True)
class DrawResult:
    seed: str
    frame_sha256: str
    strata: tuple[StratumDraw, ...]  # in stratum label order

    def stratum(self, label: str) -> StratumDraw:
        return next(s for s in self.strata if s.stratum == label)

    @property
    def sample(self) -> list[tuple[str, Selected]]:
        """(stratum, selected) for every drawn entity, by stratum label then rank."""
        return [(s.stratum, chosen) for s in self.strata for chosen in s.selected]


# How one stratum is drawn: (its identifiers, n) → the n selected in order, ranks 1..n.
Selector = Callable[[Sequence[str], int], list[Selected]]


def draw_stratified(
    seed: str, rows: Iterable[Sequence[str]], sizes: Mapping[str, int], selector: Selector | None = None
) -> DrawResult:
    """Draw sizes[s] entities from each stratum s: its smallest tickets under `seed` (or as the
    ``selector`` orders them: a coordinated draw, inspect_kit.draw.core.coordination).

    Every stratum in the frame needs a size (0 is fine); a size for a stratum with no rows must
    be 0. The result does not depend on the order of the rows.
    """
    canonical = canonical_rows(rows)
    members: dict[str, list[str]] = {}
    for identifier, stratum in canonical:
        members.setdefault(stratum, []).append(identifier)
    return draw_members(seed, members, sizes, hashlib.sha256(_serialise(canonical)).hexdigest(), selector)


def draw_members(
    seed: str,
    members: Mapping[str, Sequence[str]],
    sizes: Mapping[str, int],
    frame_sha256: str,
    selector: Selector | None = None,
) -> DrawResult:
    """`draw_stratified` for a frame already checked and split by stratum (`frame_members`):
    the identifiers of each stratum, and the frame's hash."""
    pick: Selector = selector or (lambda population, n: select(seed, population, n))
    unsized = sorted(set(members) - set(sizes))
    if unsized:
        raise ValueError(f"no sample size for strata {unsized}")
    draws = []
    for label in sorted(set(members) | set(sizes)):
        population, n = members.get(label, []), sizes[label]
        if type(n) is not int or not 0 <= n <= len(population):
            raise ValueError(f"stratum {label!r}: sample size {n!r} outside 0..{len(population)}")
        draws.append(StratumDraw(label, len(population), n, tuple(pick(population, n))))
    return DrawResult(seed, frame_sha256, tuple(draws))


def _plain_sorted_chunk(ids: list, strata: list, last: str | None) -> bool:
    """Every value a non-empty str free of refused characters, ids strictly increasing (hence
    unique and in canonical order), the first after `last`. All C-level passes, no per-row Python."""
    if set(map(type, ids)) != {str} or set(map(type, strata)) != {str} or "" in ids or "" in strata:
        return False
    if _REFUSED.search("".join(ids)) is not None or _REFUSED.search("".join(strata)) is not None:
        return False
    return (last is None or last < ids[0]) and all(map(lt, ids, islice(ids, 1, None)))


def _frame_chunk(rows: Sequence[Row], last: str | None) -> tuple[bytes, Mapping[str, int]] | None:
    """`FrameBuilder.add`'s work on one chunk, in Python (the compiled `frame_chunk` gives the same
    answers faster): the canonical bytes of the rows and the rows per stratum (in order of first
    appearance), or None when a row is not a 2-sequence (a str is not a row) of non-empty clean str
    or the identifiers are not strictly increasing from `last`."""
    if not rows:
        return b"", Counter()
    try:
        if not all(len(r) == 2 and not isinstance(r, str) for r in rows):
            return None
        ids, strata = [r[0] for r in rows], [r[1] for r in rows]
    except TypeError:
        return None
    if not _plain_sorted_chunk(ids, strata, last):
        return None
    return ("\n".join(map("\t".join, rows)) + "\n").encode(), Counter(strata)


class FrameBuilder:
    """The canonical bytes, SHA-256, zlib blob and stratum counts of a frame whose rows arrive
    sorted by identifier, chunk by chunk. Memory: one chunk and the compressed blob.

    `add` returns False, adding nothing, when a chunk is not plainly valid or not in canonical
    order (a collation that is not code point order, a duplicate, a bad value); the caller then
    builds the frame the slow way (`canonical_rows`), which sorts and names every problem.

    Each chunk's bytes are hashed and compressed on a short-lived thread while the caller fetches
    the next chunk (zlib and hashlib release the GIL on data this large, the database driver while
    it steps): one chunk in flight at a time, absorbed in order, so the bytes are the same as on
    one thread. `finish` waits for the last one."""

    def __init__(self, level: int = 6) -> None:
        self._sha = hashlib.sha256()
        self._zip = zlib.compressobj(level)
        self._parts: list[bytes] = []
        self._last: str | None = None
        self._busy: threading.Thread | None = None
        self._failed: BaseException | None = None
        self.counts: Counter[str] = Counter()
        self.n_rows = 0

    def add(self, rows: Sequence[Row]) -> bool:
        if not rows:
            return True
        chunk: tuple[bytes, Mapping[str, int]] | Literal[False] | None = False
        if _compiled is not None:
            chunk = _compiled.frame_chunk(rows, self._last)
        if chunk is False:  # no extension, or rows of a type it leaves to Python
            chunk = _frame_chunk(rows, self._last)
        if chunk is None:
            return False
        data, counts = chunk
        self._wait()
        self._busy = threading.Thread(target=self._absorb, args=(data,), name="inspect-frame-zlib", daemon=True)
        self._busy.start()
        self._last = rows[-1][0]
        self.counts.update(counts)
        self.n_rows += len(rows)
        return True

    def _absorb(self, data: bytes) -> None:
        try:
            self._sha.update(data)
            self._parts.append(self._zip.compress(data))
        except BaseException as exc:  # re-raised by _wait in the caller's thread: never a partial frame
            self._failed = exc

    def _wait(self) -> None:
        if self._busy is not None:
            self._busy.join()
            self._busy = None
        if self._failed is not None:
            raise self._failed

    def finish(self) -> tuple[str, bytes]:
        """(SHA-256 hex of the canonical bytes, the zlib blob of them)."""
        self._wait()
        self._parts.append(self._zip.flush())
        blob = b"".join(self._parts)
        self._parts = []
        return self._sha.hexdigest(), blob


def _plain_lines(data: bytes) -> bool:
    """Every line of `data` (which ends in LF) is "identifier TAB stratum", both non-empty: the
    i-th tab lies strictly between the (i-1)-th and the i-th line feed, with a byte on each side.
    Positions found and compared by numpy (a regex over the text cost a third of reading a frame)."""
    import numpy as np

    b = np.frombuffer(data, dtype=np.uint8)
    tabs, feeds = np.flatnonzero(b == 9), np.flatnonzero(b == 10)
    if len(tabs) != len(feeds) or not len(feeds) or feeds[-1] != len(b) - 1:
        return False
    starts = np.empty_like(feeds)
    starts[0], starts[1:] = 0, feeds[:-1] + 1  # where each line begins
    return bool(np.all(tabs > starts) and np.all(feeds > tabs + 1))


_REFUSED_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # _REFUSED but TAB and LF


def frame_chunks(blob: bytes, chunk: int = 1 << 22) -> Iterable[bytes]:
    """The decompressed bytes of a stored frame in pieces of whole lines (about `chunk` bytes)."""
    z = zlib.decompressobj()
    view, pos, tail = memoryview(blob), 0, b""
    while True:
        data = z.unconsumed_tail or view[pos : pos + (1 << 20)]
        if not z.unconsumed_tail:
            pos += len(data)
        out = z.decompress(data, chunk) if data else z.flush()
        if not out and not data:
            break
        out = tail + out
        cut = out.rfind(b"\n") + 1
        tail = out[cut:]
        if cut:
            yield out[:cut]
    if tail:
        yield tail


Split = tuple[str, int, list[tuple[str, bytes, "bytes | np.ndarray"]]]


def _split_chunk(data: bytes, last: str | None) -> Split | None:
    """`frame_members`' work on one chunk of whole lines, in Python (the compiled `frame_split`
    gives the same answers faster): (the last identifier, the number of lines, [(label, its
    identifiers' UTF-8 concatenated in line order, their byte lengths as int64)] in label order),
    or None when the lines are not plainly canonical: not all "identifier TAB stratum LF" with
    both non-empty, not UTF-8, a refused character, or identifiers not strictly increasing from
    `last`."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    if not _plain_lines(data) or _REFUSED_IN_TEXT.search(text) is not None:
        return None
    lines = text.count("\n")
    parts = text.replace("\n", "\t").split("\t")
    ids, strata = parts[0:-1:2], parts[1::2]
    del parts
    if not (last is None or last < ids[0]) or not all(map(lt, ids, islice(ids, 1, None))):
        return None
    ascii_ = text.isascii()
    del text
    labels = set(strata)
    if len(labels) == 1:
        groups: Iterable[tuple[str, list[str]]] = [(strata[0], ids)]
    elif len(labels) <= 16:  # one C-level pass per stratum beats a Python loop per row
        groups = [(label, list(compress(ids, map(eq, strata, repeat(label))))) for label in sorted(labels)]
    else:
        by: dict[str, list[str]] = {}
        for identifier, stratum in zip(ids, strata):
            by.setdefault(stratum, []).append(identifier)
        groups = sorted(by.items())
    import numpy as np

    split: list[tuple[str, bytes, bytes | np.ndarray]] = []
    for label, chosen in groups:
        sizes = map(len, chosen) if ascii_ else map(len, map(str.encode, chosen))
        split.append((label, "".join(chosen).encode(), np.fromiter(sizes, dtype=np.int64, count=len(chosen))))
    return ids[-1], lines, split


def _offsets(lengths: Sequence[bytes | np.ndarray]) -> Any:
    """0 and the running sums of the int64 lengths, in C where the extension is built (numpy is
    then never imported to draw: a fifth of a second at every start)."""
    if _compiled is not None:
        return _compiled.offsets_of(lengths)
    import numpy as np

    offsets = np.zeros(sum(len(memoryview(x).cast("B")) // 8 for x in lengths) + 1, dtype=np.int64)
    if len(offsets) > 1:
        np.cumsum(np.concatenate([np.frombuffer(x, dtype=np.int64) for x in lengths]), out=offsets[1:])
    return offsets


def frame_members(blob: bytes) -> tuple[str, int, dict[str, PackedIds] | None]:
    """One pass over a stored frame: (SHA-256 of its bytes, rows, identifiers by stratum).

    The identifiers are None when the bytes are not plainly canonical (see `FrameBuilder`): the
    caller then re-reads the frame with `canonical_rows` for a full report. Each stratum's
    identifiers are packed (inspect_kit.hashing.PackedIds: one UTF-8 buffer and offsets), not
    held as Python strings: a third of the memory, and hashed straight from the buffer. Each
    chunk is checked and split by the compiled `frame_split` where the extension is built, else
    by `_split_chunk` (the same results)."""
    split_chunk = _compiled.frame_split if _compiled is not None else _split_chunk
    sha = hashlib.sha256()
    pieces: dict[str, tuple[list[bytes], list[bytes | np.ndarray]]] | None = {}
    last: str | None = None
    n = 0
    for data in frame_chunks(blob):
        sha.update(data)
        if pieces is None:
            continue
        split = split_chunk(data, last)
        if split is None:
            pieces = None
            continue
        last, lines, groups = split
        n += lines
        for label, packed, sizes in groups:
            datas, lengths = pieces.setdefault(label, ([], []))
            datas.append(packed)
            lengths.append(sizes)
        del split, groups
    if pieces is None:
        return sha.hexdigest(), n, None
    members: dict[str, PackedIds] = {}
    for label in list(pieces):
        datas, lengths = pieces.pop(label)
        members[label] = PackedIds(b"".join(datas), _offsets(lengths))
        del datas, lengths
    return sha.hexdigest(), n, members
