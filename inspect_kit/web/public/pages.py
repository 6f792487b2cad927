"""The public pages (no login, read-only): short wrappers around `web.public.queries`.

Every route is gated with ``public()``; every response under /public passes the public-output
guard (`web.public.guard.PublicGuard`, installed by `web.app.create_app`). Objects that do not
exist or are not public (a sealed draw, a task of a sealed draw without its code) answer 404.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspect_kit.web.access import Actor, public
from inspect_kit.web.context import services
from inspect_kit.web.public import queries as q

router = APIRouter()


def _not_found(exc: q.NotPublic) -> HTTPException:
    return HTTPException(404, "未找到，或尚未公开。")


@router.get("/public", include_in_schema=False)
def index(request: Request, _: Actor | None = public()) -> Response:
    svc = services(request)
    return svc.render(
        request, "public/index.html", notices=q.notices(svc.engine), draws=q.draws(svc.engine),
        scores=q.score_results(svc.engine),
    )  # fmt: skip


@router.get("/public/notices/{notice_id}.pdf", include_in_schema=False)
def notice_pdf(request: Request, notice_id: int, _: Actor | None = public()) -> Response:
    try:
        name, data = q.notice_file(services(request).engine, notice_id)
    except q.NotPublic as exc:
        raise _not_found(exc) from None
    disposition = f"inline; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type="application/pdf", headers={"content-disposition": disposition})


@router.get("/public/draws/{matter}/{period}", include_in_schema=False)
def draw(request: Request, matter: str, period: str, _: Actor | None = public()) -> Response:
    svc = services(request)
    try:
        page = q.draw_page(svc.engine, matter, period)
    except q.NotPublic as exc:
        raise _not_found(exc) from None
    return svc.render(request, "public/draw.html", d=page)


@router.get("/public/bundles/{matter}/{period}.json", include_in_schema=False)
def bundle(request: Request, matter: str, period: str, _: Actor | None = public()) -> Response:
    try:
        body = q.draw_bundle_json(services(request).engine, matter, period)
    except q.NotPublic as exc:
        raise _not_found(exc) from None
    name = quote(f"draw-{matter}-{period}.json")
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": f"inline; filename*=UTF-8''{name}", "access-control-allow-origin": "*"},
    )


@router.get("/public/log", include_in_schema=False)
def log_page(request: Request, _: Actor | None = public()) -> Response:
    svc = services(request)
    return svc.render(request, "public/log.html", log=q.log_view(svc.engine))


@router.get("/public/burden", include_in_schema=False)
def burden_latest(request: Request, _: Actor | None = public()) -> Response:
    years = q.burden_years(services(request).engine)
    if not years:
        raise HTTPException(404, "尚无抽取记录。")
    return RedirectResponse(f"/public/burden/{years[0]}", status_code=303)


@router.get("/public/burden/{year}", include_in_schema=False)
def burden(request: Request, year: int, _: Actor | None = public()) -> Response:
    """How often entities were inspected in the year, in aggregate (频次上限, 综合查一次)."""
    svc = services(request)
    try:
        view = q.burden_view(svc.engine, svc.config(), year)
    except q.NotPublic as exc:
        raise _not_found(exc) from None
    return svc.render(request, "public/burden.html", b=view, years=q.burden_years(svc.engine))


@router.get("/public/scores", include_in_schema=False)
def scores(request: Request, _: Actor | None = public()) -> Response:
    svc = services(request)
    return svc.render(request, "public/scores.html", scores=q.score_results(svc.engine))


@router.get("/public/search", include_in_schema=False)
def search(request: Request, _: Actor | None = public()) -> Response:
    svc = services(request)
    text = request.query_params.get("q", "")[:100]
    found = q.search(svc.engine, svc.config(), text) if text else []
    return svc.render(request, "public/search.html", q=text, found=found)


@router.get("/public/verify", include_in_schema=False)
def verify(request: Request, _: Actor | None = public()) -> Response:
    svc = services(request)
    return svc.render(request, "public/verify.html", draws=[d for d in q.draws(svc.engine) if d.bundle])


@router.get("/public/tasks/{task_no}", include_in_schema=False)
def task(request: Request, task_no: str, code: str = "", _: Actor | None = public()) -> Response:
    svc = services(request)
    config = svc.config()
    check = None
    if code.strip():
        address = request.client.host if request.client else "unknown"
        check = q.check_code(svc.engine, config, task_no, code[:40], address, svc.clock(), svc.throttle)
    try:
        page = q.task_page(svc.engine, config, task_no, code_ok=bool(check and check.ok))
    except q.NotPublic as exc:
        if check is not None and not check.ok:  # a sealed draw's task: say only that the code is wrong
            return svc.render(request, "public/task_code.html", status_code=429 if check.throttled else 404,
                              task_no=task_no, check=check)  # fmt: skip
        raise _not_found(exc) from None
    status = 429 if check is not None and check.throttled else 200
    return svc.render(request, "public/task.html", status_code=status, t=page, check=check)


@router.get("/tasks/{task_no}", include_in_schema=False)
def paper_link(request: Request, task_no: str, code: str = "", _: Actor | None = public()) -> Response:
    """The QR code of a 检查通知书 when ``public_base_url`` is the site's root: to the task's page."""
    target = f"/public/tasks/{quote(task_no, safe='')}" + (f"?code={quote(code[:40], safe='')}" if code else "")
    return RedirectResponse(target, status_code=303)
