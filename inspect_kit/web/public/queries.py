"""What the public may read, as plain values: the library under the public pages (no web import).

Rules, in the queries (not in the templates):
- a draw is *sealed* while its commitment is sealed and no unsealing is recorded: its sample, its
  per-draw seed, its bundle and its tasks are not public (a task of a sealed draw is "not found"
  unless the visitor types the task's verification code, which only the notified entity holds);
- a finding is *published* once a results notice lists its task and not as pending; only then
  are its result categories and (masked) problems shown;
- a team is shown only to a visitor who typed the task's verification code (paper.codes, the code
  printed on the 检查通知书), and then only the officers' certificate numbers;
- wrong codes are throttled per address and per task in the login_attempts table
  (account ``task:<task number>``), so every worker of the server counts the same attempts;
- private registry columns are never selected (``public_select``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select

from inspect_kit.accounts.service import ThrottlePolicy, is_throttled, record_attempt
from inspect_kit.errors import InspectError
from inspect_kit.publish.guard import public_select
from inspect_kit.storage.models import (
    Commitment,
    Draw,
    Entity,
    Finding,
    Frame,
    Matter,
    Notice,
    ScoringRun,
    Task,
    Unit,
    Unsealing,
)

NOTICE_KINDS = {"draw": "抽查名单公示", "results": "抽查结果公示", "plan": "抽查计划", "score": "考评结果"}
RECENT_LOG = 50
SEARCH_LIMIT = 100


class NotPublic(InspectError):
    """The object does not exist or is not public (the page answers 404 either way)."""


# ---------------------------------------------------------------- shared look-ups


def _sealed_commitments(conn: Connection) -> set[int]:
    unsealed = select(Unsealing.commitment_id)
    stmt = select(Commitment.id).where(Commitment.sealed.is_(True), Commitment.id.not_in(unsealed))
    return set(conn.execute(stmt).scalars())


def _withheld_bundles(conn: Connection) -> set[int]:
    """Draws whose bundle is not public: sealed ones, and those whose bundle carries the sample of a
    sealed draw (annual coverage: the earlier samples of the year of the same matter)."""
    from inspect_kit.periods import parse_period

    sealed = _sealed_commitments(conn)
    rows = conn.execute(select(Draw.id, Draw.matter_code, Draw.period, Draw.commitment_id)).all()
    sealed_at = [(r.matter_code, parse_period(r.period)) for r in rows if r.commitment_id in sealed]
    out = set()
    for r in rows:
        p = parse_period(r.period)
        if r.commitment_id in sealed or any(m == r.matter_code and sp.year == p.year and sp < p for m, sp in sealed_at):
            out.add(r.id)
    return out


def _current_draws(conn: Connection) -> dict[tuple[str, str], int]:
    stmt = select(Draw.matter_code, Draw.period, func.max(Draw.id)).group_by(Draw.matter_code, Draw.period)
    return {(m, p): i for m, p, i in conn.execute(stmt)}


def _unit_names(conn: Connection) -> dict[str, str]:
    return {c: n for c, n in conn.execute(public_select(Unit.code, Unit.name)).all()}


def _matters(conn: Connection) -> dict[str, tuple[str, str, str]]:
    """matter code → (matter name, unit code, unit name)."""
    units = _unit_names(conn)
    return {
        code: (name, unit, units.get(unit, unit))
        for code, name, unit in conn.execute(public_select(Matter.code, Matter.name, Matter.unit_code)).all()
    }


def published_task_ids(conn: Connection) -> set[int]:
    """Tasks whose findings a results notice has published (listed, and not as pending)."""
    out: set[int] = set()
    for task_ids, pending in conn.execute(
        public_select(Notice.task_ids, Notice.pending_task_ids).where(Notice.kind == "results")
    ):
        out |= set(task_ids or []) - set(pending or [])
    return out


def _results_of(conn: Connection, task_ids: list[int], config: Any) -> dict[int, PublishedResult]:
    """The published findings of these tasks (problems masked as in the results notices)."""
    from inspect_kit.findings.stored import labels
    from inspect_kit.publish import privacy
    from inspect_kit.publish.build_results import codebook_of
    from inspect_kit.publish.guard import private_values

    wanted = sorted(set(task_ids) & published_task_ids(conn))
    if not wanted:
        return {}
    rows = conn.execute(
        public_select(Finding.task_id, Finding.results, Finding.problems, Finding.inspection_end).where(
            Finding.task_id.in_(wanted)
        )
    ).all()
    codebook = codebook_of(config)
    values = private_values(conn) if any(r.problems for r in rows) else None
    return {
        r.task_id: PublishedResult(
            labels(r.results or [], codebook.categories),
            privacy.mask(r.problems, values) if r.problems and values is not None else None,
            r.inspection_end,
        )
        for r in rows
    }


@dataclass(frozen=True)
class PublishedResult:
    results: list[str]
    problems: str | None
    inspected_on: dt.date


# ---------------------------------------------------------------- notices


@dataclass(frozen=True)
class PublicNotice:
    id: int
    kind: str
    kind_label: str
    period: str
    matters: list[str]
    file_name: str
    sha256: str
    pages: int
    issued_on: dt.date


def notices(engine: Engine) -> list[PublicNotice]:
    stmt = public_select(
        Notice.id, Notice.kind, Notice.period, Notice.matter_codes, Notice.path, Notice.file_sha256, Notice.pages
    ).add_columns(Notice.issued_on)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(Notice.issued_on.desc(), Notice.id.desc())).all()
    return [
        PublicNotice(r.id, r.kind, NOTICE_KINDS.get(r.kind, r.kind), r.period, list(r.matter_codes), Path(r.path).name,
                     r.file_sha256, r.pages, r.issued_on)
        for r in rows
    ]  # fmt: skip


def notice_file(engine: Engine, notice_id: int) -> tuple[str, bytes]:
    """(file name, bytes) of a notice's PDF; refused if the file is gone or no longer the one recorded."""
    import hashlib

    with engine.connect() as conn:
        row = conn.execute(public_select(Notice.path, Notice.file_sha256).where(Notice.id == notice_id)).first()
    if row is None:
        raise NotPublic(f"no notice #{notice_id}")
    path = Path(row.path)
    try:
        data = path.read_bytes()
    except OSError:
        raise NotPublic(f"notice #{notice_id}: its file is not on this server") from None
    if hashlib.sha256(data).hexdigest() != row.file_sha256:
        raise InspectError(f"notice #{notice_id}: the file on the server is not the one published (SHA-256 differs)")
    return path.name, data


