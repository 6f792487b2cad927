"""Draws against the database: freeze a frame (prepare), draw from it with a published seed
(run), re-derive and check (verify), and export the bundle that lets anyone else check.

Commit, then reveal: `prepare_frame` stores the frame and its SHA-256 before any seed exists;
`run_draw` takes the seed afterwards and draws from exactly the stored frame. Frames, draws and
tasks are append-only (database triggers refuse UPDATE and DELETE): a re-draw is a new record
with a reason, and the current draw of (matter, period) is the latest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select

from inspect_kit.config import Config
from inspect_kit.config.load import matter_spec
from inspect_kit.config.models import Matter
from inspect_kit.draw.bundle import BUNDLE_FORMAT, BUNDLE_VERSION, Rule, VerifyReport, size_strata, verify_bundle
from inspect_kit.draw.coverage import CoverageRule
from inspect_kit.draw.frame import canonical_frame_bytes, canonical_rows, draw_stratified
from inspect_kit.draw.quota import QuotaKind, QuotaRule
from inspect_kit.draw.sampler import ALGORITHM_NAME, ALGORITHM_VERSION
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.storage.bulk import bulk_insert
from inspect_kit.storage.models import Draw, Entity, Frame, Inspector, InspectorQualification, Task

_ENTITY_COLUMNS = {"category": Entity.category, "credit_class": Entity.credit_class, "township": Entity.township,
                   "industry": Entity.industry, "department": Entity.department}


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


@dataclass(frozen=True)
class DrawInfo:
    id: int
    frame_id: int
    matter: str
    period: str
    seed: str
    seed_source: str
    drawn_at: dt.datetime
    redraw_of: int | None
    reason: str | None
    n_selected: int
    frame_sha256: str
    strata: list[dict[str, Any]]
    tasks: list[dict[str, Any]] = field(default_factory=list)


# -- the frame ---------------------------------------------------------------------------------

def _qualified_officers(conn: Connection, matter: Matter, as_of: dt.date) -> int:
    """On-duty enforcement officers qualified for the matter on the draw date (for "5×inspectors")."""
    quals = set(matter.qualification) | {matter.code}
    q = InspectorQualification
    stmt = (select(func.count(func.distinct(Inspector.id))).join(q, q.inspector_id == Inspector.id)
            .where(Inspector.kind == "officer", Inspector.status == "active",
                   Inspector.department.in_(list(matter.team_demand())), q.qualification.in_(quals),
                   or_(Inspector.cert_valid_to.is_(None), Inspector.cert_valid_to >= as_of),
                   or_(Inspector.cert_valid_from.is_(None), Inspector.cert_valid_from <= as_of)))
    return conn.execute(stmt).scalar_one()


def _drawn_this_cycle(conn: Connection, matter: Matter, period: Period) -> dict[str, str]:
    """identifier → stratum of everyone drawn by the matter's current draws earlier in the year."""
    from inspect_kit.draw.tasks import current_draw_ids

    earlier = {p for (_, p) in current_draw_ids(conn, matter=matter.code)
               if (pp := parse_period(p)).year == period.year and pp < period}
    ids = [i for (m, p), i in current_draw_ids(conn, matter=matter.code).items() if p in earlier]
    if not ids:
        return {}
    return dict(conn.execute(select(Task.identifier, Task.stratum).where(Task.draw_id.in_(ids))).all())


def _recently_clean(conn: Connection, matter: Matter, as_of: dt.date, codes: dict | None) -> set[str]:
    """Entities inspected with no problem found within the matter's exclusion window."""
    months = matter.exclude_clean_within_months
    if not months:
        return set()
    from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook
    from inspect_kit.storage.models import Finding

    codebook = Codebook.from_dict(codes) if codes else DEFAULT_CODEBOOK

    y, m = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    since = dt.date(y, m + 1, min(as_of.day, 28))
    rows = conn.execute(select(Task.identifier, Finding.results).join(Finding, Finding.task_id == Task.id)
                        .where(Finding.inspection_end >= since))
    return {ident for ident, results in rows if not codebook.problem_found(results)}


