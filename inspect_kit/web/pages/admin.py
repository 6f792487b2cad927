"""The administrator's pages (role admin) under /admin: accounts and the configuration.

Thin shell over inspect_kit.accounts.service (as `inspect user add|list|disable|enable|password`)
and inspect_kit.config.load_config (as `inspect config check`; read-only here: the files are edited
and loaded with the CLI).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspect_kit.accounts import service as accounts
from inspect_kit.accounts.roles import ROLES
from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.web.access import Actor, staff
from inspect_kit.web.context import services

router = APIRouter(prefix="/admin", include_in_schema=False)


def _users(request: Request, status_code: int = 200, **ctx: Any) -> Response:
    svc = services(request)
    ctx.setdefault("form", {})
    ctx.setdefault("error", None)
    ctx.setdefault("done", request.query_params.get("done"))
    return svc.render(
        request, "admin/users.html", status_code=status_code, users=accounts.list_users(svc.engine), roles=ROLES, **ctx
    )


@router.get("/users")
def users(request: Request, actor: Actor = staff("admin")) -> Response:
    return _users(request)


@router.post("/users")
def add(
    request: Request,
    name: str = Form(""),
    role: str = Form(""),
    unit: str = Form(""),
    cert: str = Form(""),
    password: str = Form(""),
    actor: Actor = staff("admin"),
) -> Response:
    """`inspect user add NAME --role R [--unit U] [--cert C]`."""
    svc = services(request)
    try:
        accounts.add_user(
            svc.engine,
            name.strip(),
            role,
            password,
            svc.clock(),
            unit_code=unit.strip() or None,
            cert_no=cert.strip() or None,
        )
    except InspectError as exc:
        form = dict(name=name, role=role, unit=unit, cert=cert)
        return _users(request, status_code=422, form=form, error=str(exc))
    return RedirectResponse(f"/admin/users?done=已创建账号 {name.strip()}", status_code=303)


def _known(request: Request, name: str) -> None:
    try:
        accounts.get_user(services(request).engine, name)
    except InspectError:
        raise HTTPException(404, f"没有名为 {name} 的账号") from None


def _switch(request: Request, name: str, disabled: bool, actor: Actor) -> Response:
    _known(request, name)
    svc = services(request)
    if disabled and name == actor.name:
        error = "不能停用自己正在使用的账号：请由另一名管理员停用，或在服务器上运行 inspect user disable"
        return _users(request, status_code=422, error=error)
    try:
        accounts.set_disabled(svc.engine, name, disabled, svc.clock())
    except InspectError as exc:
        return _users(request, status_code=422, error=str(exc))
    return RedirectResponse(f"/admin/users?done={'已停用' if disabled else '已启用'} {name}", status_code=303)


@router.post("/users/{name}/disable")
def disable(request: Request, name: str, actor: Actor = staff("admin")) -> Response:
    """`inspect user disable NAME`: its sessions end and its API tokens are revoked. Not one's own
    account, and never the last enabled admin."""
    return _switch(request, name, True, actor)


@router.post("/users/{name}/enable")
def enable(request: Request, name: str, actor: Actor = staff("admin")) -> Response:
    """`inspect user enable NAME`."""
    return _switch(request, name, False, actor)


@router.post("/users/{name}/password")
def password(request: Request, name: str, password: str = Form(""), actor: Actor = staff("admin")) -> Response:
    """`inspect user password NAME`: a new password; the account's sessions end."""
    _known(request, name)
    svc = services(request)
    try:
        accounts.set_password(svc.engine, name, password, svc.clock())
    except InspectError as exc:
        return _users(request, status_code=422, error=str(exc))
    return RedirectResponse(f"/admin/users?done=已重设 {name} 的密码", status_code=303)


@router.get("/config")
def config(request: Request, actor: Actor = staff("admin")) -> Response:
    """The configuration folder as `inspect config check` validates it: its units, matters with
    quotas and settings, or every problem with its file and key."""
    svc = services(request)
    try:
        cfg = svc.config()
    except ValidationFailed as exc:
        return svc.render(
            request, "admin/config.html", cfg=None, problems=exc.problems, summary=exc.summary, folder=svc.config_dir
        )
    except InspectError as exc:
        return svc.render(request, "admin/config.html", cfg=None, problems=[], summary=str(exc), folder=svc.config_dir)
    import json

    settings = {k: json.dumps(v, ensure_ascii=False) for k, v in cfg.settings.model_dump(mode="json").items()}
    return svc.render(
        request, "admin/config.html", cfg=cfg, problems=[], summary=None, folder=svc.config_dir, settings=settings
    )
