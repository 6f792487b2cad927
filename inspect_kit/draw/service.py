"""Draws against the database: commit (prepare), draw (run), unseal, list, and the one-step draw.

Commit, then reveal, and nothing the operator can steer in between:

* ``prepare`` freezes the frame of each (matter, period) and records a **commitment**: the
  frame's SHA-256, the time, and the seed source that will be used — a future drand round, a
  lottery issue drawn on a later day, or a witnessed meeting — plus, for a sealed draw
  (保密抽查), the SHA-256 of a secret salt the tool generates and keeps. Every argument is
  checked before anything is written; one transaction for all matters of the command.
* ``run`` draws from exactly the committed frame (``frame_sha256=`` refuses another), with the
  public seed the source produced (a drand signature is verified offline), through the per-draw
  seed rule of inspect_kit.draw.seeds, so every (matter, period) has its own tickets.
* A re-draw needs a new commitment made with a reason (``redraw=True, reason=...``): the
  earlier draw stays, the new one names it. Re-freezing a frame after the committed value was
  published counts as a re-draw too. Every frame ever frozen is listed (``list_frames``).
* ``unseal`` reveals a sealed draw's salt after the inspections; from then on anyone can
  re-derive it.

Every record is appended to the transparency log in the transaction that writes it. Frames,
commitments, draws, tasks and unsealings are append-only (database triggers refuse UPDATE,
DELETE and, on PostgreSQL, TRUNCATE).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from inspect_kit.config import Config
from inspect_kit.config.load import matter_spec
from inspect_kit.config.models import Matter
from inspect_kit.draw import frames as fq
from inspect_kit.draw import indb
from inspect_kit.draw.bundle import size_strata

# Re-exported: the bundle and verification live in inspect_kit.draw.export.
from inspect_kit.draw.export import export_bundle, frame_rows_from_blob, verify_draw  # noqa: F401
from inspect_kit.draw.frame import FrameBuilder, canonical_rows, draw_members, draw_stratified, frame_members
from inspect_kit.draw.quota import QuotaRule
from inspect_kit.draw.record import commitment_document, commitment_sha256, sample_sha256
from inspect_kit.draw.sampler import ALGORITHM_NAME, ALGORITHM_VERSION
from inspect_kit.draw.seeds import (
    SeedError,
    SeedSource,
    check_commitment_time,
    derive_seed,
    salt_commitment,
    seed_value,
)
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.storage.helpers import insert_id, write_transaction
from inspect_kit.storage.models import Commitment, Draw, Entity, Frame, ImportBatch, SealSalt, Task, Unsealing
from inspect_kit.transparency.store import append_pending


@dataclass(frozen=True)
class CommitmentInfo:
    id: int
    frame_id: int
    matter: str
    period: str
    committed_at: dt.datetime
    frame_sha256: str
    source: dict[str, Any]
    ticket_group: str
    sealed: bool
    salt_sha256: str | None
    one_step: bool
    redraw_reason: str | None
    sha256: str  # the commitment code to publish

    @property
    def seed_source(self) -> SeedSource:
        return SeedSource.from_dict(self.source)


@dataclass(frozen=True)
class FrameInfo:
    id: int
    matter: str
    period: str
    as_of: dt.date
    prepared_at: dt.datetime
    sha256: str
    n_rows: int
    strata: list[dict[str, Any]]
    excluded: dict[str, int]
    commitment: CommitmentInfo | None = None
    drawn_by: int | None = None  # the draw that used this frame, if any


@dataclass(frozen=True)
class DrawInfo:
    id: int
    frame_id: int
    matter: str
    period: str
    seed: str  # the public seed
    seed_source: str
    drawn_at: dt.datetime
    redraw_of: int | None
    reason: str | None
    n_selected: int
    frame_sha256: str
    strata: list[dict[str, Any]]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    derived_seed: str | None = None
    commitment_id: int | None = None
    sealed: bool = False
    unsealed: bool = False
    warnings: list[str] = field(default_factory=list)


def _period(period: Period | str) -> Period:
    return parse_period(period) if isinstance(period, str) else period


def _matters(config: Config, codes: Sequence[str], period: Period) -> list[Matter]:
    matters = [config.matter(c) for c in codes]
    for m in matters:
        if m.period != period.kind:
            raise InspectError(f"matter {m.code} is drawn per {m.period}, not per {period.kind} ({period})")
    if not matters:
        raise InspectError(f"no matter to draw for {period}")
    return matters


def _commitment_info(row: Any) -> CommitmentInfo:
    return CommitmentInfo(
        row.id,
        row.frame_id,
        row.matter_code,
        row.period,
        row.committed_at,
        row.frame_sha256,
        row.source,
        row.ticket_group,
        row.sealed,
        row.salt_sha256,
        row.one_step,
        row.redraw_reason,
        row.commitment_sha256,
    )


def _latest(conn: Connection, table: Any, matter: str, period: str, lock: bool = False) -> Any:
    stmt = (
        select(table)
        .where(table.c.matter_code == matter, table.c.period == period)
        .order_by(table.c.id.desc())
        .limit(1)
    )
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def _lock(conn: Connection, matter: str, period: str) -> None:
    """Serialise the commands that commit or draw one (matter, period): on PostgreSQL a transaction
    advisory lock (released at commit), so the second of two operators sees the first one's records;
    SQLite is serialised by the write transaction itself (storage.helpers.write_transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"inspect-kit draw {matter} {period}"}
        )