def _frame_rows(conn: Connection, matter: Matter, period: Period, as_of: dt.date, codes: dict | None = None) -> tuple[list[tuple[str, str]], dict[str, int], dict[str, int]]:
    """(identifier, stratum) rows of the frame; exclusion counts; per stratum, drawn earlier this cycle."""
    cols = [Entity.identifier] + [_ENTITY_COLUMNS[f] for f in matter.strata]
    in_scope = and_(Entity.category.in_(matter.categories))
    exempt = and_(Entity.exempt_reason.is_not(None),
                  or_(Entity.exempt_from.is_(None), Entity.exempt_from <= as_of),
                  or_(Entity.exempt_to.is_(None), Entity.exempt_to >= as_of))
    excluded: dict[str, int] = {}
    for label, cond in (("not active (closed or cancelled)", Entity.status != "active"),
                        ("exempt on the draw date (正面清单)", and_(Entity.status == "active", exempt))):
        n = conn.execute(select(func.count()).select_from(Entity).where(in_scope, cond)).scalar_one()
        if n:
            excluded[label] = n
    found = conn.execute(select(*cols).where(in_scope, Entity.status == "active", ~exempt)).all()
    if len(matter.strata) == 1:  # the usual case, without a dict per row
        rows = [(r[0], r[1] or "-") for r in found]
    else:
        rows = [(r[0], "/".join(v or "-" for v in r[1:])) for r in found]
    del found
    drop: set[str] = set()
    clean = _recently_clean(conn, matter, as_of, codes)
    if clean:
        before = len(rows)
        rows = [r for r in rows if r[0] not in clean]
        if before - len(rows):
            excluded[f"inspected with no problem within {matter.exclude_clean_within_months} months"] = before - len(rows)
    drawn_before: dict[str, int] = {}
    if matter.coverage == "annual":
        drawn = _drawn_this_cycle(conn, matter, period)
        for stratum in drawn.values():
            drawn_before[stratum] = drawn_before.get(stratum, 0) + 1
        drop = set(drawn)
        before = len(rows)
        rows = [r for r in rows if r[0] not in drop]
        if before - len(rows):
            excluded["drawn earlier this year (annual coverage)"] = before - len(rows)
    return rows, excluded, drawn_before


def _rules(matter: Matter, period: Period, labels: set[str], drawn_before: dict[str, int]) -> dict[str, Rule]:
    if matter.coverage == "annual":
        return {s: CoverageRule(period.index, period.periods_per_year, drawn_before.get(s, 0))
                for s in labels | set(drawn_before)}
    return {s: QuotaRule.of(matter.quota_for(s), matter.rounding) for s in labels}


def _strata_entries(rules: dict[str, Rule], sizes) -> list[dict[str, Any]]:
    out = []
    for label, size in sizes.items():
        rule = rules[label]
        entry: dict[str, Any] = {"stratum": label, "N": size.N, "quota": size.quota_text,
                                 "rounding": str(size.rounding.value if hasattr(size.rounding, "value") else size.rounding),
                                 "n": size.n, "explanation": size.line}
        if isinstance(rule, CoverageRule):
            entry["coverage"] = {"period": rule.period, "periods": rule.periods, "drawn_before": rule.drawn_before}
        out.append(entry)
    return out


def prepare_frame(engine: Engine, config: Config, matter_code: str, period: Period | str, *,
                  as_of: dt.date, now: dt.datetime) -> FrameInfo:
    """Freeze the frame of (matter, period): store its rows, SHA-256, strata and planned sizes."""
    period = parse_period(period) if isinstance(period, str) else period
    matter = config.matter(matter_code)
    if matter.period != period.kind:
        raise InspectError(f"matter {matter.code} is drawn per {matter.period}, not per {period.kind} ({period})")
    spec, spec_sha = matter_spec(matter)
    with engine.begin() as conn:
        rows, excluded, drawn_before = _frame_rows(conn, matter, period, as_of, config.settings.findings.codes)
        canonical = canonical_rows(rows)
        rules = _rules(matter, period, {s for _, s in canonical}, drawn_before)
        counts: dict[str, int] = {}
        for _, s in canonical:
            counts[s] = counts.get(s, 0) + 1
        on_duty = None
        if any(isinstance(r, QuotaRule) and r.quota.kind is QuotaKind.PER_INSPECTOR for r in rules.values()):
            on_duty = _qualified_officers(conn, matter, as_of)
        try:
            sizes = size_strata(counts, rules, on_duty)
        except ValueError as exc:
            raise InspectError(f"matter {matter.code}: {exc}") from None
        strata = _strata_entries(rules, sizes)
        if on_duty is not None:
            for s in strata:
                s["on_duty_inspectors"] = on_duty
        blob = canonical_frame_bytes(canonical)
        sha = hashlib.sha256(blob).hexdigest()
        frame_id = conn.execute(insert(Frame.__table__).values(
            matter_code=matter.code, period=period.label, as_of=as_of, prepared_at=now, frame_sha256=sha,
            n_rows=len(canonical), strata=strata, excluded=excluded, matter_spec=spec, matter_spec_sha256=spec_sha,
            frame_blob=zlib.compress(blob, 6))).inserted_primary_key[0]
    return FrameInfo(frame_id, matter.code, period.label, as_of, now, sha, len(canonical), strata, excluded)


