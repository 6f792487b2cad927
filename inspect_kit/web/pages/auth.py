"""Login, logout and the start page.

The login form is protected against cross-site submission by a double-submit token: a random
``ik_pre`` cookie set with the form, echoed in a hidden field. A successful login replaces any
earlier session cookie (no session fixation) and sets it HttpOnly, SameSite=Strict, and Secure when
served over HTTPS (or always, with ``inspect serve --secure-cookies`` behind a proxy).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspect_kit.accounts.roles import ROLES
from inspect_kit.accounts.service import LoginRefused, login, logout
from inspect_kit.web.access import ANY_STAFF, PRE_COOKIE, SESSION_COOKIE, Actor, public, staff
from inspect_kit.web.context import services
from inspect_kit.web.nav import NAV

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no //host, no scheme): no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None, _: Actor | None = public()) -> Response:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    svc = services(request)
    response = svc.render(request, "login.html", next=_safe_next(next), pre_token=pre, error=None)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=svc.cookie_secure(request))
    return response


@router.post("/login", include_in_schema=False)
def login_submit(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    pre_token: str = Form(""),
    next: str = Form("/"),
    _: Actor | None = public(),
) -> Response:
    svc = services(request)
    cookie = request.cookies.get(PRE_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, pre_token):
        raise HTTPException(403, "the login form's security token is missing or stale: reload the page")
    address = request.client.host if request.client else "unknown"
    try:
        result = login(svc.engine, name, password, address, svc.clock(), svc.session_policy, svc.throttle)
    except LoginRefused as exc:
        message = "登录失败次数过多，请稍后再试。" if exc.throttled else "用户名或密码错误，或账号已停用。"
        return svc.render(
            request,
            "login.html",
            status_code=429 if exc.throttled else 401,
            next=_safe_next(next),
            pre_token=cookie,
            error=message,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=svc.cookie_secure(request),
        max_age=int(svc.session_policy.absolute.total_seconds()),
    )
    response.delete_cookie(PRE_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
def logout_submit(request: Request, actor: Actor = staff(*ANY_STAFF)) -> Response:
    svc = services(request)
    logout(svc.engine, request.cookies.get(SESSION_COOKIE, ""), svc.clock())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", include_in_schema=False)
def start(request: Request, actor: Actor | None = public()) -> Response:
    """The start page: a logged-in user's first page; a visitor's the public side (or login)."""
    if actor is None or actor.via != "session":
        return RedirectResponse("/public" if _has_public(request) else "/login", status_code=303)
    return RedirectResponse(NAV[actor.role][0][0], status_code=303)


def _has_public(request: Request) -> bool:
    return any(getattr(r, "path", "") == "/public" for r in request.app.routes)


@router.get("/account", include_in_schema=False)
def account_page(request: Request, actor: Actor = staff(*ANY_STAFF)) -> Response:
    return services(request).render(request, "account.html", role=ROLES[actor.role])