# ---------------------------------------------------------------- draws


@dataclass(frozen=True)
class DrawSummary:
    matter: str
    matter_name: str
    unit_name: str
    period: str
    draw_id: int
    drawn_at: dt.datetime
    n_selected: int
    sealed: bool
    redraws: int
    bundle: bool  # its verification bundle is public


def draws(engine: Engine) -> list[DrawSummary]:
    """The current draw of every (matter, period), newest period first."""
    with engine.connect() as conn:
        current = _current_draws(conn)
        sealed = _sealed_commitments(conn)
        withheld = _withheld_bundles(conn)
        matters = _matters(conn)
        counts = dict(
            ((m, p), c)
            for m, p, c in conn.execute(
                select(Draw.matter_code, Draw.period, func.count()).group_by(Draw.matter_code, Draw.period)
            )
        )
        rows = conn.execute(
            public_select(Draw.id, Draw.matter_code, Draw.period, Draw.drawn_at, Draw.n_selected, Draw.commitment_id)
            .where(Draw.id.in_(list(current.values())))
        ).all()  # fmt: skip
    out = [
        DrawSummary(
            r.matter_code,
            matters.get(r.matter_code, (r.matter_code, "", ""))[0],
            matters.get(r.matter_code, ("", "", ""))[2],
            r.period,
            r.id,
            r.drawn_at,
            r.n_selected,
            r.commitment_id in sealed,
            counts[(r.matter_code, r.period)] - 1,
            r.id not in withheld,
        )
        for r in rows
    ]
    return sorted(out, key=lambda d: (d.period, d.matter), reverse=True)


@dataclass(frozen=True)
class StratumRow:
    stratum: str
    N: int
    quota: str
    n: int
    explanation: str


@dataclass(frozen=True)
class SampleRow:
    task_no: str
    identifier: str
    name: str
    stratum: str
    rank: int
    ticket: str


