"""Results in the field and their review: the inspector's tasks, result form, evidence and
submission (/my/tasks), and the reviewer's queue, approval and return (/review).

Thin shell over inspect_kit.findings (field, service, review, evidence). Scope: an inspector opens
only tasks of the teams they are on (their account's 执法证号 among the task's current team), a
reviewer only tasks of their unit's matters; any other task answers 404. The result form posts to
``add_finding`` — the same validation as ``inspect findings add`` — and shows each problem next to
its field. Every write names the account as ``by`` (and as 录入人 of a new finding).

A task whose matter has a checklist (检查表) shows one row per item: 符合 / 不符合 / 不涉及, a
note, and the problem category of a 不符合 item. They are posted as ``item_result:CODE``,
``item_note:CODE`` and ``item_category:CODE``, joined by ``items.form_item_text`` into the row
values ``item:CODE`` that ``add_finding`` checks like the CLI's ``--item`` (every item once any is
recorded, a problem category among the results for 不符合, none beside 未发现问题); a problem is
shown next to its item.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.findings import evidence as ev
from inspect_kit.findings import review as rv
from inspect_kit.findings.field import FieldTask, field_task, officer_tasks
from inspect_kit.findings.items import ITEM_RESULTS, form_item_text, item_code, item_key
from inspect_kit.findings.service import add_finding, finding_history, get_finding, policy_from_config
from inspect_kit.web.access import Actor, staff
from inspect_kit.web.context import Services, services

router = APIRouter()

# The result form's fields (validate's row keys); the form names them as they are.
FORM_FIELDS = (
    "inspection_start",
    "inspection_end",
    "results",
    "problems",
    "follow_up",
    "rectification_deadline",
    "rectification_status",
    "recheck_date",
    "recheck_outcome",
    "case_no",
    "notes",
)
LISTS = ("results", "follow_up")  # several codes each (checkboxes)
STATUS_CHOICES = (("", "按日期计算"), ("open", "整改中"), ("closed", "已整改"), ("overdue", "逾期"))


def _checklist(svc: Services, task: FieldTask) -> list[tuple[str, str]]:
    """(code, content) of the task's matter's checklist, from the configuration."""
    matter = next((m for m in svc.config().matters if m.code == task.matter_code), None)
    return [(i.code, i.content) for i in matter.checklist] if matter is not None else []


def _own_task(svc: Services, actor: Actor, task_no: str) -> FieldTask:
    task = field_task(svc.engine, task_no)
    if task is None or not task.on_team(actor.account.cert_no):
        raise HTTPException(404, "没有这项任务")
    return task


def _unit_task(svc: Services, actor: Actor, task_no: str) -> FieldTask:
    task = field_task(svc.engine, task_no)
    if task is None or not actor.can_see_unit(task.unit_code):
        raise HTTPException(404, "没有这项任务")
    return task


def _form_values(svc: Services, task: FieldTask) -> dict[str, Any]:
    """The stored finding as form values (codes for the lists)."""
    _, f = get_finding(svc.engine, task.task_no, as_of=svc.clock().date())
    if f is None:
        return {**{k: ([] if k in LISTS else "") for k in FORM_FIELDS}, "items": {}}
    return {
        "items": {
            i.code: {"result": i.result, "note": i.note or "", "category": i.category or ""} for i in f.item_results
        },
        "inspection_start": f.inspection_start.isoformat(),
        "inspection_end": f.inspection_end.isoformat(),
        "results": list(f.results),
        "problems": f.problems or "",
        "follow_up": list(f.follow_ups),
        "rectification_deadline": f.rectification_deadline.isoformat() if f.rectification_deadline else "",
        "rectification_status": f.rectification_status or "",
        "recheck_date": f.recheck_date.isoformat() if f.recheck_date else "",
        "recheck_outcome": f.recheck_outcome or "",
        "case_no": f.case_no or "",
        "notes": f.notes or "",
    }


def _task_page(
    request: Request,
    task: FieldTask,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    upload_error: str | None = None,
    status_code: int = 200,
) -> Response:
    svc = services(request)
    codebook = policy_from_config(svc.config()).codebook
    return svc.render(
        request,
        "field_task.html",
        status_code=status_code,
        task=task,
        values=values if values is not None else _form_values(svc, task),
        errors=errors or {},
        upload_error=upload_error,
        evidence=ev.list_evidence(svc.engine, task.task_no),
        categories=list(codebook.categories),
        problem_categories=[c for c in codebook.categories if c.problem],
        checklist=_checklist(svc, task),
        item_results=ITEM_RESULTS,
        follow_ups=list(codebook.follow_ups),
        statuses=STATUS_CHOICES,
        accept="image/*,application/pdf",
    )


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def _evidence_response(svc: Services, task_no: str, evidence_id: int) -> Response:
    try:
        item, data = ev.get_evidence(svc.engine, task_no, evidence_id)
    except InspectError:
        raise HTTPException(404, "没有这份材料") from None
    return Response(
        data,
        media_type=item.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.filename)}",
            "Cache-Control": "private, no-store",
        },
    )


# -- inspector ----------------------------------------------------------------------------------------


@router.get("/my/tasks", include_in_schema=False)
def my_tasks(request: Request, actor: Actor = staff("inspector")) -> Response:
    svc = services(request)
    tasks = officer_tasks(svc.engine, actor.account.cert_no or "", svc.clock().date())
    return svc.render(request, "field_tasks.html", tasks=tasks)


@router.get("/my/tasks/{task_no}", include_in_schema=False)
def my_task(request: Request, task_no: str, actor: Actor = staff("inspector")) -> Response:
    return _task_page(request, _own_task(services(request), actor, task_no))


@router.post("/my/tasks/{task_no}/result", include_in_schema=False)
async def my_task_result(request: Request, task_no: str, actor: Actor = staff("inspector")) -> Response:
    svc = services(request)
    task = _own_task(svc, actor, task_no)
    form = await request.form()
    values: dict[str, Any] = {}
    for key in FORM_FIELDS:
        if key in LISTS:
            values[key] = [str(v) for v in form.getlist(key)]
        else:
            value = form.get(key)
            values[key] = value.strip() if isinstance(value, str) else ""
    given = {k: ("；".join(v) if k in LISTS else v) for k, v in values.items()}
    items: dict[str, dict[str, str]] = {}
    for code, _ in _checklist(svc, task):
        fields = {part: form.get(f"item_{part}:{code}") for part in ("result", "note", "category")}
        items[code] = {k: (v.strip() if isinstance(v, str) else "") for k, v in fields.items()}
        given[item_key(code)] = form_item_text(**items[code])
    values["items"] = items
    if task.review.finding_id is None:
        given["recorded_by"] = actor.name
    try:
        add_finding(
            svc.engine,
            task.task_no,
            given,
            as_of=svc.clock().date(),
            now=svc.clock(),
            by=actor.name,
            source="web",
            policy=policy_from_config(svc.config()),
            columns={k: k for k in (*FORM_FIELDS, "inspection_date", "recorded_by", "task_no")},
        )
    except ValidationFailed as exc:
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            where = "inspection_start" if p.column == "inspection_date" else (p.column or "")
            known = where in FORM_FIELDS or item_code(where) is not None
            errors.setdefault(where if known else "_", []).append(p.reason)
        return _task_page(request, task, values, errors, status_code=422)
    return _back(f"/my/tasks/{quote(task.task_no)}")


@router.post("/my/tasks/{task_no}/evidence", include_in_schema=False)
def my_task_evidence(
    request: Request, task_no: str, file: UploadFile = File(...), actor: Actor = staff("inspector")
) -> Response:
    svc = services(request)
    task = _own_task(svc, actor, task_no)
    data = file.file.read(svc.max_upload_bytes + 1)  # never more than one byte past the limit
    try:
        ev.attach(svc.engine, task.task_no, file.filename or "", data, actor.name, svc.clock(), svc.max_upload_bytes)
    except InspectError as exc:
        return _task_page(request, task, upload_error=str(exc), status_code=422)
    return _back(f"/my/tasks/{quote(task.task_no)}")


@router.get("/my/tasks/{task_no}/evidence/{evidence_id}", include_in_schema=False)
def my_task_evidence_file(
    request: Request, task_no: str, evidence_id: int, actor: Actor = staff("inspector")
) -> Response:
    svc = services(request)
    return _evidence_response(svc, _own_task(svc, actor, task_no).task_no, evidence_id)


@router.post("/my/tasks/{task_no}/submit", include_in_schema=False)
def my_task_submit(request: Request, task_no: str, actor: Actor = staff("inspector")) -> Response:
    svc = services(request)
    task = _own_task(svc, actor, task_no)
    rv.submit(svc.engine, task.task_no, actor.name, svc.clock())
    return _back(f"/my/tasks/{quote(task.task_no)}")


# -- reviewer -----------------------------------------------------------------------------------------


@router.get("/review", include_in_schema=False)
def review_queue(request: Request, actor: Actor = staff("reviewer")) -> Response:
    svc = services(request)
    return svc.render(request, "review_queue.html", items=rv.queue(svc.engine, actor.account.unit_code or ""))


@router.get("/review/{task_no}", include_in_schema=False)
def review_task(request: Request, task_no: str, actor: Actor = staff("reviewer")) -> Response:
    svc = services(request)
    task = _unit_task(svc, actor, task_no)
    policy = policy_from_config(svc.config())
    _, finding = get_finding(svc.engine, task.task_no, as_of=svc.clock().date(), policy=policy)
    return svc.render(
        request,
        "review_task.html",
        task=task,
        finding=finding,
        history=finding_history(svc.engine, task.task_no),
        evidence=ev.list_evidence(svc.engine, task.task_no),
    )


@router.post("/review/{task_no}/approve", include_in_schema=False)
def review_approve(
    request: Request, task_no: str, revision: int | None = Form(None), actor: Actor = staff("reviewer")
) -> Response:
    svc = services(request)
    task = _unit_task(svc, actor, task_no)
    rv.approve(svc.engine, task.task_no, actor.name, svc.clock(), revision=revision)
    return _back("/review")


@router.post("/review/{task_no}/return", include_in_schema=False)
def review_return(
    request: Request,
    task_no: str,
    reason: str = Form(""),
    revision: int | None = Form(None),
    actor: Actor = staff("reviewer"),
) -> Response:
    svc = services(request)
    task = _unit_task(svc, actor, task_no)
    rv.return_(svc.engine, task.task_no, reason, actor.name, svc.clock(), revision=revision)
    return _back("/review")


@router.get("/review/{task_no}/evidence/{evidence_id}", include_in_schema=False)
def review_evidence_file(
    request: Request, task_no: str, evidence_id: int, actor: Actor = staff("reviewer")
) -> Response:
    svc = services(request)
    return _evidence_response(svc, _unit_task(svc, actor, task_no).task_no, evidence_id)