def _frame_info(row) -> FrameInfo:
    return FrameInfo(row.id, row.matter_code, row.period, row.as_of, row.prepared_at, row.frame_sha256, row.n_rows,
                     row.strata, row.excluded)


def frame_rows_from_blob(blob: bytes) -> list[tuple[str, str]]:
    text = zlib.decompress(blob).decode("utf-8")
    return [tuple(line.split("\t")) for line in text.splitlines()]  # type: ignore[misc]


# -- the draw ----------------------------------------------------------------------------------

def _sample_sha256(sample: list[tuple[str, str, str, int]]) -> str:
    h = hashlib.sha256()
    for stratum, ident, ticket, rank in sample:
        h.update(f"{stratum}\t{ident}\t{ticket}\t{rank}\n".encode())
    return h.hexdigest()


def run_draw(engine: Engine, config: Config, matter_code: str, period: Period | str, *, seed: str, seed_source: str,
             now: dt.datetime, redraw: bool = False, reason: str | None = None) -> DrawInfo:
    """Draw from the latest prepared frame of (matter, period) with the published seed."""
    period = parse_period(period) if isinstance(period, str) else period
    matter = config.matter(matter_code)
    min_len = config.settings.draw.min_seed_length
    if len(seed) < min_len:
        raise InspectError(f"the seed must have at least {min_len} characters (got {len(seed)}): use digits from a "
                           "public dice roll, a lottery result or a randomness beacon, chosen after the frame was frozen")
    if not seed_source.strip():
        raise InspectError("--seed-source is required: say where the seed came from, so that others can check it")
    with engine.begin() as conn:
        frame = conn.execute(select(Frame.__table__).where(Frame.matter_code == matter.code, Frame.period == period.label)
                             .order_by(Frame.id.desc()).limit(1)).first()
        if frame is None:
            raise InspectError(f"no prepared frame for {matter.code} {period}: run `inspect draw prepare --period {period} "
                               f"--matter {matter.code}` first, then publish its hash before choosing the seed")
        previous = conn.execute(select(Draw.id, Draw.seed, Draw.drawn_at).where(
            Draw.matter_code == matter.code, Draw.period == period.label).order_by(Draw.id.desc()).limit(1)).first()
        if previous is not None and not redraw:
            raise InspectError(f"{matter.code} {period} was already drawn (draw #{previous.id}, {previous.drawn_at:%Y-%m-%d %H:%M}); "
                               "a re-draw needs --redraw --reason \"...\" and is recorded beside the first")
        if redraw and previous is None:
            raise InspectError(f"{matter.code} {period} has no draw to re-draw; drop --redraw")
        if redraw and not (reason and reason.strip()):
            raise InspectError("a re-draw needs --reason: it is published with the new draw")
        if previous is not None and previous.seed == seed:
            raise InspectError("a re-draw with the same seed gives the same sample; use a new seed")
        if now < frame.prepared_at:
            raise InspectError("the draw time is before the frame was frozen")
        rows = frame_rows_from_blob(frame.frame_blob)
        if hashlib.sha256(canonical_frame_bytes(rows)).hexdigest() != frame.frame_sha256:
            raise InspectError(f"frame #{frame.id} does not match its stored SHA-256: the database was altered")
        result = draw_stratified(seed, rows, {s["stratum"]: s["n"] for s in frame.strata})
        sample = [(stratum, c.id, c.ticket, c.rank) for stratum, c in result.sample]
        draw_id = conn.execute(insert(Draw.__table__).values(
            frame_id=frame.id, matter_code=matter.code, period=period.label, seed=seed, seed_source=seed_source,
            algorithm=ALGORITHM_NAME, algorithm_version=ALGORITHM_VERSION, drawn_at=now,
            redraw_of=previous.id if previous is not None else None, reason=reason if redraw else None,
            n_selected=len(sample), sample_sha256=_sample_sha256(sample))).inserted_primary_key[0]
        n_redraws = conn.execute(select(func.count()).select_from(Draw).where(
            Draw.matter_code == matter.code, Draw.period == period.label)).scalar_one() - 1
        prefix = f"{matter.code}-{period.label}" + (f"-R{n_redraws}" if n_redraws else "")
        entity_ids: dict[str, int] = {}
        idents = [s[1] for s in sample]
        for i in range(0, len(idents), 2000):
            chunk = idents[i:i + 2000]
            entity_ids.update(conn.execute(select(Entity.identifier, Entity.id).where(Entity.identifier.in_(chunk))).all())
        tasks = [{"draw_id": draw_id, "task_no": f"{prefix}-{k:03d}", "entity_id": entity_ids[ident], "identifier": ident,
                  "stratum": stratum, "ticket": ticket, "rank": rank}
                 for k, (stratum, ident, ticket, rank) in enumerate(sample, start=1)]
        bulk_insert(conn, Task.__table__, tasks)
    return get_draw(engine, draw_id)