@dataclass(frozen=True)
class DrawRecord:
    draw_id: int
    drawn_at: dt.datetime
    redraw_of: int | None
    reason: str | None
    n_selected: int
    sample_sha256: str
    current: bool


@dataclass
class DrawPage:
    matter: str
    matter_name: str
    unit_name: str
    period: str
    draw_id: int
    sealed: bool
    unsealed_at: dt.datetime | None
    frame_sha256: str
    frame_rows: int
    frame_as_of: dt.date
    committed_at: dt.datetime | None
    commitment_sha256: str | None
    seed_source: dict[str, Any] | str
    seed_line: str
    public_seed: str | None
    derived_seed: str | None
    strata: list[StratumRow]
    sample: list[SampleRow]
    history: list[DrawRecord]
    bundle: bool
    excluded: dict[str, Any] = field(default_factory=dict)
    coordination: dict[str, Any] | None = None  # the commitment's (draw.core.coordination)

    @property
    def witnesses(self) -> list[str]:
        src = self.seed_source
        return list(src.get("witnesses") or []) if isinstance(src, dict) else []


def draw_page(engine: Engine, matter: str, period: str) -> DrawPage:
    with engine.connect() as conn:
        current = _current_draws(conn).get((matter, period))
        if current is None:
            raise NotPublic(f"no draw of {matter} {period}")
        d = conn.execute(public_select(Draw.__table__).where(Draw.id == current)).one()
        f = conn.execute(
            public_select(Frame.frame_sha256, Frame.n_rows, Frame.as_of, Frame.strata, Frame.excluded).where(
                Frame.id == d.frame_id
            )
        ).one()
        com = (
            conn.execute(public_select(Commitment.__table__).where(Commitment.id == d.commitment_id)).first()
            if d.commitment_id is not None
            else None
        )
        unsealed_at = (
            conn.execute(select(Unsealing.unsealed_at).where(Unsealing.commitment_id == com.id)).scalar()
            if com is not None
            else None
        )
        sealed = com is not None and bool(com.sealed) and unsealed_at is None
        sample: list[SampleRow] = []
        if not sealed:
            sample = [
                SampleRow(*r)
                for r in conn.execute(
                    public_select(Task.task_no, Task.identifier, Entity.name, Task.stratum, Task.rank, Task.ticket)
                    .join(Entity, Entity.id == Task.entity_id)
                    .where(Task.draw_id == d.id)
                    .order_by(Task.stratum, Task.rank)
                ).all()
            ]
        history = [
            DrawRecord(r.id, r.drawn_at, r.redraw_of, r.reason, r.n_selected, r.sample_sha256, r.id == d.id)
            for r in conn.execute(
                public_select(Draw.id, Draw.drawn_at, Draw.redraw_of, Draw.reason, Draw.n_selected, Draw.sample_sha256)
                .where(Draw.matter_code == matter, Draw.period == period)
                .order_by(Draw.id)
            )
        ]
        names = _matters(conn).get(matter, (matter, "", ""))
        bundle = d.id not in _withheld_bundles(conn)
    strata = [
        StratumRow(s["stratum"], s["N"], str(s.get("quota", "")), s["n"], s.get("explanation", "")) for s in f.strata
    ]
    source: dict[str, Any] | str = com.source if com is not None else d.seed_source
    return DrawPage(
        matter,
        names[0],
        names[2],
        period,
        d.id,
        sealed,
        unsealed_at,
        f.frame_sha256,
        f.n_rows,
        f.as_of,
        com.committed_at if com is not None else None,
        com.commitment_sha256 if com is not None else None,
        source,
        d.seed_source,
        d.seed,
        None if sealed else d.derived_seed,
        strata,
        sample,
        history,
        bundle,
        dict(f.excluded or {}),
        (com.coordination or None) if com is not None else None,
    )


def _public_draw(engine: Engine, matter: str, period: str) -> tuple[int, str]:
    """(draw id, log head) of the current draw of (matter, period); NotPublic while sealed."""
    from inspect_kit.transparency import store

    with engine.connect() as conn:
        current = _current_draws(conn).get((matter, period))
        if current is None:
            raise NotPublic(f"no draw of {matter} {period}")
        withheld = current in _withheld_bundles(conn)
        head = store.head_text(conn)
    if withheld:
        raise NotPublic(f"the bundle of {matter} {period} holds a sealed sample until its draw is unsealed")
    return current, head