def _redraw_needed(conn: Connection, matter: Matter, period: Period, now: dt.datetime) -> str | None:
    """Why a new commitment of (matter, period) would be a re-draw, or None."""
    _lock(conn, matter.code, period.label)
    drawn = _latest(conn, Draw.__table__, matter.code, period.label)
    if drawn is not None:
        return f"{matter.code} {period} was already drawn (draw #{drawn.id}, {drawn.drawn_at:%Y-%m-%d %H:%M})"
    com = _latest(conn, Commitment.__table__, matter.code, period.label)
    if com is not None:
        available = SeedSource.from_dict(com.source).available_at()
        if available is None or available <= now:
            return (
                f"{matter.code} {period} has a commitment (#{com.id}, {com.committed_at:%Y-%m-%d %H:%M}) whose seed "
                "could already be known: freezing a new frame now is a re-draw"
            )
    return None


def public_text(text: str) -> str:
    """Free text that the commitment (and so every bundle) publishes, with personal data masked
    before it is stored: a hashed record cannot be scrubbed later."""
    from inspect_kit.publish.notices import scrub

    return scrub(text.strip()) or text.strip()


def _check_redraw(
    conn: Connection, matter: Matter, period: Period, now: dt.datetime, redraw: bool, reason: str | None
) -> str | None:
    why = _redraw_needed(conn, matter, period, now)
    if why and not redraw:
        raise InspectError(f'{why}; a re-draw needs --redraw --reason "..." and is published beside the first')
    if redraw and not why:
        raise InspectError(f"{matter.code} {period} has nothing to re-draw; drop --redraw")
    if redraw and not (reason and reason.strip()):
        raise InspectError("a re-draw needs --reason: it is published with the new draw")
    return public_text(reason) if redraw and reason else None


def _freeze(
    conn: Connection, config: Config, matter: Matter, period: Period, as_of: dt.date, now: dt.datetime
) -> tuple[int, str, list[dict[str, Any]], dict[str, int], int]:
    """Freeze the frame: stream it sorted from the database, checking, hashing and compressing as it
    comes (memory flat in its size); a frame that is not plainly canonical in that order is read
    again and built the slow way, which sorts it and names every problem."""
    spec, spec_sha = matter_spec(matter)
    src = fq.FrameSource(conn, matter, period, as_of, config.settings.findings.codes)
    built = FrameBuilder()
    chunks = src.chunks(ordered=True)
    try:
        streamed = all(built.add(chunk) for chunk in chunks)
    finally:
        chunks.close()
    if not streamed:
        rows = [(r[0], r[1]) for chunk in src.chunks(ordered=False) for r in chunk]
        built = FrameBuilder()
        if rows:
            built.add(canonical_rows(rows))  # raises on an invalid frame; sorted and valid, it is taken
        del rows
    excluded, drawn_before = src.excluded, src.drawn_before
    if not built.n_rows and not drawn_before:
        raise fq.empty_frame_error(conn, matter, excluded)
    rules = fq.rules_for(matter, period, set(built.counts), drawn_before)
    on_duty = None
    if any(isinstance(r, QuotaRule) and r.quota.pooled for r in rules.values()):
        on_duty = fq.qualified_officers(conn, matter, as_of)
    try:
        sizes = size_strata(built.counts, rules, on_duty)
    except ValueError as exc:
        raise InspectError(f"matter {matter.code}: {exc}") from None
    strata = fq.strata_entries(rules, sizes)
    if on_duty is not None:
        for s in strata:
            s["on_duty_inspectors"] = on_duty
    n_rows = built.n_rows
    sha, blob = built.finish()
    frame_id = insert_id(
        conn,
        Frame.__table__,
        matter_code=matter.code,
        period=period.label,
        as_of=as_of,
        prepared_at=now,
        frame_sha256=sha,
        n_rows=n_rows,
        strata=strata,
        excluded=excluded,
        matter_spec=spec,
        matter_spec_sha256=spec_sha,
        frame_blob=blob,
    )
    return frame_id, sha, strata, excluded, n_rows