def get_draw(engine: Engine, draw_id: int, with_tasks: bool = True) -> DrawInfo:
    with engine.connect() as conn:
        d = conn.execute(select(Draw.__table__).where(Draw.id == draw_id)).first()
        if d is None:
            raise InspectError(f"no draw #{draw_id}")
        f = conn.execute(select(Frame.frame_sha256, Frame.strata).where(Frame.id == d.frame_id)).one()
        tasks = []
        if with_tasks:
            stmt = (select(Task.task_no, Task.stratum, Task.identifier, Entity.name, Entity.township, Task.ticket, Task.rank)
                    .join(Entity, Entity.id == Task.entity_id).where(Task.draw_id == draw_id).order_by(Task.id))
            tasks = [r._asdict() for r in conn.execute(stmt)]
    return DrawInfo(d.id, d.frame_id, d.matter_code, d.period, d.seed, d.seed_source, d.drawn_at, d.redraw_of, d.reason,
                    d.n_selected, f.frame_sha256, f.strata, tasks)


def list_draws(engine: Engine, period: str | None = None, matter: str | None = None) -> list[DrawInfo]:
    stmt = select(Draw.id).order_by(Draw.period, Draw.matter_code, Draw.id)
    if period:
        stmt = stmt.where(Draw.period == period)
    if matter:
        stmt = stmt.where(Draw.matter_code == matter)
    with engine.connect() as conn:
        ids = list(conn.execute(stmt).scalars())
    return [get_draw(engine, i, with_tasks=False) for i in ids]


def list_frames(engine: Engine, period: str | None = None, matter: str | None = None) -> list[FrameInfo]:
    stmt = select(Frame.id, Frame.matter_code, Frame.period, Frame.as_of, Frame.prepared_at, Frame.frame_sha256,
                  Frame.n_rows, Frame.strata, Frame.excluded).order_by(Frame.id)
    if period:
        stmt = stmt.where(Frame.period == period)
    if matter:
        stmt = stmt.where(Frame.matter_code == matter)
    with engine.connect() as conn:
        return [_frame_info(r) for r in conn.execute(stmt)]


# -- verification ------------------------------------------------------------------------------

def export_bundle(engine: Engine, draw_id: int) -> dict[str, Any]:
    """Everything needed to re-derive the draw without the database (see inspect_kit.draw.bundle)."""
    with engine.connect() as conn:
        d = conn.execute(select(Draw.__table__).where(Draw.id == draw_id)).first()
        if d is None:
            raise InspectError(f"no draw #{draw_id}")
        f = conn.execute(select(Frame.__table__).where(Frame.id == d.frame_id)).one()
        sample = [{"stratum": s, "identifier": i, "ticket": t, "rank": r} for s, i, t, r in conn.execute(
            select(Task.stratum, Task.identifier, Task.ticket, Task.rank).where(Task.draw_id == draw_id).order_by(Task.id))]
    rows = frame_rows_from_blob(f.frame_blob)
    strata = [{k: v for k, v in s.items() if k != "on_duty_inspectors"} for s in f.strata]
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
        "algorithm": {"name": d.algorithm, "version": d.algorithm_version},
        "seed": d.seed, "seed_source": d.seed_source, "matter": d.matter_code, "period": d.period,
        "frame": {"sha256": f.frame_sha256, "rows": [list(r) for r in rows]},
        "strata": strata, "sample": sample,
    }
    on_duty = {s.get("on_duty_inspectors") for s in f.strata} - {None}
    if on_duty:
        bundle["on_duty_inspectors"] = on_duty.pop()
    bundle["record"] = {"draw_id": d.id, "frame_id": f.id, "frame_prepared_at": f.prepared_at.isoformat(),
                        "drawn_at": d.drawn_at.isoformat(), "frame_as_of": f.as_of.isoformat(),
                        "redraw_of": d.redraw_of, "reason": d.reason, "excluded": f.excluded,
                        "matter_spec_sha256": f.matter_spec_sha256}
    return bundle


def verify_draw(engine: Engine, draw_id: int) -> VerifyReport:
    """Re-derive the draw from the database: frame hash, sizes, sample, tickets, and order of events."""
    bundle = export_bundle(engine, draw_id)
    report = verify_bundle(bundle)
    rec = bundle["record"]
    if rec["drawn_at"] < rec["frame_prepared_at"]:
        report.problems.append(f"the draw ({rec['drawn_at']}) predates its frame ({rec['frame_prepared_at']})")
        report.ok = False
    return report