def draw_bundle(engine: Engine, matter: str, period: str) -> dict[str, Any]:
    """The verification bundle of the current draw of (matter, period); NotPublic while sealed."""
    from inspect_kit.draw.service import export_bundle

    return export_bundle(engine, _public_draw(engine, matter, period)[0])


_BUNDLES: dict[tuple[str, int, str], bytes] = {}
_BUNDLES_KEPT = 32
_BUNDLES_LOCK = threading.Lock()


def draw_bundle_json(engine: Engine, matter: str, period: str) -> bytes:
    """`draw_bundle` as the served JSON (UTF-8, indent 1), kept for the same draw and log head:
    everything a bundle holds is in the transparency log, so a new log entry is the only thing
    that can change it (a re-draw, an unsealing, and the log segment it carries). After a notice,
    many citizens fetch the same few bundles; each export reads and re-hashes a whole frame."""
    from inspect_kit.draw.service import export_bundle

    draw_id, head = _public_draw(engine, matter, period)
    key = (engine.url.render_as_string(hide_password=True), draw_id, head)
    with _BUNDLES_LOCK:
        kept = _BUNDLES.get(key)
    if kept is not None:
        return kept
    body = json.dumps(export_bundle(engine, draw_id), ensure_ascii=False, indent=1).encode("utf-8")
    with _BUNDLES_LOCK:
        while len(_BUNDLES) >= _BUNDLES_KEPT:
            _BUNDLES.pop(next(iter(_BUNDLES)))
        _BUNDLES[key] = body
    return body


# ---------------------------------------------------------------- transparency log


@dataclass(frozen=True)
class LogView:
    head: str
    size: int
    entries: list[Any]  # transparency.chain.Entry, newest first


def log_view(engine: Engine, recent: int = RECENT_LOG) -> LogView:
    from inspect_kit.transparency import store

    with engine.connect() as conn:
        h = store.head(conn)
        if h is None:
            return LogView("", 0, [])
        entries = store.entries(conn, first=max(1, h.seq - recent + 1))
    return LogView(h.head, h.seq, list(reversed(entries)))


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ScoreRow:
    group: str
    rank: int
    unit: str
    name: str
    total: str
    grade: str


@dataclass(frozen=True)
class ScoreResults:
    year: int
    rulebook: str
    version: str
    issued_on: dt.date
    rows: list[ScoreRow]


def score_results(engine: Engine) -> list[ScoreResults]:
    """Each year's scoring as its published report (a "score" notice) shows it: the latest run
    made no later than the notice."""
    out: list[ScoreResults] = []
    with engine.connect() as conn:
        for period, created_at, issued_on in conn.execute(
            public_select(Notice.period, Notice.created_at, Notice.issued_on)
            .where(Notice.kind == "score")
            .order_by(Notice.period.desc(), Notice.id.desc())
        ).all():
            year = int(period[:4])
            results = conn.execute(
                public_select(ScoringRun.results)
                .where(ScoringRun.year == year, ScoringRun.created_at <= created_at)
                .order_by(ScoringRun.id.desc())
                .limit(1)
            ).scalar()
            if results is None or any(s.year == year for s in out):
                continue
            rows = [
                ScoreRow(u.get("group", ""), u.get("rank", 0), u["code"], u["name"], u["total"], u["grade"])
                for u in results.get("units", [])
            ]
            out.append(
                ScoreResults(
                    year, results.get("rulebook_name", ""), results.get("rulebook_version", ""), issued_on, rows
                )
            )
    return out


# ---------------------------------------------------------------- search and tasks


@dataclass(frozen=True)
class PublicTask:
    task_no: str
    identifier: str
    entity_name: str
    matter: str
    matter_name: str
    unit_name: str
    period: str
    draw_id: int
    drawn_at: dt.datetime
    current: bool  # False: its draw was superseded by a re-draw (not inspected)
    stratum: str
    rank: int
    ticket: str
    result: PublishedResult | None