def _prepare_one(
    conn: Connection,
    config: Config,
    matter: Matter,
    period: Period,
    *,
    source: SeedSource,
    as_of: dt.date,
    now: dt.datetime,
    sealed: bool,
    salt: str | None,
    reason: str | None,
    one_step: bool,
) -> FrameInfo:
    frame_id, sha, strata, excluded, n_rows = _freeze(conn, config, matter, period, as_of, now)
    salt_sha = None
    if sealed:
        salt = salt or secrets.token_hex(32)
        salt_sha = salt_commitment(salt)
    doc = commitment_document(
        matter=matter.code,
        period=period.label,
        frame_sha256=sha,
        committed_at=now,
        source=source.to_dict(),
        ticket_group=matter.seed_group,
        sealed=sealed,
        salt_sha256=salt_sha,
        one_step=one_step,
        redraw_reason=reason,
    )
    code = commitment_sha256(doc)
    com_id = insert_id(
        conn,
        Commitment.__table__,
        frame_id=frame_id,
        matter_code=matter.code,
        period=period.label,
        committed_at=now,
        frame_sha256=sha,
        source_kind=source.kind,
        source=doc["source"],
        ticket_group=matter.seed_group,
        sealed=sealed,
        salt_sha256=salt_sha,
        one_step=one_step,
        redraw_reason=reason,
        commitment_sha256=code,
    )
    if sealed:
        conn.execute(insert(SealSalt.__table__).values(commitment_id=com_id, salt=salt))
    com = CommitmentInfo(
        com_id,
        frame_id,
        matter.code,
        period.label,
        now,
        sha,
        doc["source"],
        matter.seed_group,
        sealed,
        salt_sha,
        one_step,
        reason,
        code,
    )
    return FrameInfo(frame_id, matter.code, period.label, as_of, now, sha, n_rows, strata, excluded, com)


def _write(engine: Engine, what: str, work: Any) -> Any:
    """Run ``work(conn)`` in one transaction; a lost race with another writer is a clear error."""
    try:
        with write_transaction(engine) as conn:
            return work(conn)
    except IntegrityError as exc:
        raise InspectError(
            f"someone else {what} at the same time; nothing was written: run the command again "
            f"({str(exc.orig).splitlines()[0]})"
        ) from None
    except OperationalError as exc:
        if "could not serialize" in str(exc) or "deadlock" in str(exc):
            raise InspectError(
                f"someone else {what} at the same time; nothing was written: run the command again"
            ) from None
        raise


def prepare(
    engine: Engine,
    config: Config,
    period: Period | str,
    matter_codes: Sequence[str],
    *,
    source: SeedSource,
    as_of: dt.date,
    now: dt.datetime,
    sealed: bool = False,
    salt: str | None = None,
    redraw: bool = False,
    reason: str | None = None,
) -> list[FrameInfo]:
    """Freeze the frames and commit to the seed source, for every matter given; all or nothing."""
    p = _period(period)
    matters = _matters(config, matter_codes, p)
    try:
        check_commitment_time(source, now)
    except SeedError as exc:
        raise InspectError(str(exc)) from None

    def work(conn: Connection) -> list[FrameInfo]:
        reasons = [_check_redraw(conn, m, p, now, redraw, reason) for m in matters]
        out = [
            _prepare_one(
                conn,
                config,
                m,
                p,
                source=source,
                as_of=as_of,
                now=now,
                sealed=sealed,
                salt=salt,
                reason=r,
                one_step=False,
            )
            for m, r in zip(matters, reasons)
        ]
        append_pending(conn, now)
        return out

    frames: list[FrameInfo] = _write(engine, f"prepared {p}", work)
    return frames


