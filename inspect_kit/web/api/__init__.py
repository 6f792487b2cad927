"""The JSON API under /api, for provincial platforms and scripts (issue #13).

Authentication: an API token (``Authorization: Bearer ik_…``, from ``inspect user token NAME``) or
the browser's session (then unsafe methods need the CSRF header). Every route declares its gate and
applies the same row-level scoping as the pages (inspect_kit.accounts.scope): something outside
the caller's scope answers 404. Errors are JSON ``{"detail": ...}`` with 401, 403, 404 or 422; a
refused finding's 422 lists every problem with the field it concerns.

Thin shell: each route calls the library the CLI calls (draw.service, findings.service,
score.service); the response models (inspect_kit.web.api.models) make /openapi.json describe them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from inspect_kit.accounts import scope
from inspect_kit.errors import ValidationFailed
from inspect_kit.web.access import ANY_STAFF, Actor, staff
from inspect_kit.web.api.models import (
    FINDING_FIELDS,
    DrawDetail,
    DrawOut,
    FindingIn,
    FindingOut,
    Me,
    Problems,
    ScoreOut,
    TaskDetail,
    TaskOut,
    TeamMemberOut,
    draw_out,
    task_out,
)
from inspect_kit.web.context import services

router = APIRouter(prefix="/api", tags=["api"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not found, or outside the caller's scope"}}
RECORDERS = ("inspector", "coordinator")  # who records results (an inspector only on their own tasks)


@router.get("/me", response_model=Me)
def me(request: Request, actor: Actor = staff(*ANY_STAFF)) -> Me:
    a = actor.account
    return Me(
        name=a.name, role=a.role, role_label=a.role_label, unit_code=a.unit_code, cert_no=a.cert_no, via=actor.via
    )


@router.get("/draws", response_model=list[DrawOut])
def draws(request: Request, year: int | None = None, actor: Actor = staff(*ANY_STAFF)) -> list[DrawOut]:
    """Every draw on record the caller may see (re-draws included), as `inspect draw list --year`."""
    return [draw_out(d) for d in scope.visible_draws(services(request).engine, actor.account, year=year)]


def _current_draw(request: Request, actor: Actor, matter: str, period: str) -> scope.DrawInfo:
    found = scope.visible_draws(services(request).engine, actor.account, period=period, matter=matter)
    if not found:
        raise HTTPException(404, f"no draw of {matter} for {period}")
    return found[-1]  # the latest (current) draw of the matter and period


@router.get("/draws/{matter}/{period}", response_model=DrawDetail, responses=NOT_FOUND)
def draw(request: Request, matter: str, period: str, actor: Actor = staff(*ANY_STAFF)) -> DrawDetail:
    """The current draw of a matter and period: its summary and the link to its verification bundle."""
    d = _current_draw(request, actor, matter, period)
    return DrawDetail(**draw_out(d).model_dump(), bundle_url=f"/api/draws/{d.matter}/{d.period}/bundle")


@router.get("/draws/{matter}/{period}/bundle", responses=NOT_FOUND)
def draw_bundle(request: Request, matter: str, period: str, actor: Actor = staff(*ANY_STAFF)) -> dict[str, object]:
    """The verification bundle of the current draw (as `inspect draw export-bundle`)."""
    from inspect_kit.draw.service import export_bundle

    d = _current_draw(request, actor, matter, period)
    return dict(export_bundle(services(request).engine, d.id))


@router.get("/tasks", response_model=list[TaskOut])
def tasks(request: Request, period: str | None = None, actor: Actor = staff(*ANY_STAFF)) -> list[TaskOut]:
    """The current tasks the caller may see: an inspector's own teams', a coordinator's or reviewer's
    unit's, every unit's for admin and assessor."""
    return [task_out(t) for t in scope.visible_tasks(services(request).engine, actor.account, period)]


def _task(request: Request, actor: Actor, task_no: str) -> scope.TaskInfo:
    task = scope.visible_task(services(request).engine, actor.account, task_no)
    if task is None:
        raise HTTPException(404, f"no task {task_no}")
    return task


@router.get("/tasks/{task_no}", response_model=TaskDetail, responses=NOT_FOUND)
def task(request: Request, task_no: str, actor: Actor = staff(*ANY_STAFF)) -> TaskDetail:
    """One task: the entity, its team (inside the unit only) and its finding as stored."""
    from inspect_kit.findings.service import finding_row, policy_from_config

    svc = services(request)
    t = _task(request, actor, task_no)
    team = scope.task_team(svc.engine, actor.account, t)
    finding = finding_row(svc.engine, t.task_no, policy_from_config(svc.config()))
    return TaskDetail(
        **task_out(t).model_dump(),
        team=[TeamMemberOut(cert_no=m.cert_no, name=m.name, role=m.role) for m in team] if team is not None else None,
        finding={k: v for k, v in (finding or {}).items() if k != "task_no"} or None,
    )


@router.post(
    "/tasks/{task_no}/finding",
    response_model=FindingOut,
    responses={**NOT_FOUND, 422: {"model": Problems, "description": "refused; nothing was written"}},
)
def record_finding(request: Request, task_no: str, body: FindingIn, actor: Actor = staff(*RECORDERS)) -> FindingOut:
    """Record or change the task's finding, checked as `inspect findings add` checks it: only the
    fields given change, "" clears one. Attributed to the caller (the revision's `by`; 录入人 of a
    new finding unless given)."""
    from inspect_kit.findings.service import add_finding, finding_row, policy_from_config

    svc = services(request)
    t = _task(request, actor, task_no)
    policy = policy_from_config(svc.config())
    values = body.values()
    if "recorded_by" not in values and finding_row(svc.engine, t.task_no, policy) is None:
        values["recorded_by"] = actor.name
    now = svc.clock()
    try:
        outcome = add_finding(
            svc.engine,
            t.task_no,
            values,
            as_of=now.date(),
            now=now,
            by=actor.name,
            source="api",
            policy=policy,
            columns={k: k for k in FINDING_FIELDS},
        )
    except ValidationFailed as exc:
        problems = [{"field": p.column or p.key, "reason": p.reason} for p in exc.problems]
        raise HTTPException(422, problems) from None
    return FindingOut(task_no=outcome.task_no, action=outcome.action, changes=outcome.changes)


@router.get("/score/{year}", response_model=ScoreOut, responses=NOT_FOUND)
def score(request: Request, year: int, actor: Actor = staff("assessor", "admin")) -> ScoreOut:
    """The latest scoring run of the year: its fingerprints and the ranking (as `inspect score --json`)."""
    from inspect_kit.score.service import list_runs, load_run

    engine = services(request).engine
    if not list_runs(engine, year):
        raise HTTPException(404, f"no scoring run for {year} yet")
    stored = load_run(engine, year=year)
    return ScoreOut.model_validate(stored.summary())
