"""Draws computed inside PostgreSQL: tickets, per-stratum selection and tasks, byte-identical to
inspect_kit.draw.core.sampler (and so to the `consistent-sampler` package).

Used by inspect_kit.draw.service on PostgreSQL when a frame has at least
``settings.draw.in_database_min_rows`` rows. The frozen frame (the stored blob, whose SHA-256 is
checked while it streams) is copied into a temporary table; the server then computes, for every
row, the SHA-256 of hex(sha256(seed)) + identifier (``sha256()`` on bytea, identifiers as UTF-8)
and from it the ticket, exactly as the package defines it::

    x      = the digest as a 256-bit unsigned integer (eight 32-bit big-endian words W0..W7)
    ticket = "0." || reverse(x written in decimal, left-padded with zeros to 64 digits)

As in the sampler, every row only gets the first 9 ticket digits — reverse(x mod 10**9), exact in
bigint: x mod m = sum((Wk mod m) * (2**(32*(7-k)) mod m)) mod m, each term < 2**60 — and the rows
of a stratum whose 9-digit prefix is at most its n-th smallest (``rank() <= n``) are the only
candidates; those get the full ticket in numeric arithmetic and are ordered by ticket, then
identifier, both compared byte-wise (COLLATE "C": UTF-8 byte order is code point order, the
package's Python string order). The sample never exists on the client except as one stream read
for its SHA-256; the service writes the tasks from it by INSERT ... SELECT joined with the registry.

Memory on the client is flat in the frame size; the server sorts (stratum, prefix) once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DataError

from inspect_kit.draw.core.frame import frame_chunks
from inspect_kit.draw.core.record import sample_sha256
from inspect_kit.errors import InspectError

_M = 10**9
# The digest as bits, then its eight 32-bit words (bit(32)::bigint is unsigned).
_WORDS = [f"substring(b from {32 * k + 1} for 32)::bigint" for k in range(8)]
_PREFIX = "reverse(lpad((({terms}) % {m})::text, 9, '0'))::bigint".format(
    terms=" + ".join(f"({w} % {_M}) * {pow(2, 32 * (7 - k), _M)}" for k, w in enumerate(_WORDS)), m=_M
)
_NUMBER = " + ".join(f"{w}::numeric * {2 ** (32 * (7 - k))}" for k, w in enumerate(_WORDS))
_DIGITS = f"CROSS JOIN LATERAL (SELECT ({_NUMBER})::text AS t OFFSET 0) x"
_TICKET = "'0.' || reverse(CASE WHEN length(x.t) < 64 THEN lpad(x.t, 64, '0') ELSE x.t END)"
_BITS = (
    "CROSS JOIN LATERAL (SELECT ('x' || encode(sha256(CAST(:prefix AS bytea) || convert_to(f.identifier, "
    "'UTF8')), 'hex'))::bit(256) AS b OFFSET 0) h"
)


def applies(conn: Connection, min_rows: int | None, n_rows: int) -> bool:
    """Whether a frame of n_rows is drawn in the database on this connection."""
    return conn.dialect.name == "postgresql" and min_rows is not None and n_rows >= min_rows


def with_min_rows(config: Any, min_rows: int | None) -> Any:
    """A copy of the (frozen) config with settings.draw.in_database_min_rows replaced: 0 draws
    every frame in the database on PostgreSQL, None none."""
    draw_settings = config.settings.draw.model_copy(update={"in_database_min_rows": min_rows})
    import dataclasses

    return dataclasses.replace(config, settings=config.settings.model_copy(update={"draw": draw_settings}))


def tickets_sql(table: str) -> str:
    """SELECT identifier, ticket for every row of `table` (identifier column) — for tests."""
    return f"SELECT f.identifier, {_TICKET} AS ticket, {_PREFIX} AS prefix FROM {table} f {_BITS} {_DIGITS}"


@dataclass
class InDatabaseDraw:
    """A draw computed in the database, waiting in a temporary table for its tasks: (k, identifier,
    stratum, ticket, rank), k = 1.. in (stratum, rank) order."""

    table: str
    n_selected: int
    sample_sha256: str


def _load_frame(conn: Connection, table: str, blob: bytes) -> str:
    """COPY the frame's rows into `table`; return the SHA-256 of its bytes (computed as they pass)."""
    conn.execute(
        text(f'CREATE TEMPORARY TABLE {table} (identifier text COLLATE "C", stratum text COLLATE "C") ON COMMIT DROP')
    )
    sha = hashlib.sha256()
    raw = conn.connection.driver_connection
    assert raw is not None  # an open connection has its driver connection
    try:
        with raw.cursor() as cur, cur.copy(f"COPY {table} (identifier, stratum) FROM STDIN") as copy:
            for data in frame_chunks(blob):
                sha.update(data)
                copy.write(data.replace(b"\\", b"\\\\"))  # COPY text format: a backslash escapes
    except DataError:
        return ""  # not two columns a line: cannot be the frame that was hashed
    return sha.hexdigest()