def prepare_frame(
    engine: Engine,
    config: Config,
    matter_code: str,
    period: Period | str,
    *,
    source: SeedSource,
    as_of: dt.date,
    now: dt.datetime,
    **kw: Any,
) -> FrameInfo:
    """`prepare` for one matter."""
    return prepare(engine, config, period, [matter_code], source=source, as_of=as_of, now=now, **kw)[0]


def _registry_changed_since(conn: Connection, moment: dt.datetime) -> str | None:
    last = conn.execute(select(func.max(ImportBatch.at)).where(ImportBatch.kind == "entities")).scalar()
    if last is not None and last > moment:
        return (
            f"the entity registry was imported again at {last:%Y-%m-%d %H:%M}, after the frame was frozen "
            f"({moment:%Y-%m-%d %H:%M}): the draw uses the frozen frame; prepare again (a re-draw) if it is stale"
        )
    return None


def _client_sample(frame: Any, seed: str, sizes: dict[str, int]) -> list[tuple[str, str, str, int]]:
    """(stratum, identifier, ticket, rank) of the draw from the stored frame, in Python: one pass
    over the blob hashes it and splits it by stratum; a blob that is not plainly canonical is
    re-read by `draw_stratified`, which names the problem."""
    sha, _, members = frame_members(frame.frame_blob)
    if sha != frame.frame_sha256:
        raise InspectError(f"frame #{frame.id} does not match its stored SHA-256: the database was altered")
    if members is None:
        result = draw_stratified(seed, frame_rows_from_blob(frame.frame_blob), sizes)
    else:
        result = draw_members(seed, members, sizes, sha)
        del members
    return [(stratum, c.id, c.ticket, c.rank) for stratum, c in result.sample]


def _sample_table(conn: Connection, sample: list[tuple[str, str, str, int]]) -> str:
    """The client's sample in a temporary table (k, identifier, stratum, ticket, rank), k = 1.. in
    (stratum, rank) order, for `_write_tasks`: the join with the registry runs in the database."""
    table = "inspect_sample"
    pg = conn.dialect.name == "postgresql"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {table} (k INTEGER PRIMARY KEY, identifier TEXT, stratum TEXT, "
        f"ticket TEXT, rank INTEGER){' ON COMMIT DROP' if pg else ''}"
    )
    rows = ((k, ident, stratum, ticket, rank) for k, (stratum, ident, ticket, rank) in enumerate(sample, start=1))
    if pg:
        raw = conn.connection.driver_connection
        assert raw is not None  # an open connection has its driver connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", list(rows))
    return table


def _write_tasks(conn: Connection, table: str, draw_id: int, prefix: str, n: int) -> None:
    """One task per row of the sample table, numbered f"{prefix}-{k:03d}" in k order, with the
    entity's id from the registry: one INSERT ... SELECT; then the table is dropped."""
    number = (
        "printf('%03d', s.k)"
        if conn.dialect.name == "sqlite"
        else "CASE WHEN s.k < 1000 THEN lpad(s.k::text, 3, '0') ELSE s.k::text END"
    )
    inserted = conn.execute(
        text(
            "INSERT INTO tasks (draw_id, task_no, entity_id, identifier, stratum, ticket, rank) "
            f"SELECT :draw_id, :prefix || '-' || {number}, e.id, s.identifier, s.stratum, s.ticket, s.rank "
            f"FROM {table} s JOIN entities e ON e.identifier = s.identifier ORDER BY s.k"
        ),
        {"draw_id": draw_id, "prefix": prefix},
    ).rowcount
    if inserted != n:
        missing = (
            conn.execute(
                text(
                    f"SELECT s.identifier FROM {table} s WHERE NOT EXISTS (SELECT 1 FROM entities e "
                    "WHERE e.identifier = s.identifier) ORDER BY s.k LIMIT 5"
                )
            )
            .scalars()
            .all()
        )
        raise InspectError(f"drawn entities are missing from the registry: {missing}; nothing was written")
    conn.execute(text(f"DROP TABLE {table}"))