def _task_select() -> Any:
    return public_select(
        Task.id,
        Task.task_no,
        Task.identifier,
        Entity.name,
        Draw.matter_code,
        Draw.period,
        Draw.id.label("draw_id"),
        Draw.drawn_at,
        Draw.commitment_id,
        Task.stratum,
        Task.rank,
        Task.ticket,
    ).select_from(
        Task.__table__.join(Entity.__table__, Entity.id == Task.entity_id).join(Draw.__table__, Draw.id == Task.draw_id)
    )


def _public_tasks(conn: Connection, rows: Sequence[Any], config: Any, *, sealed_ok: bool = False) -> list[PublicTask]:
    sealed = _sealed_commitments(conn)
    current = set(_current_draws(conn).values())
    matters = _matters(conn)
    rows = [r for r in rows if sealed_ok or r.commitment_id not in sealed]
    results = _results_of(conn, [r.id for r in rows], config)
    out = []
    for r in rows:
        names = matters.get(r.matter_code, (r.matter_code, "", ""))
        out.append(
            PublicTask(
                r.task_no, r.identifier, r.name, r.matter_code, names[0], names[2], r.period, r.draw_id, r.drawn_at,
                r.draw_id in current, r.stratum, r.rank, r.ticket, results.get(r.id),
            )
        )  # fmt: skip
    return out


def search(engine: Engine, config: Any, q: str) -> list[PublicTask]:
    """Tasks of entities whose name contains ``q`` or whose identifier (统一社会信用代码) is ``q``,
    newest first; tasks of sealed draws are left out."""
    from inspect_kit.text import to_halfwidth

    q = to_halfwidth(q).strip()
    if len(q) < 2:
        return []
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (
        _task_select()
        .where(or_(Entity.name.like(like, escape="\\"), Task.identifier == q.upper()))
        .order_by(Draw.drawn_at.desc(), Task.task_no)
        .limit(SEARCH_LIMIT)
    )
    with engine.connect() as conn:
        return _public_tasks(conn, conn.execute(stmt).all(), config)


@dataclass(frozen=True)
class TaskPage:
    task: PublicTask
    cutoff: str  # the largest ticket drawn in its stratum: every drawn ticket is at most this
    stratum_N: int
    stratum_n: int
    team: list[str] | None = None  # officers' certificate numbers, with the right code only


def task_page(engine: Engine, config: Any, task_no: str, *, code_ok: bool = False) -> TaskPage:
    """A task's public page; NotPublic if there is no such task, or its draw is sealed and the
    visitor has not typed the code."""
    with engine.connect() as conn:
        rows = conn.execute(_task_select().where(Task.task_no == task_no)).all()
        tasks = _public_tasks(conn, rows, config, sealed_ok=code_ok)
        if not tasks:
            raise NotPublic(f"no public task {task_no!r}")
        t = tasks[0]
        cutoff = conn.execute(
            select(func.max(Task.ticket)).where(Task.draw_id == t.draw_id, Task.stratum == t.stratum)
        ).scalar_one()
        strata = conn.execute(
            select(Frame.strata).join(Draw, Draw.frame_id == Frame.id).where(Draw.id == t.draw_id)
        ).scalar_one()
    s = next((x for x in strata if x["stratum"] == t.stratum), {"N": 0, "n": 0})
    team = _team_certs(engine, t) if code_ok else None
    return TaskPage(t, cutoff, s["N"], s["n"], team)


def _team_certs(engine: Engine, t: PublicTask) -> list[str]:
    """The certificate numbers of the officers of the task's current team (no names, no phones)."""
    from inspect_kit.assign.service import current_assignments

    for a in current_assignments(engine, t.period, t.matter):
        for team in a.teams:
            if team.task_no == t.task_no:
                return [m.cert_no for m in team.officers]
    return []


# ---------------------------------------------------------------- the verification code


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    throttled: bool = False


def normalise_code(code: str) -> str:
    """As typed: case, blanks and hyphens ignored; Crockford's look-alikes (O→0, I/L→1) read as meant."""
    from inspect_kit.text import to_halfwidth

    text = "".join(ch for ch in to_halfwidth(code).upper() if ch.isalnum())
    return text.translate(str.maketrans("OIL", "011"))


