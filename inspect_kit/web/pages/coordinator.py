"""The coordinator's pages (role ``coordinator``, one unit: ``actor.account.unit_code``), under /coord.

Each route is a thin wrapper around the library function the CLI calls:

- ``/coord``                 the period dashboard (findings.dashboard.period_dashboard: the same
                             task_results / due as ``inspect findings list|due``)
- ``/coord/registry``        upload → dry-run report (registry.importer.import_registry, as
                             ``inspect registry import --dry-run``) → confirm → the real import
- ``/coord/draw/prepare``    draw.service.prepare (``inspect draw prepare``)
- ``/coord/draw/meeting``    the projector screen: commitment, value entered, draw.service.run
                             (``inspect draw run``), the sample, the bundle (draw.service.export_bundle)
- ``/coord/assign``          assign.service.assign_teams (``inspect assign``) and assign.service.substitute
- ``/coord/publish``         publish.service.NOTICE_KINDS (``inspect publish draw|results``)

Scope: a matter, task, draw or notice outside the coordinator's unit answers 404 (not revealed).

Attribution: every write passes the coordinator's name as ``by`` (import batches, frames,
commitments, draws, assignments, substitutes, notices).

Registry confirm step: the uploaded file is kept server-side, in a temporary folder, named by its
SHA-256 (forgotten after a day if never confirmed); the confirm form carries only that hash. So the file imported is byte for byte the one
whose dry-run report the coordinator read (a re-upload could silently be another file or a newer
save of it), the coordinator need not pick the file twice, and the hash is an unguessable,
path-safe key (checked to be 64 hex digits). The real import validates the whole file again, so a
kept file changed on disk could never import unchecked; it is deleted once imported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response

from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.periods import Period, parse_period
from inspect_kit.web.access import Actor, staff
from inspect_kit.web.context import Services, services

router = APIRouter(prefix="/coord")

REGISTRY_KINDS = {"entities": "检查对象名录", "inspectors": "执法检查人员名录", "conflicts": "回避关系"}
UNIT_SCOPED_KINDS = frozenset({"entities", "inspectors"})  # rows carry a department (registry.rules.own_unit)
# Conflicts carry no unit: a coordinator's conflicts file is not unit-scoped. The library checks that
# both the officer and the entity exist; a declared conflict only ever removes an officer from the
# officers who may inspect an entity, so another unit's file cannot widen anyone's access.
UPLOAD_SUFFIXES = frozenset({".csv", ".xlsx"})
SEED_KINDS = {"drand": "drand 公共随机信标轮次", "lottery": "公开彩票期号", "witnessed": "现场见证（掷骰/摇号）"}
NOTICE_LABELS = {"draw": "抽查对象名单公示", "results": "抽查结果公示"}
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


# -- scope ----------------------------------------------------------------------------------------


def _unit(actor: Actor) -> str:
    unit = actor.account.unit_code
    if not unit:
        raise HTTPException(403, "this coordinator account has no unit")
    return unit


def _period(svc: Services, text: str | None) -> Period:
    """``?period=2026Q1``, or the current quarter by the application's clock."""
    if text:
        return parse_period(text)
    today = svc.clock().date()
    return Period(today.year, "quarter", (today.month - 1) // 3)


def _unit_matters(svc: Services, actor: Actor) -> list[Any]:
    unit = _unit(actor)
    return [m for m in svc.config().matters if m.unit == unit]


def _matter(svc: Services, actor: Actor, code: str) -> Any:
    """A matter of the actor's unit, or 404 (another unit's matter is not revealed)."""
    for m in _unit_matters(svc, actor):
        if m.code == code:
            return m
    raise HTTPException(404, "no such matter")


def _own_draw(svc: Services, actor: Actor, draw_id: int) -> Any:
    from inspect_kit.draw import service as draws

    try:
        d = draws.get_draw(svc.engine, draw_id, with_tasks=False)
    except InspectError:
        raise HTTPException(404, "no such draw") from None
    _matter(svc, actor, d.matter)
    return d


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# -- 1. the period dashboard ----------------------------------------------------------------------


@router.get("", include_in_schema=False)
def dashboard(request: Request, period: str | None = None, actor: Actor = staff("coordinator")) -> Response:
    from inspect_kit.findings.dashboard import period_dashboard
    from inspect_kit.findings.service import policy_from_config

    svc = services(request)
    p = _period(svc, period)
    cfg = svc.config()
    rows = period_dashboard(svc.engine, cfg, _unit(actor), p, as_of=svc.clock().date(), policy=policy_from_config(cfg))
    return svc.render(request, "coord/dashboard.html", period=p, rows=rows)


# -- 2. registry upload ---------------------------------------------------------------------------


UPLOAD_TTL_SECONDS = 24 * 3600  # a dry run not confirmed within a day is uploaded again


def _upload_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "inspect-kit-uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _prune_uploads(folder: Path, now: float) -> None:
    """Forget uploads whose dry run was never confirmed (older than UPLOAD_TTL_SECONDS)."""
    for path in folder.iterdir():
        try:
            if now - path.stat().st_mtime > UPLOAD_TTL_SECONDS:
                path.unlink(missing_ok=True)
        except OSError:  # another worker removed it meanwhile
            continue


def _kept(sha: str, suffix: str) -> Path:
    if not _SHA_RE.match(sha) or suffix not in UPLOAD_SUFFIXES:
        raise HTTPException(422, "the upload's key is not valid: upload the file again")
    return _upload_dir() / f"{sha}{suffix}"


async def _keep_upload(upload: UploadFile, limit: int) -> tuple[str, str, int]:
    """Store the upload under its SHA-256 (refused past ``limit`` bytes); (sha, suffix, size)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InspectError(f"{upload.filename or 'the file'}: a registry file is .csv or .xlsx")
    h, size = hashlib.sha256(), 0
    _prune_uploads(_upload_dir(), time.time())
    with tempfile.NamedTemporaryFile(dir=_upload_dir(), delete=False, suffix=suffix) as tmp:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                tmp.close()
                Path(tmp.name).unlink(missing_ok=True)
                raise HTTPException(413, f"the file is larger than {limit // (1024 * 1024)} MiB")
            h.update(chunk)
            tmp.write(chunk)
    sha = h.hexdigest()
    Path(tmp.name).replace(_kept(sha, suffix))
    return sha, suffix, size


def _import(svc: Services, actor: Actor, kind: str, path: Path, dry_run: bool) -> dict[str, Any]:
    """The same import as ``inspect registry import [--dry-run]``, scoped to the actor's unit."""
    from inspect_kit.registry.importer import ImportOptions, import_registry

    if kind not in REGISTRY_KINDS:
        raise InspectError(f"unknown registry {kind!r}")
    opts = ImportOptions.from_config(
        svc.config(),
        svc.clock(),
        dry_run=dry_run,
        unit=_unit(actor) if kind in UNIT_SCOPED_KINDS else None,
        by=actor.name,
    )
    try:
        return {"summary": import_registry(svc.engine, kind, path, opts), "problems": [], "error": None}
    except ValidationFailed as exc:
        return {"summary": None, "problems": exc.problems, "error": None}
    except InspectError as exc:
        return {"summary": None, "problems": [], "error": str(exc).replace(str(path), "上传的文件")}


def _registry_page(request: Request, svc: Services, actor: Actor, report: dict[str, Any] | None) -> Response:
    """The upload form, with the report of the last dry run or import (422 when it was refused)."""
    refused = report is not None and report["summary"] is None
    return svc.render(
        request,
        "coord/registry.html",
        status_code=422 if refused else 200,
        kinds=REGISTRY_KINDS,
        report=report,
        unit=_unit(actor),
    )


@router.get("/registry", include_in_schema=False)
def registry_form(request: Request, actor: Actor = staff("coordinator")) -> Response:
    return _registry_page(request, services(request), actor, None)


@router.post("/registry", include_in_schema=False)
async def registry_upload(
    request: Request, kind: str = Form(...), file: UploadFile = Form(...), actor: Actor = staff("coordinator")
) -> Response:
    """Keep the file, dry-run it and show the report; a clean report offers the confirm button."""
    svc = services(request)
    sha, suffix, size = await _keep_upload(file, svc.max_upload_bytes)
    report = _import(svc, actor, kind, _kept(sha, suffix), dry_run=True)
    report.update(kind=kind, sha=sha, suffix=suffix, size=size, filename=file.filename, confirmed=False)
    return _registry_page(request, svc, actor, report)


@router.post("/registry/confirm", include_in_schema=False)
def registry_confirm(
    request: Request,
    kind: str = Form(...),
    sha: str = Form(...),
    suffix: str = Form(...),
    filename: str = Form(""),
    actor: Actor = staff("coordinator"),
) -> Response:
    svc = services(request)
    path = _kept(sha, suffix)
    if not path.exists():
        raise InspectError("the uploaded file is no longer kept (already imported?): upload it again")
    report = _import(svc, actor, kind, path, dry_run=False)
    if report["summary"] is not None:
        path.unlink(missing_ok=True)
    report.update(kind=kind, sha=sha, suffix=suffix, filename=filename, confirmed=True)
    return _registry_page(request, svc, actor, report)


# -- 3. prepare a draw ----------------------------------------------------------------------------


@router.get("/draw/prepare", include_in_schema=False)
def prepare_form(request: Request, period: str | None = None, actor: Actor = staff("coordinator")) -> Response:
    svc = services(request)
    return svc.render(
        request,
        "coord/prepare.html",
        matters=_unit_matters(svc, actor),
        period=_period(svc, period),
        seed_kinds=SEED_KINDS,
        frame=None,
    )


def _seed_source(form: dict[str, str]) -> Any:
    """The seed source the form names, built by the library's constructors (as `draw prepare`)."""
    from inspect_kit.draw.service import SeedError, SeedSource

    kind = form.get("seed_kind", "")
    try:
        if kind == "drand":
            try:
                round_ = int(form.get("drand_round", "").strip())
            except ValueError:
                raise InspectError("drand 轮次: a drand round is a positive whole number") from None
            return SeedSource.drand(round_, form.get("drand_chain") or "quicknet")
        if kind == "lottery":
            try:
                day = dt.date.fromisoformat(form.get("lottery_date", "").strip())
            except ValueError:
                raise InspectError("开奖日期: give the lottery's draw date as YYYY-MM-DD") from None
            return SeedSource.lottery(form.get("lottery_name", ""), form.get("lottery_issue", ""), day)
        if kind == "witnessed":
            names = [w for w in re.split(r"[、,，;；\n]+", form.get("witnesses", "")) if w.strip()]
            return SeedSource.witnessed(form.get("witnessed", ""), [w.strip() for w in names])
    except SeedError as exc:
        raise InspectError(str(exc)) from None
    raise InspectError(f"unknown seed source {kind!r}: use one of {', '.join(SEED_KINDS)}")


@router.post("/draw/prepare", include_in_schema=False)
async def prepare_submit(request: Request, actor: Actor = staff("coordinator")) -> Response:
    from inspect_kit.draw import service as draws

    svc = services(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    m = _matter(svc, actor, form.get("matter", ""))
    p = parse_period(form.get("period", ""))
    now = svc.clock()
    frame = draws.prepare_frame(
        svc.engine,
        svc.config(),
        m.code,
        p,
        source=_seed_source(form),
        as_of=now.date(),
        now=now,
        sealed=form.get("sealed") == "on",
        redraw=form.get("redraw") == "on",
        reason=form.get("reason") or None,
        by=actor.name,
    )
    return svc.render(
        request,
        "coord/prepare.html",
        matters=_unit_matters(svc, actor),
        period=p,
        seed_kinds=SEED_KINDS,
        frame=frame,
    )


# -- 4. the draw meeting --------------------------------------------------------------------------


def _latest_frame(svc: Services, matter: str, period: str) -> Any:
    from inspect_kit.draw import service as draws

    committed = [f for f in draws.list_frames(svc.engine, period=period, matter=matter) if f.commitment]
    return committed[-1] if committed else None


def _current_draw(svc: Services, matter: str, period: str) -> Any:
    from inspect_kit.draw import service as draws
    from inspect_kit.draw.service import current_draw_ids

    with svc.engine.connect() as conn:
        found = current_draw_ids(conn, period, matter).get((matter, period))
    return draws.get_draw(svc.engine, found) if found is not None else None


@router.get("/draw/meeting", include_in_schema=False)
def meeting(request: Request, matter: str, period: str, actor: Actor = staff("coordinator")) -> Response:
    svc = services(request)
    m = _matter(svc, actor, matter)
    p = parse_period(period)
    frame = _latest_frame(svc, m.code, p.label)
    d = _current_draw(svc, m.code, p.label)
    if d is not None and frame is not None and d.frame_id != frame.id:
        d = None  # a newer commitment awaits its value: the earlier draw is not this meeting's
    return svc.render(request, "coord/meeting.html", matter=m, period=p, frame=frame, draw=d)


@router.post("/draw/run", include_in_schema=False)
async def meeting_run(request: Request, actor: Actor = staff("coordinator")) -> Response:
    """Draw with the value entered (as ``inspect draw run``); htmx swaps in the sample."""
    from inspect_kit.draw import service as draws

    svc = services(request)
    form = {k: v.strip() for k, v in (await request.form()).items() if isinstance(v, str)}
    m = _matter(svc, actor, form.get("matter", ""))
    p = parse_period(form.get("period", ""))
    d = draws.run_draw(
        svc.engine,
        svc.config(),
        m.code,
        p,
        now=svc.clock(),
        seed=form.get("seed") or None,
        signature=form.get("signature") or None,
        previous_signature=form.get("previous_signature") or None,
        numbers=form.get("numbers") or None,
        frame_sha256=form.get("frame_sha256") or None,
        by=actor.name,
    )
    if _is_htmx(request):
        return svc.render(request, "coord/_sample.html", draw=d)
    frame = _latest_frame(svc, m.code, p.label)
    return svc.render(request, "coord/meeting.html", matter=m, period=p, frame=frame, draw=d)


@router.get("/draw/bundle/{draw_id}", include_in_schema=False)
def draw_bundle(request: Request, draw_id: int, actor: Actor = staff("coordinator")) -> Response:
    """The draw's bundle, as ``inspect draw export-bundle`` writes it."""
    from inspect_kit.draw import service as draws

    svc = services(request)
    d = _own_draw(svc, actor, draw_id)
    bundle = draws.export_bundle(svc.engine, draw_id)
    body = json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"
    name = f"draw-{d.matter}-{d.period}-{d.id}.json"
    return Response(
        body.encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- 5. assign teams, record a substitute ---------------------------------------------------------


def _assign_page(request: Request, svc: Services, actor: Actor, p: Period, **ctx: Any) -> Response:
    from inspect_kit.assign import service as assign

    codes = {m.code for m in _unit_matters(svc, actor)}
    current = [a for a in assign.current_assignments(svc.engine, p.label, None) if a.matter in codes]
    return svc.render(
        request,
        "coord/assign.html",
        matters=_unit_matters(svc, actor),
        period=p,
        assignments=current,
        note=assign.CONFIDENTIAL_NOTE,
        **ctx,
    )


@router.get("/assign", include_in_schema=False)
def assign_form(request: Request, period: str | None = None, actor: Actor = staff("coordinator")) -> Response:
    svc = services(request)
    return _assign_page(request, svc, actor, _period(svc, period))


@router.post("/assign", include_in_schema=False)
def assign_submit(
    request: Request,
    matter: str = Form(...),
    period: str = Form(...),
    seed: str = Form(...),
    seed_source: str = Form(""),
    experts: int = Form(0),
    reassign: bool = Form(False),
    reason: str = Form(""),
    actor: Actor = staff("coordinator"),
) -> Response:
    from inspect_kit.assign import service as assign

    svc = services(request)
    m = _matter(svc, actor, matter)
    p = parse_period(period)
    done = assign.assign_teams(
        svc.engine,
        svc.config(),
        p,
        seed=seed,
        seed_source=seed_source or None,
        now=svc.clock(),
        matters=[m.code],
        experts=experts,
        reassign=reassign,
        reason=reason or None,
        by=actor.name,
    )
    return _assign_page(request, svc, actor, p, done=done)


@router.post("/assign/substitute", include_in_schema=False)
def substitute_submit(
    request: Request,
    task_no: str = Form(...),
    cert_no: str = Form(...),
    reason: str = Form(...),
    actor: Actor = staff("coordinator"),
) -> Response:
    from inspect_kit.assign import service as assign
    from inspect_kit.draw.service import task_by_no
    from inspect_kit.text import clean_code

    svc = services(request)
    with svc.engine.connect() as conn:
        task = task_by_no(conn, clean_code(task_no))
    if task is None:
        raise HTTPException(404, "no such task")
    _matter(svc, actor, task.matter_code)
    s = assign.substitute(
        svc.engine, svc.config(), task.task_no, clean_code(cert_no), reason=reason, now=svc.clock(), by=actor.name
    )
    return _assign_page(request, svc, actor, parse_period(task.period), substitution=s)


# -- 6. publish notices ---------------------------------------------------------------------------


def _notices(svc: Services, actor: Actor, period: str | None = None) -> list[Any]:
    from sqlalchemy import select

    from inspect_kit.storage.models import Notice

    codes = {m.code for m in _unit_matters(svc, actor)}
    stmt = select(Notice).order_by(Notice.id.desc())
    if period:
        stmt = stmt.where(Notice.period == period)
    with svc.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [n for n in rows if n.kind in NOTICE_LABELS and n.matter_codes and set(n.matter_codes) <= codes]


def _publish_page(request: Request, svc: Services, actor: Actor, p: Period, **ctx: Any) -> Response:
    return svc.render(
        request,
        "coord/publish.html",
        period=p,
        kinds=NOTICE_LABELS,
        notices=_notices(svc, actor, p.label),
        **ctx,
    )


@router.get("/publish", include_in_schema=False)
def publish_form(request: Request, period: str | None = None, actor: Actor = staff("coordinator")) -> Response:
    svc = services(request)
    return _publish_page(request, svc, actor, _period(svc, period))


@router.post("/publish", include_in_schema=False)
def publish_submit(
    request: Request,
    kind: str = Form(...),
    period: str = Form(...),
    issue_date: str = Form(""),
    doc_number: str = Form(""),
    allow_incomplete: bool = Form(False),
    reissue: bool = Form(False),
    actor: Actor = staff("coordinator"),
) -> Response:
    """The unit's notice of a period (as ``inspect publish draw|results --unit``). Which results a
    results notice publishes is the library's rule: with ``[findings] review = "required"`` only
    approved ones (the others are 待录入, refused unless "allow incomplete" is ticked)."""
    from inspect_kit.publish import service as publish
    from inspect_kit.publish.notices import default_file_name

    svc = services(request)
    if kind not in NOTICE_LABELS:
        raise InspectError(f"unknown notice {kind!r}: use draw or results")
    unit, p, cfg, now = _unit(actor), parse_period(period), svc.config(), svc.clock()
    try:
        day = dt.date.fromisoformat(issue_date) if issue_date else now.date()
    except ValueError:
        raise InspectError(f"成文日期: {issue_date!r} is not a date (YYYY-MM-DD)") from None
    extra: dict[str, Any] = {}
    if kind == "results":
        extra["allow_incomplete"] = allow_incomplete
    svc.notices_dir.mkdir(parents=True, exist_ok=True)
    done = publish.NOTICE_KINDS[kind].publish(
        svc.engine,
        cfg,
        p.label,
        path=svc.notices_dir / default_file_name(kind, p.label, unit),
        issue_date=day,
        now=now,
        unit=unit,
        doc_number=doc_number or None,
        force=reissue,
        by=actor.name,
        **extra,
    )
    return _publish_page(request, svc, actor, p, done=done)


@router.get("/publish/{notice_id}.pdf", include_in_schema=False)
def notice_file(request: Request, notice_id: int, actor: Actor = staff("coordinator")) -> Response:
    svc = services(request)
    found = [n for n in _notices(svc, actor) if n.id == notice_id]
    if not found or not Path(found[0].path).is_file():
        raise HTTPException(404, "no such notice")
    return FileResponse(found[0].path, media_type="application/pdf", filename=Path(found[0].path).name)