def _run_one(
    conn: Connection,
    config: Config,
    matter: Matter,
    period: Period,
    *,
    now: dt.datetime,
    values: dict[str, Any],
    frame_sha256: str | None,
) -> tuple[int, list[str]]:
    _lock(conn, matter.code, period.label)
    com = _latest(conn, Commitment.__table__, matter.code, period.label, lock=True)
    if com is None:
        raise InspectError(
            f"no commitment for {matter.code} {period}: run `inspect draw prepare --period {period} "
            f"--matter {matter.code} ...` first, publish its frame hash and seed source, then draw"
        )
    used = conn.execute(select(Draw.id).where(Draw.commitment_id == com.id)).scalar()
    if used is not None:
        raise InspectError(
            f"{matter.code} {period} was already drawn from commitment #{com.id} (draw #{used}); "
            "to draw again, prepare a new commitment with --redraw --reason"
        )
    frame = conn.execute(select(Frame.__table__).where(Frame.id == com.frame_id)).one()
    if frame_sha256 is not None and frame_sha256.strip().lower() != frame.frame_sha256:
        raise InspectError(
            f"{matter.code} {period}: the published frame hash is {frame_sha256.strip()}, but the "
            f"committed frame (#{frame.id}) hashes to {frame.frame_sha256}; nothing was drawn"
        )
    if now < com.committed_at:
        raise InspectError("the draw time is before the commitment")
    source = SeedSource.from_dict(com.source)
    try:
        value = seed_value(source, min_length=config.settings.draw.min_seed_length, **values)
    except SeedError as exc:
        raise InspectError(f"{matter.code} {period}: {exc}") from None
    available = source.available_at()
    if available is not None and now < available:
        raise InspectError(
            f"{matter.code} {period}: the seed source ({source.describe()}) is not published yet "
            f"at {now:%Y-%m-%d %H:%M}"
        )
    salt = None
    if com.sealed:
        salt = conn.execute(select(SealSalt.salt).where(SealSalt.commitment_id == com.id)).scalar_one()
    derived = derive_seed(value.seed, com.ticket_group, period.label, salt)
    sizes = {s["stratum"]: s["n"] for s in frame.strata}
    in_db = None
    sample: list[tuple[str, str, str, int]] = []
    if indb.applies(conn, config.settings.draw.in_database_min_rows, frame.n_rows):
        in_db = indb.draw(conn, frame.id, frame.frame_blob, frame.frame_sha256, derived, sizes)
        n_selected, sample_digest = in_db.n_selected, in_db.sample_sha256
    else:
        sample = _client_sample(frame, derived, sizes)
        n_selected, sample_digest = len(sample), sample_sha256(sample)
    previous = _latest(conn, Draw.__table__, matter.code, period.label)
    draw_id = insert_id(
        conn,
        Draw.__table__,
        frame_id=frame.id,
        matter_code=matter.code,
        period=period.label,
        seed=value.seed,
        seed_source=source.describe(),
        algorithm=ALGORITHM_NAME,
        algorithm_version=ALGORITHM_VERSION,
        drawn_at=now,
        redraw_of=previous.id if previous is not None else None,
        reason=com.redraw_reason if previous is not None else None,
        n_selected=n_selected,
        sample_sha256=sample_digest,
        commitment_id=com.id,
        derived_seed=derived,
        seed_evidence=value.evidence or None,
    )
    n_redraws = (
        conn.execute(
            select(func.count()).select_from(Draw).where(Draw.matter_code == matter.code, Draw.period == period.label)
        ).scalar_one()
        - 1
    )
    prefix = f"{matter.code}-{period.label}" + (f"-R{n_redraws}" if n_redraws else "")
    table = in_db.table if in_db is not None else _sample_table(conn, sample)
    _write_tasks(conn, table, draw_id, prefix, n_selected)
    warning = _registry_changed_since(conn, frame.prepared_at)
    return draw_id, [warning] if warning else []