def check_code(
    engine: Engine,
    config: Any,
    task_no: str,
    code: str,
    address: str,
    now: dt.datetime,
    throttle: ThrottlePolicy = ThrottlePolicy(),
) -> CodeCheck:
    """Is ``code`` the task's verification code (paper.codes)? Every attempt is recorded; after
    ``throttle.per_account`` wrong codes for the task, or ``per_address`` failures from the
    address, within ``throttle.window``, every attempt is refused (also a right one)."""
    from inspect_kit.paper import codes
    from inspect_kit.paper.service import verification_secret

    account = f"task:{task_no}"
    with engine.connect() as conn:
        throttled = is_throttled(conn, account, address, now, throttle)
        exists = conn.execute(select(Task.id).where(Task.task_no == task_no)).first() is not None
    expected = normalise_code(codes.verification_code(verification_secret(config), task_no))
    ok = exists and not throttled and hmac.compare_digest(normalise_code(code).encode(), expected.encode())
    with engine.begin() as conn:
        record_attempt(conn, account, address, now, ok)
    return CodeCheck(ok, throttled)


def declared_public(engine: Engine) -> list[str]:
    """Values published on purpose that the registries may also hold: the witnesses named in the
    draws' seed sources (privacy.declared_public) and the salts of unsealed draws (secret in
    seal_salts until the unsealing publishes them; a bundle of an unsealed draw holds its salt)."""
    from inspect_kit.publish import privacy

    with engine.connect() as conn:
        sources = [s for (s,) in conn.execute(public_select(Commitment.source))]
        salts = [s for (s,) in conn.execute(public_select(Unsealing.salt))]
    return privacy.declared_public([("sources.json", json.dumps(sources, ensure_ascii=False).encode())]) + salts


# ---------------------------------------------------------------- burden (频次上限) in aggregate


@dataclass(frozen=True)
class BurdenView:
    year: int
    summary: dict[str, Any]  # caps.Burden.public_summary(): aggregates only, no entity
    caps: list[tuple[str, str]]  # (what, limit) as configured
    unit_names: dict[str, str]
    joint_visits: dict[str, int]  # period → joint visits (综合查一次)
    sealed_left_out: int  # sealed draws not unsealed yet: not counted here


def burden_years(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted({int(p[:4]) for (p,) in conn.execute(select(Draw.period).distinct())}, reverse=True)


def burden_view(engine: Engine, config: Any, year: int) -> BurdenView:
    """How often entities were inspected in ``year``, in aggregate: the distribution, the totals by
    unit, how many are at or near their cap, the joint visits; sealed draws count once unsealed."""
    from inspect_kit.draw.store.caps import burden_summary
    from inspect_kit.storage.models import JointVisit, JointVisitTask

    if year not in burden_years(engine):
        raise NotPublic(f"no draw in {year}")
    summary = burden_summary(engine, config, year, public=True).public_summary()
    b = config.settings.burden
    caps: list[tuple[str, str]] = []
    if b is not None:
        caps += [("每户全年合计", f"{b.total}次")] if b.total is not None else []
        caps += [(f"{level}部门合计", f"{n}次") for level, n in b.per_level.items()]
        caps += [(f"类别：{c}", f"{n}次") for c, n in b.per_category.items()]
        caps += [(f"信用等级：{k}", f"{n}次") for k, n in b.per_credit_class.items()]
        caps += [("不计入上限的事项", "、".join(b.outside_cap))] if b.outside_cap else []
    with engine.connect() as conn:
        units = _unit_names(conn)
        sealed = _sealed_commitments(conn)
        secret = (  # a visit with a task of a sealed draw would tell that draw's sample apart
            select(JointVisitTask.joint_visit_id)
            .join(Task, Task.id == JointVisitTask.task_id)
            .join(Draw, Draw.id == Task.draw_id)
            .where(Draw.commitment_id.in_(sorted(sealed) or [-1]))
        )
        visits = conn.execute(
            select(JointVisit.period, func.count())
            .where(JointVisit.period.like(f"{year}%"), JointVisit.id.not_in(secret))
            .group_by(JointVisit.period)
        ).all()
        left_out = conn.execute(
            select(func.count())
            .select_from(Draw)
            .where(Draw.period.like(f"{year}%"), Draw.commitment_id.in_(sorted(sealed) or [-1]))
        ).scalar_one()
    return BurdenView(year, summary, caps, units, dict(sorted(visits)), left_out)
