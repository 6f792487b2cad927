"""The hash chain, pure: canonical JSON, content hashes, entry hashes and their checks.

    canonical(x)   = UTF-8 of json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    content_sha256 = sha256(canonical(content)).hexdigest()
    entry_hash     = sha256(canonical({"seq", "kind", "record_id", "content_sha256", "prev", "at"})).hexdigest()

``prev`` is the previous entry's hash (64 zeros for entry 1); ``at`` is the entry's time as ISO
text (null for the genesis entry). A record's content is its row: every non-null column by name,
dates and times as ISO text, binary columns as {"sha256": ...}; a draw's content also holds
``tasks_sha256``, the SHA-256 of its tasks. Adding a nullable column later leaves old contents
(and so old hashes) unchanged.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

GENESIS_PREV = "0" * 64
_HEAD = re.compile(r"^\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*$")


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def jsonable(value: Any) -> Any:
    """A column value as it enters a content: ISO dates, hashed bytes, exact decimals."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def row_content(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored row (column name → value; SQLAlchemy's RowMapping) as logged content: None dropped."""
    return {k: jsonable(v) for k, v in row.items() if v is not None}


def content_sha256(content: Any) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    record_id: int | None
    content_sha256: str
    prev_hash: str
    entry_hash: str
    at: str | None  # ISO time, None for the genesis entry

    @property
    def head(self) -> str:
        return f"{self.seq}:{self.entry_hash}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def entry_hash(seq: int, kind: str, record_id: int | None, content_sha: str, prev: str, at: str | None) -> str:
    return content_sha256(
        {"seq": seq, "kind": kind, "record_id": record_id, "content_sha256": content_sha, "prev": prev, "at": at}
    )


def make_entry(prev: Entry | None, kind: str, record_id: int | None, content_sha: str, at: str | None) -> Entry:
    seq = prev.seq + 1 if prev else 1
    prev_hash = prev.entry_hash if prev else GENESIS_PREV
    return Entry(
        seq, kind, record_id, content_sha, prev_hash, entry_hash(seq, kind, record_id, content_sha, prev_hash, at), at
    )


def parse_head(text: str) -> tuple[int, str]:
    m = _HEAD.match(text or "")
    if not m:
        raise ValueError(f"a log head is N:HASH (an entry number, a colon and 64 hex digits), got {text!r}")
    return int(m.group(1)), m.group(2).lower()


def entry_from_dict(data: Mapping[str, Any]) -> Entry:
    try:
        return Entry(
            int(data["seq"]),
            str(data["kind"]),
            data.get("record_id"),
            str(data["content_sha256"]),
            str(data["prev_hash"]),
            str(data["entry_hash"]),
            data.get("at"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a log entry lacks or garbles {exc}") from None


def segment_problems(entries: Sequence[Entry], *, from_genesis: bool = False) -> list[str]:
    """Every way a run of consecutive entries is not a valid chain (each hash, each link)."""
    problems: list[str] = []
    prev: Entry | None = None
    for e in entries:
        if prev is None:
            if from_genesis and (e.seq != 1 or e.prev_hash != GENESIS_PREV):
                problems.append(f"the log does not start at entry 1 (first is {e.seq})")
        elif e.seq != prev.seq + 1:
            problems.append(f"entries {prev.seq + 1}..{e.seq - 1} are missing")
        elif e.prev_hash != prev.entry_hash:
            problems.append(f"entry {e.seq} does not link to entry {prev.seq}: the chain was rewritten")
        again = entry_hash(e.seq, e.kind, e.record_id, e.content_sha256, e.prev_hash, e.at)
        if again != e.entry_hash:
            problems.append(
                f"entry {e.seq} ({e.kind} #{e.record_id}): its hash is {e.entry_hash}, its fields hash to {again}"
            )
        prev = e
    return problems


def head_problems(entries: Sequence[Entry], head: str) -> list[str]:
    """Whether the chain (a segment of it) extends an earlier published head N:HASH."""
    try:
        n, h = parse_head(head)
    except ValueError as exc:
        return [str(exc)]
    if not entries:
        return [f"the log is empty: it does not extend head {n}:{h}"]
    first, last = entries[0].seq, entries[-1].seq
    if n > last:
        return [
            f"the log ends at entry {last}, before the head {n}:{h} printed earlier: entries were removed "
            "(a restored or truncated database)"
        ]
    if n < first:
        return [f"head {n} precedes the first entry here ({first}): it cannot vouch for these records"]
    found = entries[n - first]
    if found.seq != n:
        return [f"entry {n} is not where it should be in the log"]
    if found.entry_hash != h:
        return [f"entry {n} now hashes to {found.entry_hash}, not {h} as printed earlier: the log was rewritten"]
    return []