def _sample_sql(table: str) -> str:
    """The sample of every stratum of `table`: k, identifier, stratum, ticket, rank (module docstring).

    Only strata with n > 0 are hashed. The rank by prefix sorts (stratum number, prefix) — two
    integers, the prefix computed once (MATERIALIZED), not a text key and an expression."""
    return (
        'WITH sized AS (SELECT s.label COLLATE "C" AS stratum, s.n, s.i AS sidx '
        "FROM unnest(CAST(:labels AS text[]), CAST(:sizes AS integer[])) WITH ORDINALITY AS s(label, n, i) "
        "WHERE s.n > 0), "
        f"keyed AS MATERIALIZED (SELECT f.identifier, f.stratum, z.n, z.sidx, {_PREFIX} AS p "
        f"FROM {table} f JOIN sized z ON z.stratum = f.stratum {_BITS}), "
        "ranked AS (SELECT identifier, stratum, n, sidx, rank() OVER (PARTITION BY sidx ORDER BY p) AS r FROM keyed), "
        f"ticketed AS (SELECT f.identifier, f.stratum, f.n, f.sidx, {_TICKET} AS ticket "
        f"FROM ranked f {_BITS} {_DIGITS} WHERE f.r <= f.n), "
        "ordered AS (SELECT identifier, stratum, ticket, n, sidx, row_number() OVER (PARTITION BY sidx "
        'ORDER BY ticket COLLATE "C", identifier COLLATE "C") AS rank FROM ticketed) '
        "SELECT row_number() OVER (ORDER BY sidx, rank) AS k, identifier, stratum, ticket, rank::integer AS rank "
        "FROM ordered WHERE rank <= n"
    )


def draw(
    conn: Connection, frame_id: int, blob: bytes, frame_sha256: str, seed: str, sizes: Mapping[str, int]
) -> InDatabaseDraw:
    """Load the frozen frame, check its hash, select every stratum's sample; see the module docstring."""
    table = f"inspect_frame_{int(frame_id)}"
    if _load_frame(conn, table, blob) != frame_sha256:
        raise InspectError(f"frame #{frame_id} does not match its stored SHA-256: the database was altered")
    conn.execute(text("SET LOCAL work_mem = '256MB'"))
    found: dict[str, int] = {
        r[0]: r[1] for r in conn.execute(text(f"SELECT stratum, count(*) FROM {table} GROUP BY stratum"))
    }
    unsized = sorted(set(found) - set(sizes))
    if unsized:
        raise ValueError(f"no sample size for strata {unsized}")
    for label in sorted(set(found) | set(sizes)):
        n = sizes[label]
        if type(n) is not int or not 0 <= n <= found.get(label, 0):
            raise ValueError(f"stratum {label!r}: sample size {n!r} outside 0..{found.get(label, 0)}")
    seed_prefix = hashlib.sha256(seed.encode("utf-8")).hexdigest().encode("ascii")
    labels = sorted(sizes)  # code point order = the order of the strata in the sample
    conn.execute(
        text(f"CREATE TEMPORARY TABLE {table}_sample ON COMMIT DROP AS {_sample_sql(table)}"),
        {"prefix": seed_prefix, "labels": labels, "sizes": [sizes[label] for label in labels]},
    )
    stream = conn.execute(
        text(f"SELECT stratum, identifier, ticket, rank FROM {table}_sample ORDER BY k").execution_options(
            yield_per=50_000
        )
    )
    n = 0

    def counted() -> Iterator[Any]:
        nonlocal n
        for row in stream:
            n += 1
            yield row

    digest = sample_sha256(counted())
    conn.execute(text(f"DROP TABLE {table}"))
    return InDatabaseDraw(f"{table}_sample", n, digest)