def run(
    engine: Engine,
    config: Config,
    period: Period | str,
    matter_codes: Sequence[str],
    *,
    now: dt.datetime,
    seed: str | None = None,
    signature: str | None = None,
    previous_signature: str | None = None,
    numbers: str | None = None,
    frame_sha256: str | None = None,
    with_tasks: bool = True,
) -> list[DrawInfo]:
    """Draw every matter given from its latest commitment; all or nothing.

    The value must fit each commitment's source: ``signature`` (and ``previous_signature`` on
    drand mainnet) for drand, ``numbers`` for a lottery, ``seed`` for a witnessed draw.
    ``with_tasks=False`` returns the draws without their task lists (a provincial draw writes
    millions; read them with `get_draw` or inspect_kit.draw.tasks when needed).
    """
    p = _period(period)
    matters = _matters(config, matter_codes, p)
    if frame_sha256 is not None and len(matters) > 1:
        raise InspectError("--frame-sha256 names one frame: give --matter too")
    values = {
        k: v
        for k, v in (
            ("seed", seed),
            ("signature", signature),
            ("previous_signature", previous_signature),
            ("numbers", numbers),
        )
        if v is not None
    }

    def work(conn: Connection) -> list[tuple[int, list[str]]]:
        done = [_run_one(conn, config, m, p, now=now, values=values, frame_sha256=frame_sha256) for m in matters]
        append_pending(conn, now)
        return done

    done = _write(engine, f"drew {p}", work)
    return [_with_warnings(get_draw(engine, i, with_tasks), w) for i, w in done]


def run_draw(
    engine: Engine, config: Config, matter_code: str, period: Period | str, *, now: dt.datetime, **kw: Any
) -> DrawInfo:
    """`run` for one matter."""
    return run(engine, config, period, [matter_code], now=now, **kw)[0]


def draw_now(
    engine: Engine,
    config: Config,
    period: Period | str,
    matter_codes: Sequence[str],
    *,
    seed: str,
    source: SeedSource,
    as_of: dt.date,
    now: dt.datetime,
    redraw: bool = False,
    reason: str | None = None,
    with_tasks: bool = True,
) -> list[DrawInfo]:
    """Freeze, commit and draw in one transaction (``inspect draw --seed``): only a witnessed seed,
    and the commitment says ``one_step`` — no frame hash was published before the seed."""
    p = _period(period)
    matters = _matters(config, matter_codes, p)
    if source.kind != "witnessed":
        raise InspectError(
            f"a {source.kind} seed is named before the draw: use `inspect draw prepare`, then "
            "`inspect draw run` once the value is published"
        )
    try:
        seed_value(source, seed=seed, min_length=config.settings.draw.min_seed_length)
    except SeedError as exc:
        raise InspectError(str(exc)) from None

    def work(conn: Connection) -> list[tuple[int, list[str]]]:
        reasons = [_check_redraw(conn, m, p, now, redraw, reason) for m in matters]
        for m, r in zip(matters, reasons):
            _prepare_one(
                conn,
                config,
                m,
                p,
                source=source,
                as_of=as_of,
                now=now,
                sealed=False,
                salt=None,
                reason=r,
                one_step=True,
            )
        done = [_run_one(conn, config, m, p, now=now, values={"seed": seed}, frame_sha256=None) for m in matters]
        append_pending(conn, now)
        return done

    done = _write(engine, f"drew {p}", work)
    return [_with_warnings(get_draw(engine, i, with_tasks), w) for i, w in done]


def unseal(engine: Engine, matter_code: str, period: Period | str, *, now: dt.datetime) -> DrawInfo:
    """Reveal the salt of the current sealed draw of (matter, period): its list becomes public."""
    p = _period(period)

    def work(conn: Connection) -> int:
        d = _latest(conn, Draw.__table__, matter_code, p.label)
        if d is None:
            raise InspectError(f"{matter_code} {p} has no draw to unseal")
        com = conn.execute(select(Commitment.__table__).where(Commitment.id == d.commitment_id)).first()
        if com is None or not com.sealed:
            raise InspectError(f"draw #{d.id} of {matter_code} {p} is not sealed: its list is public already")
        done = conn.execute(select(Unsealing.unsealed_at).where(Unsealing.commitment_id == com.id)).scalar()
        if done is not None:
            raise InspectError(f"draw #{d.id} of {matter_code} {p} was unsealed on {done:%Y-%m-%d %H:%M}")
        if now < d.drawn_at:
            raise InspectError("the unsealing time is before the draw")
        salt = conn.execute(select(SealSalt.salt).where(SealSalt.commitment_id == com.id)).scalar_one()
        conn.execute(insert(Unsealing.__table__).values(commitment_id=com.id, salt=salt, unsealed_at=now))
        append_pending(conn, now)
        return int(d.id)

    return get_draw(engine, _write(engine, f"unsealed {matter_code} {p}", work))


