"""Public notices against the database: read the draws, tasks and findings of a period, build
the notice (inspect_kit.publish.notices), render it, write it, and record it in `notices`.

Library first: every function takes an Engine, the Config and plain values (period, issue date,
output path, the caller's clock `now`) and returns a dataclass; the CLI is a thin shell.

One notice per issuing unit. A notice is issued by one authority (发文机关): the unit of its
matters (`matter.unit` in matters.toml; its `issuer` in units.toml, else its name). When the
draws of a period belong to several units, pass `unit=` (or `--unit`), or, in the CLI, give a
folder as `-o` to write one notice per unit; `notice_units` lists them. A joint matter
(部门联合, several departments in `team`) is published by its lead unit and names every
department as 检查实施机关.

Personal data never reaches a notice: every query goes through `public_select`, which refuses
any column marked ``info={"private": True}`` (phone, legal representative ...); free text is
scrubbed by `notices.scrub`; identifiers that are resident ID numbers are refused. Then the
registries' own private values (`private_values`: every private column, plus officers' names)
are masked in every string the notice prints (`privacy.mask_notice`), and the rendered bytes —
page text, metadata and every embedded file — pass the one public-output guard
(`privacy.check_public`) in `record_pdf`, which every public PDF (notices, the score report) goes
through: a private value left anywhere refuses the file, and nothing is written.

Files on disk and records agree. `record_pdf` never overwrites an existing file unless `force`
(then the new row for the same path is a re-issue: `notices` is append-only, the latest row of a
path is the one its file must match), and never a file that is not a PDF. Order of the steps:
write a temporary file beside the target (fsync); then, for a new file, put it in place without
replacing anything (a hard link: atomic, and two publishers cannot both win) and record it — a
crash in between leaves a PDF with no record; for a forced re-issue, record it and then replace
the file — a crash in between leaves a record whose file does not match. `check_files`
(`inspect publish check`) reports both (STRAY, MODIFIED), a record without its file (MISSING), and
a temporary file left by a crash (UNFINISHED).

Deterministic: the same database state, issue date and fonts give byte-identical files (the
PDF creation date is the issue date unless `creation_date` is given). Every file written is
recorded (append-only) with its SHA-256, page count, matters, tasks and pending tasks, so that
publicity on time can be scored later; `inspect_kit.findings.service.published_on` reads it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, Select, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import TableClause

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.findings.codes import Codebook, CodeList
from inspect_kit.findings.service import policy_from_config
from inspect_kit.publish import notices as nt
from inspect_kit.publish.fonts import FontConfig
from inspect_kit.publish import privacy
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import Draw, Entity, Finding, Frame, Task, Unsealing
from inspect_kit.storage.models import Notice as NoticeRow
from inspect_kit.storage.models.base import Base
from inspect_kit.transparency.store import append_pending
from inspect_kit.transparency import store as log_store
from inspect_kit.transparency.store import head_text as log_head_text

__all__ = [
    "BuiltNotice", "FileCheck", "NoticeRecord", "PrivateColumnError", "PublishedNotice",
    "build_draw_notice", "bundle_bytes", "build_results_notice", "check_files", "check_target", "fonts_from_config",
    "guard_public", "list_notices", "notice_units", "private_values", "private_value_warnings", "public_select", "publish_draw",
    "publish_results",
]

# The free text of a finding that a results notice prints: field → its column in the template.
PUBLISHED_FINDING_TEXT = {"problems": "问题描述"}

_CHUNK = 1000


# -- the privacy guard --------------------------------------------------------------------------------


class PrivateColumnError(AssertionError):
    """A query for a public notice asked for a private column: a programming error, never allowed."""


def _columns(item: Any) -> list[Column]:
    if isinstance(item, type) and issubclass(item, Base):
        return list(sa_inspect(item).columns)
    if isinstance(item, TableClause):
        return list(item.columns)
    element = item.__clause_element__() if hasattr(item, "__clause_element__") else item
    return [c for c in visitors.iterate(element) if isinstance(c, Column)]


def public_select(*items: Any) -> Select:
    """``select(*items)``, refusing any column (also inside an expression, or of a whole table or
    model) whose ``info`` marks it private. Every query of this module is built with it."""
    for item in items:
        private = [f"{c.table.name}.{c.name}" for c in _columns(item) if c.info.get("private")]
        if private:
            raise PrivateColumnError(f"public notices must never read private columns: {', '.join(private)}")
    return select(*items)


def private_values(bind: Engine | Connection) -> privacy.PrivateValues:
    """The registries' private values to mask and to refuse in public output: every column marked
    private in storage/models (legal representatives, phones ...) and officers' names, with the
    kind of each (`privacy.KINDS`). Reads private columns on purpose: they are only compared."""
    from inspect_kit.storage.models import Inspector

    wanted = [(t, c) for t in Base.metadata.sorted_tables for c in t.columns if c.info.get("private")]
    wanted.append((Inspector.__table__, Inspector.__table__.c.name))

    def read(conn: Connection) -> list[tuple[str | None, str]]:
        pairs = []
        for table, column in wanted:
            kind = privacy.KINDS.get((table.name, column.name), f"a private value ({table.name}.{column.name})")
            pairs += [(v, kind) for (v,) in conn.execute(select(column).where(column.is_not(None)).distinct())]
        return pairs

    if isinstance(bind, Connection):
        return privacy.PrivateValues.of(read(bind))
    with bind.connect() as conn:
        return privacy.PrivateValues.of(read(conn))


def guard_public(engine: Engine, artefact: str, content: bytes | str, kind: str,
                 public: Sequence[str] = ()) -> None:
    """The public-output guard against this database's private values: every public artefact —
    PDF, attachment, exported JSON/CSV, and later web pages — passes it before it is written.
    Raises InspectError naming ``artefact`` and the kind of value (see `privacy.check_public`).
    ``public``: phrases published on purpose (a draw's witnesses, `privacy.declared_public`)."""
    privacy.check_public(artefact, content, kind, private_values(engine).allowing(public))


def private_value_warnings(engine: Engine, outcomes: Iterable[Any]) -> list[str]:
    """Warnings for findings just written (`findings.service.RowOutcome`s) whose published free text
    quotes a private value: one line per task, field and kind, naming the file, row and column of an
    import. Only changed text is looked at (re-importing a file warns no more)."""
    texts = [(o, label, o.changes[key][1]) for o in outcomes for key, label in PUBLISHED_FINDING_TEXT.items()
             if key in (o.changes or {}) and o.changes[key][1]]
    if not texts:
        return []
    values = private_values(engine)
    lines = []
    for o, label, text in texts:
        where = o.task_no + (f" ({o.file}, row {o.row}, column {label})" if o.row is not None else "")
        lines += [f"warning: {where}: {label} mentions {kind}; it will be masked in public notices"
                  for kind in privacy.mentions(text, values)]
    return lines


# -- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedNotice:
    """A notice written to ``path`` and recorded as notices row ``notice_id``."""

    notice_id: int
    kind: str  # draw | results
    period: str
    unit: str
    issuer: str
    path: Path
    sha256: str
    pages: int
    size: int
    issued_on: dt.date
    matter_codes: list[str]
    task_ids: list[int]
    pending_task_ids: list[int]
    files: list[str]  # names of the embedded files (draw bundles)
    pending_task_nos: list[str] = dataclasses.field(default_factory=list)
    reissue_of: int | None = None  # the notice recorded before at the same path (published with force)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(path=str(self.path), issued_on=self.issued_on.isoformat())
        return d

    def line(self) -> str:
        tasks = f"{len(self.task_ids)} tasks" + (f", {len(self.pending_task_ids)} pending (待录入)"
                                                 if self.pending_task_ids else "")
        files = f"; embedded {', '.join(self.files)}" if self.files else ""
        return (f"wrote {self.path}: {self.kind} notice of {self.period} by {self.issuer}, {self.pages} pages, "
                f"{', '.join(self.matter_codes)} ({tasks}){files}; sha256 {self.sha256}; notice #{self.notice_id}"
                + (f" (re-issue of notice #{self.reissue_of})" if self.reissue_of else ""))


@dataclass(frozen=True)
class NoticeRecord:
    """One row of `notices`, as listed."""

    id: int
    kind: str
    period: str
    matter_codes: list[str]
    task_ids: list[int]
    pending_task_ids: list[int]
    path: str
    file_sha256: str
    pages: int
    issued_on: dt.date
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(issued_on=self.issued_on.isoformat(), created_at=self.created_at.isoformat(),
                 tasks=len(self.task_ids), pending=len(self.pending_task_ids))
        return d


# -- config: fonts, matters, units --------------------------------------------------------------------


def fonts_from_config(config: Config) -> FontConfig:
    """The FontConfig of settings.publish (None: the shipped free fonts). A relative path is looked
    up in the config folder first, then taken as given (relative to the working directory)."""
    p = config.settings.publish

    def where(value: str | None) -> str | None:
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute() and (config.folder / path).exists():
            return str(config.folder / path)
        return str(path)

    return FontConfig(title=where(p.title_font), body=where(p.body_font), heading=where(p.heading_font),
                      fallback=where(p.fallback_font))


def _issuer(config: Config, unit_code: str) -> str:
    unit = config.unit(unit_code)
    return unit.issuer or unit.name


@dataclass(frozen=True)
class _MatterInfo:
    code: str
    name: str
    unit: str
    legal_basis: str
    method: str
    team: tuple[str, ...]  # departments of a joint matter, lead first


def _matter_info(config: Config, code: str, spec: dict | None) -> _MatterInfo:
    """The matter as it was drawn (the frame's stored spec), else as configured now."""
    if not spec:
        spec = config.matter(code).model_dump(mode="json")
    unit = spec["unit"]
    team = [unit] + [d for d in (spec.get("team") or {}) if d != unit]
    return _MatterInfo(code, spec["name"], unit, spec.get("legal_basis", ""), spec.get("method", "现场检查"),
                       tuple(team) if len(spec.get("team") or {}) > 1 else (unit,))


def _authority(config: Config, m: _MatterInfo) -> str:
    names = [_issuer(config, u) for u in m.team]
    return names[0] if len(names) == 1 else "、".join(names) + "（联合检查）"


# -- reading the database -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _CurrentDraw:
    draw_id: int
    frame_id: int
    matter: _MatterInfo


def _current_draws(conn: Connection, config: Config, period: str, matters: Sequence[str] | None) -> list[_CurrentDraw]:
    """The latest draw of every (matter, period), in matters.toml order (then by code)."""
    stmt = public_select(Draw.matter_code, func.max(Draw.id)).where(Draw.period == period).group_by(Draw.matter_code)
    if matters:
        stmt = stmt.where(Draw.matter_code.in_(list(matters)))
    latest = dict(conn.execute(stmt).all())
    if matters:
        unknown = sorted(set(matters) - set(latest))
        if unknown:
            raise InspectError(f"no draw of {', '.join(unknown)} for {period}")
    if not latest:
        return []
    frames = dict(conn.execute(public_select(Draw.id, Draw.frame_id).where(Draw.id.in_(list(latest.values())))).all())
    specs = dict(conn.execute(public_select(Frame.id, Frame.matter_spec).where(Frame.id.in_(list(frames.values())))).all())
    order = {m.code: i for i, m in enumerate(config.matters)}
    out = [_CurrentDraw(i, frames[i], _matter_info(config, code, specs.get(frames[i])))
           for code, i in latest.items()]
    return sorted(out, key=lambda d: (order.get(d.matter.code, len(order)), d.matter.code))


def _select_unit(config: Config, draws: list[_CurrentDraw], period: str, unit: str | None) -> tuple[str, list[_CurrentDraw]]:
    if unit is not None:
        config.unit(unit)  # an unknown unit is an error, not an empty notice
        chosen = [d for d in draws if d.matter.unit == unit]
        if not chosen:
            raise InspectError(f"unit {unit} has no draws for {period}")
        return unit, chosen
    units = _unit_order(config, {d.matter.unit for d in draws})
    if not units:
        raise InspectError(f"no draws for {period}: draw first (`inspect draw run --period {period} ...`)")
    if len(units) > 1:
        raise InspectError(f"the draws of {period} belong to {len(units)} units ({', '.join(units)}); a notice has "
                           "one issuing authority: pass --unit CODE, or -o a folder to write one notice per unit")
    return units[0], draws


def _unit_order(config: Config, codes: Iterable[str]) -> list[str]:
    order = {u.code: i for i, u in enumerate(config.units)}
    return sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))


