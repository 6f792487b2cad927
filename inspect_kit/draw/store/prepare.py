"""Commit: freeze the frame of each (matter, period) and record the commitment to a seed source
(see inspect_kit.draw.service for the protocol). Every argument is checked before anything is
written; one transaction for all matters of the command."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert

from inspect_kit.config import Config
from inspect_kit.config.load import matter_spec
from inspect_kit.config.models import Matter
from inspect_kit.draw.core.bundle import size_strata
from inspect_kit.draw.core.frame import FrameBuilder, canonical_rows
from inspect_kit.draw.core.quota import QuotaRule
from inspect_kit.draw.core.record import commitment_document, commitment_sha256
from inspect_kit.draw.core.seeds import SeedError, SeedSource, check_commitment_time, salt_commitment
from inspect_kit.draw.store import frames as fq
from inspect_kit.draw.store.caps import cap_hits
from inspect_kit.draw.store.locking import latest, lock_period, write
from inspect_kit.draw.store.read import CommitmentInfo, FrameInfo
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import Commitment, Draw, Frame, SealSalt
from inspect_kit.transparency.store import append_pending


def as_period(period: Period | str) -> Period:
    return parse_period(period) if isinstance(period, str) else period


def matters_of(config: Config, codes: Sequence[str], period: Period) -> list[Matter]:
    matters = [config.matter(c) for c in codes]
    for m in matters:
        if m.period != period.kind:
            raise InspectError(f"matter {m.code} is drawn per {m.period}, not per {period.kind} ({period})")
    if not matters:
        raise InspectError(f"no matter to draw for {period}")
    return matters


def matter_coordination(config: Config, matter: Matter, period: Period) -> dict[str, Any] | None:
    """The coordination entry of (matter, period) under the year's plan in the config, or None."""
    from inspect_kit.draw.core.coordination import coordination_for

    plan = config.settings.coordination.get(str(period.year))
    found = coordination_for(
        plan.model_dump() if plan is not None else None,
        matter.code,
        period.label,
        period.kind == "year" or matter.coverage == "annual",
    )
    return found.to_dict() if found is not None else None


def _redraw_needed(conn: Connection, matter: Matter, period: Period, now: dt.datetime) -> str | None:
    """Why a new commitment of (matter, period) would be a re-draw, or None."""
    lock_period(conn, matter.code, period.label)
    drawn = latest(conn, Draw.__table__, matter.code, period.label)
    if drawn is not None:
        return f"{matter.code} {period} was already drawn (draw #{drawn.id}, {drawn.drawn_at:%Y-%m-%d %H:%M})"
    com = latest(conn, Commitment.__table__, matter.code, period.label)
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


def check_redraw(
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
    conn: Connection,
    config: Config,
    matter: Matter,
    period: Period,
    as_of: dt.date,
    now: dt.datetime,
    by: str | None = None,
) -> tuple[int, str, list[dict[str, Any]], dict[str, int], int]:
    """Freeze the frame: stream it sorted from the database, checking, hashing and compressing as it
    comes (memory flat in its size); a frame that is not plainly canonical in that order is read
    again and built the slow way, which sorts it and names every problem."""
    spec, spec_sha = matter_spec(matter)
    hits = cap_hits(conn, config, matter, period.label)
    src = fq.FrameSource(conn, matter, period, as_of, config.settings.findings.codes, hits)
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
        cap_excluded=src.cap_detail or None,
        by=by,
    )
    return frame_id, sha, strata, excluded, n_rows


def prepare_one(
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
    by: str | None = None,
) -> FrameInfo:
    frame_id, sha, strata, excluded, n_rows = _freeze(conn, config, matter, period, as_of, now, by)
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
    coord = matter_coordination(config, matter, period)
    if coord is not None:
        doc["coordination"] = coord  # only when used: earlier commitment codes are unchanged
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
        coordination=coord,
        by=by,
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
    warnings = coordination_warnings(conn, config, matter.code, period.label, doc["source"], sealed, coord)
    return FrameInfo(
        frame_id, matter.code, period.label, as_of, now, sha, n_rows, strata, excluded, com, None, warnings
    )


def coordination_warnings(
    conn: Connection,
    config: Config,
    matter_code: str,
    period_label: str,
    source: dict[str, Any],
    sealed: bool,
    coordination: dict[str, Any] | None,
) -> list[str]:
    """Why a coordinated commitment will not share its random numbers with another matter of its
    group committed for the same period: under rule 2 the numbers come from the public seed (and a
    sealed draw's salt), so matters committed to different seed sources, or sealed, draw as
    independently as uncoordinated ones would. Each draw stays a fair draw; the point of
    coordinating them (fewer, or more, shared visits) is lost, and nothing else says so."""
    from inspect_kit.draw.core.coordination import PRN_RULE_2

    if coordination is None or coordination.get("rule") != PRN_RULE_2:
        return []
    plan = config.settings.coordination.get(period_label[:4])
    group = plan.groups.get(coordination["group"]) if plan is not None else None
    others = [m for m in (group.matters if group is not None else []) if m != matter_code]
    out: list[str] = []
    for other in others:
        com = latest(conn, Commitment.__table__, other, period_label)
        if com is None or com.coordination is None or com.coordination.get("group") != coordination["group"]:
            continue
        if com.sealed or sealed:
            why = "a sealed draw's numbers also come from its secret salt"
        elif com.source != source:
            why = (
                f"they are committed to different seed sources ({SeedSource.from_dict(com.source).describe()}; "
                f"{SeedSource.from_dict(source).describe()})"
            )
        else:
            continue
        out.append(
            f"{matter_code} and {other} {period_label} are coordinated (group {coordination['group']}) but will not "
            f"share their random numbers: {why}. Each draw stays fair, but their samples overlap only as "
            "independent draws would; commit coordinated matters together, unsealed, to one seed source"
        )
    return out


def prepare_all(
    conn: Connection,
    config: Config,
    matters: Sequence[Matter],
    period: Period,
    source: SeedSource,
    as_of: dt.date,
    now: dt.datetime,
    redraw: bool,
    reason: str | None,
    *,
    sealed: bool = False,
    salt: str | None = None,
    one_step: bool = False,
    by: str | None = None,
) -> list[FrameInfo]:
    """Every matter's re-draw checked first, then each frame frozen and committed (in ``conn``'s
    transaction); shared by `prepare` and the one-step draw."""
    reasons = [check_redraw(conn, m, period, now, redraw, reason) for m in matters]
    return [
        prepare_one(
            conn,
            config,
            m,
            period,
            source=source,
            as_of=as_of,
            now=now,
            sealed=sealed,
            salt=salt,
            reason=r,
            one_step=one_step,
            by=by,
        )
        for m, r in zip(matters, reasons)
    ]


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
    by: str | None = None,
) -> list[FrameInfo]:
    """Freeze the frames and commit to the seed source, for every matter given; all or nothing.
    ``by`` names the web user who did it (recorded on the frame and the commitment; None: the CLI)."""
    p = as_period(period)
    matters = matters_of(config, matter_codes, p)
    try:
        check_commitment_time(source, now)
    except SeedError as exc:
        raise InspectError(str(exc)) from None

    def work(conn: Connection) -> list[FrameInfo]:
        out = prepare_all(conn, config, matters, p, source, as_of, now, redraw, reason, sealed=sealed, salt=salt, by=by)
        append_pending(conn, now)
        return out

    frames: list[FrameInfo] = write(engine, f"prepared {p}", work)
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