def _with_warnings(d: DrawInfo, warnings: list[str]) -> DrawInfo:
    return DrawInfo(**{**d.__dict__, "warnings": warnings}) if warnings else d


# -- reading -----------------------------------------------------------------------------------------

_DRAW_COLUMNS = (
    Draw.id,
    Draw.frame_id,
    Draw.matter_code,
    Draw.period,
    Draw.seed,
    Draw.seed_source,
    Draw.drawn_at,
    Draw.redraw_of,
    Draw.reason,
    Draw.n_selected,
    Frame.frame_sha256,
    Frame.strata,
    Draw.derived_seed,
    Draw.commitment_id,
    Commitment.sealed,
    Unsealing.id.label("unsealing_id"),
)


def _draw_query() -> Any:
    return (
        select(*_DRAW_COLUMNS)
        .join(Frame, Frame.id == Draw.frame_id)
        .outerjoin(Commitment, Commitment.id == Draw.commitment_id)
        .outerjoin(Unsealing, Unsealing.commitment_id == Draw.commitment_id)
    )


def _draw_info(r: Any, tasks: list[dict[str, Any]]) -> DrawInfo:
    return DrawInfo(
        r.id,
        r.frame_id,
        r.matter_code,
        r.period,
        r.seed,
        r.seed_source,
        r.drawn_at,
        r.redraw_of,
        r.reason,
        r.n_selected,
        r.frame_sha256,
        r.strata,
        tasks,
        r.derived_seed,
        r.commitment_id,
        bool(r.sealed),
        r.unsealing_id is not None,
    )


def get_draw(engine: Engine, draw_id: int, with_tasks: bool = True) -> DrawInfo:
    with engine.connect() as conn:
        d = conn.execute(_draw_query().where(Draw.id == draw_id)).first()
        if d is None:
            raise InspectError(f"no draw #{draw_id}")
        tasks = []
        if with_tasks:
            stmt = (
                select(
                    Task.task_no, Task.stratum, Task.identifier, Entity.name, Entity.township, Task.ticket, Task.rank
                )
                .join(Entity, Entity.id == Task.entity_id)
                .where(Task.draw_id == draw_id)
                .order_by(Task.id)
            )
            tasks = [r._asdict() for r in conn.execute(stmt)]
    return _draw_info(d, tasks)


def list_draws(
    engine: Engine, period: str | None = None, matter: str | None = None, year: int | None = None
) -> list[DrawInfo]:
    """Every draw on record (re-draws included), by period, matter and id; ``year`` takes all of
    its periods (the year's own draws, its quarters and its months)."""
    stmt = _draw_query().order_by(Draw.period, Draw.matter_code, Draw.id)
    if period:
        stmt = stmt.where(Draw.period == period)
    if year is not None:
        stmt = stmt.where(Draw.period.like(f"{int(year):04d}%"))
    if matter:
        stmt = stmt.where(Draw.matter_code == matter)
    with engine.connect() as conn:
        return [_draw_info(r, []) for r in conn.execute(stmt)]


def list_frames(
    engine: Engine, period: str | None = None, matter: str | None = None, year: int | None = None
) -> list[FrameInfo]:
    """Every frame ever frozen, with its commitment and the draw that used it (if any)."""
    f = Frame
    stmt = (
        select(
            f.id,
            f.matter_code,
            f.period,
            f.as_of,
            f.prepared_at,
            f.frame_sha256,
            f.n_rows,
            f.strata,
            f.excluded,
            Draw.id.label("draw_id"),
        )
        .outerjoin(Draw, Draw.frame_id == f.id)
        .order_by(f.id)
    )
    if period:
        stmt = stmt.where(f.period == period)
    if year is not None:
        stmt = stmt.where(f.period.like(f"{int(year):04d}%"))
    if matter:
        stmt = stmt.where(f.matter_code == matter)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        ids = [r.id for r in rows]
        commitments = (
            {
                c.frame_id: _commitment_info(c)
                for c in conn.execute(select(Commitment.__table__).where(Commitment.frame_id.in_(ids)))
            }
            if ids
            else {}
        )
    return [
        FrameInfo(
            r.id,
            r.matter_code,
            r.period,
            r.as_of,
            r.prepared_at,
            r.frame_sha256,
            r.n_rows,
            r.strata,
            r.excluded,
            commitments.get(r.id),
            r.draw_id,
        )
        for r in rows
    ]