def notice_units(engine: Engine, config: Config, period: Period | str, matters: Sequence[str] | None = None) -> list[str]:
    """Codes of the units whose matters have draws in ``period`` (units.toml order): one notice each."""
    label = _label(period)
    with engine.connect() as conn:
        draws = _current_draws(conn, config, label, matters)
    return _unit_order(config, {d.matter.unit for d in draws})


def _label(period: Period | str) -> str:
    return (parse_period(period) if isinstance(period, str) else period).label


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _check_identifiers(identifiers: Iterable[str], where: str) -> None:
    """A registry using resident ID numbers as identifiers would publish them: refuse."""
    from inspect_kit.registry.uscc import is_valid

    bad = [i for i in identifiers if nt.looks_like_resident_id(i) and not is_valid(i)]
    if bad:
        raise InspectError(f"{len(bad)} identifier(s) in {where} look like resident ID-card numbers (e.g. "
                           f"{bad[0][:6]}…): a public notice cannot publish them; give these entities another identifier")


def _scrubbed_bundle(bundle: dict[str, Any], private: privacy.PrivateValues | None = None) -> dict[str, Any]:
    """The bundle with its free text scrubbed (a version-1 seed source, the re-draw reason; the
    registries' private values masked too when given); the checks that read them (the commitment
    code, the log) cover the record as stored, so a bundle whose text had to be scrubbed says so."""
    out = dict(bundle)
    if isinstance(bundle.get("seed_source"), str):
        out["seed_source"] = nt.scrub(bundle["seed_source"], private) or bundle["seed_source"]
    if isinstance(bundle.get("record"), dict) and bundle["record"].get("reason"):
        out["record"] = {**bundle["record"], "reason": nt.scrub(bundle["record"]["reason"], private)}
    return out


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The bundle as embedded: UTF-8 JSON as `inspect draw` exports it (indent 1, the bundle's key order)."""
    return (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _draw_record(conn: Connection, engine: Engine, config: Config, d: _CurrentDraw, period: str,
                 issue_date: dt.date) -> tuple[nt.DrawRecord, bytes | None, list[int]]:
    """What the notice prints about a draw, its bundle's bytes (None while sealed) and its task ids.

    A sealed draw is public only if it was unsealed on or before the issue date."""
    from inspect_kit.draw.export import export_bundle
    from inspect_kit.draw.seeds import SeedSource

    row = conn.execute(public_select(Draw.seed, Draw.seed_source, Draw.algorithm, Draw.algorithm_version, Draw.drawn_at)
                       .where(Draw.id == d.draw_id)).one()
    frame = conn.execute(public_select(Frame.frame_sha256, Frame.n_rows, Frame.prepared_at, Frame.as_of, Frame.strata,
                                       Frame.excluded).where(Frame.id == d.frame_id)).one()
    steps = [nt.DrawStep(s.id, s.drawn_at, s.seed, s.seed_source, s.frame_sha256, s.n_selected, s.reason)
             for s in conn.execute(public_select(Draw.id, Draw.drawn_at, Draw.seed, Draw.seed_source, Frame.frame_sha256,
                                                 Draw.n_selected, Draw.reason)
                                   .join(Frame, Frame.id == Draw.frame_id)
                                   .where(Draw.matter_code == d.matter.code, Draw.period == period)
                                   .order_by(Draw.id))]
    full = export_bundle(engine, d.draw_id, include_secret=True)
    commitment = full.get("commitment")
    unsealed_on = conn.execute(public_select(Unsealing.unsealed_at).join(Draw, Draw.commitment_id == Unsealing.commitment_id)
                               .where(Draw.id == d.draw_id)).scalar()
    hidden = bool(commitment and commitment.get("sealed")) and (unsealed_on is None or unsealed_on.date() > issue_date)
    tasks = [] if hidden else conn.execute(
        public_select(Task.id, Task.task_no, Task.identifier, Task.stratum, Task.rank, Entity.name, Entity.township,
                      Entity.category).join(Entity, Entity.id == Task.entity_id).where(Task.draw_id == d.draw_id)
        .order_by(Task.stratum, Task.rank, Task.id)).all()
    entities = [nt.DrawEntity(t.task_no, t.identifier, t.name, t.township, t.stratum, t.rank, t.category) for t in tasks]
    bundle = None if hidden else _scrubbed_bundle(full, private_values(conn))
    if bundle is not None:
        _check_identifiers((r[0] for r in bundle["frame"]["rows"]), f"the frame of {d.matter.code} {period}")
    on_duty = {s.get("on_duty_inspectors") for s in frame.strata} - {None}
    source_text = None
    if commitment is not None:
        source_text = SeedSource.from_dict(commitment["source"]).describe_zh()
    record = nt.DrawRecord(
        matter_code=d.matter.code, matter_name=d.matter.name, period=period, authority=_authority(config, d.matter),
        legal_basis=d.matter.legal_basis, method=d.matter.method, algorithm=row.algorithm,
        algorithm_version=row.algorithm_version, seed="" if hidden else full["seed"], seed_source=row.seed_source,
        frame_sha256=frame.frame_sha256, frame_rows=frame.n_rows, frame_prepared_at=frame.prepared_at,
        frame_as_of=frame.as_of, drawn_at=row.drawn_at, strata=full["strata"], entities=entities,
        bundle_name=nt.bundle_file_name(d.matter.code, period), excluded=frame.excluded or {}, history=steps,
        on_duty_inspectors=on_duty.pop() if len(on_duty) == 1 else None, commitment=commitment,
        public_seed=row.seed, source_text=source_text, frames=full.get("frames_of_period", []), sealed_hidden=hidden)
    return record, None if bundle is None else bundle_bytes(bundle), [t.id for t in tasks]


@dataclass(frozen=True)
class BuiltNotice:
    notice: Any  # publish.Notice with its files
    unit: str
    issuer: str
    period: str
    matter_codes: list[str]
    task_ids: list[int]
    pending_task_ids: list[int]
    pending_task_nos: list[str]


def build_draw_notice(engine: Engine, config: Config, period: Period | str, *, issue_date: dt.date,
                      unit: str | None = None, matters: Sequence[str] | None = None,
                      doc_number: str | None = None) -> BuiltNotice:
    """The drawn-list Notice (with the bundles as files) and what its record will say; writes nothing."""
    label = _label(period)
    with engine.connect() as conn:
        unit, draws = _select_unit(config, _current_draws(conn, config, label, matters), label, unit)
        built = [_draw_record(conn, engine, config, d, label, issue_date) for d in draws]
        head = log_head_text(conn)
    records = [b[0] for b in built]
    last = max(r.drawn_at for r in records)
    if issue_date < last.date():
        raise InspectError(f"the issue date {issue_date} is before the draw ({last:%Y-%m-%d %H:%M}): "
                           "a drawn list is published on or after the day of the draw")
    issuer = _issuer(config, unit)
    notice = nt.draw_notice(issuer, parse_period(label), records, issue_date,
                            id_scheme=config.settings.registry.id_scheme, doc_number=doc_number, log_head=head)
    notice = dataclasses.replace(notice, files=[(r.bundle_name, data) for r, (_, data, _) in zip(records, built)
                                                if data is not None])
    return BuiltNotice(notice, unit, issuer, label, [r.matter_code for r in records],
                  [i for _, _, ids in built for i in ids], [], [])


def _codebook(config: Config) -> Codebook:
    return policy_from_config(config).codebook


def _labels(code_list: CodeList[Any], codes: Sequence[str]) -> list[str]:
    out = []
    for code in codes or []:
        item = code_list.get(code)
        out.append(item.label if item is not None else str(code))
    return out


def _still_sealed(conn: Connection, draw_id: int, on: dt.date) -> bool:
    """Whether the draw is sealed and not unsealed on or before ``on``."""
    from inspect_kit.storage.models import Commitment

    row = conn.execute(public_select(Commitment.sealed, Unsealing.unsealed_at)
                       .join(Draw, Draw.commitment_id == Commitment.id)
                       .outerjoin(Unsealing, Unsealing.commitment_id == Commitment.id)
                       .where(Draw.id == draw_id)).first()
    return bool(row and row.sealed and (row.unsealed_at is None or row.unsealed_at.date() > on))


def build_results_notice(engine: Engine, config: Config, period: Period | str, *, issue_date: dt.date,
                         unit: str | None = None, matters: Sequence[str] | None = None,
                         allow_incomplete: bool = False, codebook: Any = None,
                         doc_number: str | None = None) -> BuiltNotice:
    """The results Notice and what its record will say; writes nothing.

    Refuses (InspectError) while a task has no finding, unless ``allow_incomplete`` — then those
    tasks print as 待录入 and are recorded as pending. Refuses a finding whose inspection ends after
    the issue date. "Rectified" counts rectification orders declared closed and re-checked (if a
    re-check date is given) on or before the issue date.
    """
    label = _label(period)
    codebook = codebook or _codebook(config)
    with engine.connect() as conn:
        unit, draws = _select_unit(config, _current_draws(conn, config, label, matters), label, unit)
        by_draw: dict[int, list] = {d.draw_id: [] for d in draws}
        for t in conn.execute(public_select(Task.id, Task.draw_id, Task.task_no, Task.identifier, Entity.name,
                                            Entity.category, Task.stratum)
                              .join(Entity, Entity.id == Task.entity_id)
                              .where(Task.draw_id.in_(list(by_draw))).order_by(Task.task_no, Task.id)):
            by_draw[t.draw_id].append(t)
        sealed = [d.matter.code for d in draws if _still_sealed(conn, d.draw_id, issue_date)]
        if sealed:
            raise InspectError(f"the draw of {', '.join(sealed)} for {label} is sealed (保密抽查): unseal it first "
                               "(`inspect draw unseal`), after the inspections, then publish its results")
        head = log_head_text(conn)
        frame_strata = dict(conn.execute(public_select(Frame.id, Frame.strata)
                                         .where(Frame.id.in_([d.frame_id for d in draws]))).all()) if draws else {}
        ids = [t.id for ts in by_draw.values() for t in ts]
        relied = [("draw", d.draw_id) for d in draws] + log_store.latest_revisions(conn, ids)
        log_bytes = bundle_bytes(log_store.excerpt(conn, relied))
        findings: dict[int, Any] = {}
        for part in _chunks(ids):
            for row in conn.execute(public_select(
                    Finding.task_id, Finding.inspection_start, Finding.inspection_end, Finding.results, Finding.problems,
                    Finding.follow_ups, Finding.rectification_deadline, Finding.rectification_status,
                    Finding.recheck_date).where(Finding.task_id.in_(list(part)))):
                findings[row.task_id] = row
    pending_nos = [t.task_no for d in draws for t in by_draw[d.draw_id] if t.id not in findings]
    if pending_nos and not allow_incomplete:
        shown = ", ".join(pending_nos[:10]) + (f" … ({len(pending_nos) - 10} more)" if len(pending_nos) > 10 else "")
        raise InspectError(f"{len(pending_nos)} of {len(ids)} tasks of {label} have no finding yet ({shown}): record "
                           "them first, or pass --allow-incomplete to publish the others and list these as 待录入")
    late = sorted(t.task_no for ts in by_draw.values() for t in ts
                  if t.id in findings and findings[t.id].inspection_end > issue_date)
    if late:
        raise InspectError(f"the issue date {issue_date} is before the end of the inspection of {', '.join(late[:10])}"
                           f"{' …' if len(late) > 10 else ''}: results are published after the inspection")
    matter_results = []
    for d in draws:
        outcomes = []
        for t in by_draw[d.draw_id]:
            f = findings.get(t.id)
            if f is None:
                outcomes.append(nt.TaskOutcome(t.task_no, t.identifier, t.name, recorded=False, category=t.category,
                                               stratum=t.stratum))
                continue
            results, follow_ups = list(f.results or []), list(f.follow_ups or [])
            problem = any(c.problem for code in results if (c := codebook.categories.get(code)) is not None)
            ordered = f.rectification_deadline is not None or any(
                u.rectification for code in follow_ups if (u := codebook.follow_ups.get(code)) is not None)
            rectified = ordered and f.rectification_status == "closed" and (
                f.recheck_date is None or f.recheck_date <= issue_date)
            outcomes.append(nt.TaskOutcome(
                t.task_no, t.identifier, t.name, recorded=True, category=t.category,
                inspection_start=f.inspection_start, inspection_end=f.inspection_end,
                results=_labels(codebook.categories, results), problems=f.problems,
                follow_ups=_labels(codebook.follow_ups, follow_ups), problem_found=problem,
                rectification_ordered=ordered, rectification_deadline=f.rectification_deadline, rectified=rectified,
                stratum=t.stratum))
        sizes = {str(s["stratum"]): int(s["N"]) for s in frame_strata.get(d.frame_id) or []}
        matter_results.append(nt.MatterResults(d.matter.code, d.matter.name, _authority(config, d.matter), outcomes,
                                               sizes))
    _check_identifiers((t.identifier for m in matter_results for t in m.tasks), f"the tasks of {label}")
    issuer = _issuer(config, unit)
    notice = nt.results_notice(issuer, parse_period(label), matter_results, issue_date,
                               id_scheme=config.settings.registry.id_scheme, doc_number=doc_number, log_head=head)
    notice = dataclasses.replace(notice, files=[(nt.log_file_name("results", label), log_bytes)])
    pending_ids = [t.id for d in draws for t in by_draw[d.draw_id] if t.id not in findings]
    return BuiltNotice(notice, unit, issuer, label, [d.matter.code for d in draws], ids, pending_ids, pending_nos)


# -- writing and recording ----------------------------------------------------------------------------


_PDF_MAGIC = b"%PDF-"


def _latest_records(conn: Connection) -> dict[str, tuple[int, str, dt.date]]:
    """Resolved path → (id, SHA-256, issued on) of the latest notice recorded at that path."""
    rows = conn.execute(public_select(NoticeRow.id, NoticeRow.path, NoticeRow.file_sha256, NoticeRow.issued_on)
                        .order_by(NoticeRow.id))
    return {r.path: (r.id, r.file_sha256, r.issued_on) for r in rows}


def check_target(engine: Engine, path: Path | str, *, force: bool = False) -> int | None:
    """Refuse (InspectError, nothing written) a target that is a folder, in no folder, an existing
    file that is not a PDF, or — unless ``force`` — any existing file. Returns the id of the
    notice recorded at that path that the new file will re-issue (None: a new path)."""
    path = Path(path)
    if path.is_dir():
        raise InspectError(f"{path} is a folder: give a file name ending in .pdf")
    if not path.parent.is_dir():
        raise InspectError(f"{path.parent}: no such folder")
    with engine.connect() as conn:
        recorded = _latest_records(conn).get(str(path.resolve()))
    if not (path.exists() or path.is_symlink()):
        return recorded[0] if recorded else None
    if not path.is_file():
        raise InspectError(f"{path} exists and is not a regular file; nothing was written")
    with path.open("rb") as f:
        head = f.read(len(_PDF_MAGIC))
    if head != _PDF_MAGIC:
        raise InspectError(f"{path} exists and is not a PDF: refusing to overwrite it; choose another file name "
                           "(nothing was written)")
    if not force:
        what = (f"notice #{recorded[0]} issued on {recorded[2]}" if recorded else
                "an existing PDF with no notice record")
        raise InspectError(f"{path} is {what}: refusing to overwrite it; pass --force to "
                           f"{'re-issue it (recorded as a new notice for the same file)' if recorded else 'replace it'}"
                           " (nothing was written)")
    return recorded[0] if recorded else None


def _claim(tmp: Path, path: Path) -> None:
    """Put the written temporary file at ``path`` only if nothing is there (atomic, never replaces)."""
    try:
        os.link(tmp, path)  # fails if the path appeared meanwhile
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then move (a narrow race)
        if path.exists():
            raise FileExistsError(errno.EEXIST, "a file appeared there meanwhile", str(path)) from None
        tmp.replace(path)


def _insert_notice(engine: Engine, **values: Any) -> int:
    """Record a notice and log it (transparency log), in one transaction."""
    with engine.begin() as conn:
        notice_id = insert_id(conn, NoticeRow.__table__, **values)
        append_pending(conn, values["created_at"])
    return notice_id


@dataclass(frozen=True)
class RecordedFile:
    notice_id: int
    path: Path
    sha256: str
    pages: int
    size: int
    reissue_of: int | None = None  # the notice recorded before at the same path


def record_pdf(engine: Engine, pdf: bytes, path: Path | str, *, kind: str, period: str, issued_on: dt.date,
               now: dt.datetime, matter_codes: Sequence[str] = (), task_ids: Sequence[int] = (),
               pending_task_ids: Sequence[int] = (), force: bool = False,
               public: Sequence[str] = ()) -> RecordedFile:
    """Check a public PDF, write it and record it (kind, period, file SHA-256, pages, date of
    issue) in the notices table, which the scoring of publicity on time reads.

    Refuses, writing nothing: a target `check_target` refuses (an existing file unless ``force``),
    and a PDF whose text, metadata or embedded files hold a private value (`privacy.check_public`;
    ``public``: phrases published on purpose, see `guard_public`).
    Steps: temporary file, record (committed), move into place — see the module docstring."""
    from pypdf import PdfReader

    path = Path(path)
    reissue_of = check_target(engine, path, force=force)
    guard_public(engine, str(path), pdf, "pdf", public)
    digest = hashlib.sha256(pdf).hexdigest()
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    values = dict(kind=kind, period=period, matter_codes=list(matter_codes), task_ids=list(task_ids),
                  pending_task_ids=list(pending_task_ids), path=str(path.resolve()), file_sha256=digest, pages=pages,
                  issued_on=issued_on, created_at=now)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
            f.flush()
            os.fsync(f.fileno())
        if force:  # record, then replace: a crash in between leaves a record its file does not match
            notice_id = _insert_notice(engine, **values)
            try:
                tmp.replace(path)
            except OSError as exc:
                raise InspectError(f"notice #{notice_id} was recorded but {path} could not be written "
                                   f"({exc.strerror or exc}); `inspect publish check` lists it") from None
        else:  # claim the path, then record: a crash in between leaves a stray file, nothing else
            try:
                _claim(tmp, path)
            except FileExistsError:
                raise InspectError(f"{path} was created by someone else meanwhile: nothing was written") from None
            try:
                notice_id = _insert_notice(engine, **values)
            except BaseException:
                path.unlink(missing_ok=True)  # ours, just claimed: no record, so no file
                raise
    finally:
        tmp.unlink(missing_ok=True)
    return RecordedFile(notice_id, path, digest, pages, len(pdf), reissue_of)


def _issue(engine: Engine, kind: str, built: BuiltNotice, path: Path | str, issue_date: dt.date, now: dt.datetime,
           fonts: Any, creation_date: dt.datetime | dt.date | None, force: bool = False) -> PublishedNotice:
    from inspect_kit.publish import render

    check_target(engine, path, force=force)  # before the rendering: a refused target costs nothing
    public = privacy.declared_public(built.notice.files)  # the draws' witnesses
    notice = privacy.mask_notice(built.notice, private_values(engine).allowing(public))
    pdf = render(notice, fonts, creation_date if creation_date is not None else issue_date)
    rec = record_pdf(engine, pdf, path, kind=kind, period=built.period, issued_on=issue_date, now=now,
                     matter_codes=built.matter_codes, task_ids=built.task_ids, pending_task_ids=built.pending_task_ids,
                     force=force, public=public)
    return PublishedNotice(rec.notice_id, kind, built.period, built.unit, built.issuer, rec.path, rec.sha256, rec.pages,
                           rec.size, issue_date, built.matter_codes, built.task_ids, built.pending_task_ids,
                           [name for name, _ in built.notice.files], built.pending_task_nos, rec.reissue_of)


def publish_draw(engine: Engine, config: Config, period: Period | str, *, path: Path | str, issue_date: dt.date,
                 now: dt.datetime, unit: str | None = None, matters: Sequence[str] | None = None,
                 creation_date: dt.datetime | dt.date | None = None, fonts: Any = None,
                 doc_number: str | None = None, force: bool = False) -> PublishedNotice:
    """Write the drawn-list notice (抽查对象名单公示) of ``period`` to ``path`` and record it.

    The current draw of every matter of the unit (``unit``, or the only unit with draws in the
    period; ``matters`` narrows further) is listed, verified and embedded as its bundle JSON.
    ``fonts`` defaults to settings.publish; ``creation_date`` (PDF metadata) to the issue date.
    An existing file at ``path`` is refused unless ``force`` (a re-issue, see `record_pdf`).
    """
    built = build_draw_notice(engine, config, period, issue_date=issue_date, unit=unit, matters=matters,
                              doc_number=doc_number)
    return _issue(engine, "draw", built, path, issue_date, now,
                  fonts if fonts is not None else fonts_from_config(config), creation_date, force)


def publish_results(engine: Engine, config: Config, period: Period | str, *, path: Path | str, issue_date: dt.date,
                    now: dt.datetime, unit: str | None = None, matters: Sequence[str] | None = None,
                    allow_incomplete: bool = False, creation_date: dt.datetime | dt.date | None = None,
                    fonts: Any = None, codebook: Any = None, doc_number: str | None = None,
                    force: bool = False) -> PublishedNotice:
    """Write the results notice (抽查结果公示) of ``period`` to ``path`` and record it.

    Refuses while tasks lack a finding unless ``allow_incomplete`` (they are then listed as 待录入
    and recorded in ``pending_task_ids``, so they do not count as published). An existing file at
    ``path`` is refused unless ``force`` (a re-issue, see `record_pdf`).
    """
    built = build_results_notice(engine, config, period, issue_date=issue_date, unit=unit, matters=matters,
                                 allow_incomplete=allow_incomplete, codebook=codebook, doc_number=doc_number)
    return _issue(engine, "results", built, path, issue_date, now,
                  fonts if fonts is not None else fonts_from_config(config), creation_date, force)


def list_notices(engine: Engine, kind: str | None = None, period: Period | str | None = None) -> list[NoticeRecord]:
    """Every recorded notice (oldest first), optionally of one kind and period."""
    stmt = public_select(NoticeRow.__table__).order_by(NoticeRow.id)
    if kind:
        stmt = stmt.where(NoticeRow.kind == kind)
    if period:
        stmt = stmt.where(NoticeRow.period == _label(period))
    with engine.connect() as conn:
        return [NoticeRecord(r.id, r.kind, r.period, list(r.matter_codes or []), [int(i) for i in r.task_ids or []],
                             [int(i) for i in r.pending_task_ids or []], r.path, r.file_sha256, r.pages, r.issued_on,
                             r.created_at) for r in conn.execute(stmt)]


# -- files on disk against the records ----------------------------------------------------------------


@dataclass(frozen=True)
class FileCheck:
    """One finding of `check_files`: ``status`` ok | modified | missing | stray | unfinished."""

    status: str
    path: str
    notice_id: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        who = f"notice #{self.notice_id}: " if self.notice_id else ""
        return f"{self.status.upper():10} {who}{self.path}" + (f" — {self.detail}" if self.detail else "")


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_files(engine: Engine, folder: Path | str | None = None) -> list[FileCheck]:
    """Compare the notice files on disk with the records.

    Each path's latest record (earlier rows of the same path are superseded re-issues) must find
    its file with the recorded SHA-256 (else "missing" or "modified"). Every PDF in ``folder``
    (recursively; default: the folders of the recorded notices) that no record names is "stray",
    and a temporary file left by an interrupted publish (".<name>.pdf.<random>.tmp") is "unfinished".
    With ``folder``, only the records of files inside it are checked. Sorted by path.
    """
    with engine.connect() as conn:
        latest = _latest_records(conn)
    base = Path(folder).resolve() if folder is not None else None
    if base is not None and not base.is_dir():
        raise InspectError(f"{folder}: no such folder")
    out: list[FileCheck] = []
    for path, (notice_id, digest, _) in latest.items():
        p = Path(path)
        if base is not None and not p.is_relative_to(base):
            continue
        if not p.is_file():
            out.append(FileCheck("missing", path, notice_id, "recorded, but no file"))
        else:
            actual = _sha256_of(p)
            out.append(FileCheck("ok", path, notice_id) if actual == digest else FileCheck(
                "modified", path, notice_id, f"sha256 {actual[:16]}… on disk, {digest[:16]}… recorded"))
    folders = [base] if base is not None else sorted({Path(p).parent for p in latest if Path(p).parent.is_dir()})
    seen: set[Path] = set()
    for d in folders:
        for p in sorted(d.rglob("*") if base is not None else d.iterdir()):
            if p in seen or not p.is_file():
                continue
            seen.add(p)
            name = p.name.lower()
            if name.endswith(".pdf") and str(p.resolve()) not in latest:
                out.append(FileCheck("stray", str(p), None, "a PDF with no notice record"))
            elif name.startswith(".") and ".pdf." in name and name.endswith(".tmp"):
                out.append(FileCheck("unfinished", str(p), None, "left by an interrupted publish; delete it"))
    return sorted(out, key=lambda c: (c.path, c.status))


@dataclass(frozen=True)
class NoticeKind:
    """One kind of public notice: its code (stored in notices.kind), its file name stem, and the
    library function that builds, writes and records it. A new kind is one entry of NOTICE_KINDS."""

    code: str
    file_stem: str
    publish: Any  # (engine, config, period, *, path, issue_date, now, unit, matters, ...) -> PublishedNotice
    description: str


NOTICE_KINDS: dict[str, NoticeKind] = {
    "draw": NoticeKind("draw", nt.DRAW_NOTICE_FILE, publish_draw, "抽查对象名单公示 (the drawn list)"),
    "results": NoticeKind("results", nt.RESULTS_NOTICE_FILE, publish_results, "抽查结果公示 (the results)"),
}
