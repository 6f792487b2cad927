"""Who may open what: every route of the application declares its gate, and an app with a route
that declares none refuses to start (deny by default).

- ``staff(*roles)`` — a logged-in account of one of these roles (a session cookie, or under /api an
  API token); anyone else gets 401 (API) or the login page (pages), or 403 for a wrong role.
- ``public()`` — anyone, no login; the public pages, whose responses pass the public-output guard.

Both are FastAPI dependencies that resolve to the ``Actor`` (None for an anonymous visitor of a
public page). Unsafe methods (POST, PUT, PATCH, DELETE) with a session cookie must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); API tokens are sent as
``Authorization: Bearer`` and cannot be sent by another site's form, so they need none.

Row-level rules (an inspector sees only the tasks of their teams, a coordinator only their unit)
are applied in the queries, by ``Actor.can_see_unit`` and the services' filters.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from inspect_kit.accounts.roles import ROLE_CODES
from inspect_kit.accounts.service import Account

SESSION_COOKIE = "ik_session"
PRE_COOKIE = "ik_pre"  # the login form's CSRF (double submit), before any session exists
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Actor:
    account: Account
    csrf_token: str | None  # None when authenticated by an API token
    via: str  # "session" | "token"

    @property
    def name(self) -> str:
        return self.account.name

    @property
    def role(self) -> str:
        return self.account.role

    def can_see_unit(self, unit_code: str | None) -> bool:
        """Coordinators and reviewers act for their own unit; admin and assessor see every unit."""
        if self.role in ("coordinator", "reviewer"):
            return unit_code is not None and unit_code == self.account.unit_code
        return self.role in ("admin", "assessor")


class LoginRequired(Exception):
    """Raised by a page gate: the app answers with a redirect to the login page."""

    def __init__(self, next_url: str):
        self.next_url = next_url


@dataclass(frozen=True)
class Gate:
    roles: frozenset[str] | None  # None: public

    async def __call__(self, request: Request) -> Actor | None:
        from inspect_kit.web.context import services

        svc = services(request)
        actor = await svc.actor_of(request)
        if self.roles is None:
            return actor
        is_api = request.url.path.startswith("/api/")
        if actor is None:
            if is_api:
                raise HTTPException(401, "login or an API token is required", {"WWW-Authenticate": "Bearer"})
            raise LoginRequired(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        if actor.via == "token" and not is_api:
            raise HTTPException(403, "API tokens open the API only")
        if actor.role not in self.roles:
            raise HTTPException(403, "your role may not open this page")
        if request.method in UNSAFE and actor.via == "session":
            await check_csrf(request, actor.csrf_token or "")
        return actor


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached by Starlette: the endpoint reads the same form
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "the form's security token is missing or stale: reload the page and try again")


def staff(*roles: str) -> Any:
    unknown = set(roles) - set(ROLE_CODES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Depends(Gate(frozenset(roles)))


def public() -> Any:
    return Depends(Gate(None))


ANY_STAFF = ROLE_CODES


def gate_of(route: APIRoute) -> Gate | None:
    """The gate a route declares (in its signature or its dependencies), or None."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Gate):
            return dep.call
        stack.extend(dep.dependencies)
    return None


OPEN_MOUNTS = frozenset({"static"})  # served files: the interface's own CSS and scripts
OPEN_PATHS = frozenset({"/openapi.json"})  # the API's description (no interactive docs: they load from a CDN)


def flat_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) of every route, included routers opened (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from flat_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix + str(getattr(route, "path", "")), route


def ungated(routes: Iterable[BaseRoute]) -> list[str]:
    """Every route that declares no gate (the app refuses to start if there is one)."""
    missing = []
    for path, route in flat_routes(routes):
        if isinstance(route, APIRoute):
            if gate_of(route) is None:
                missing.append(f"{sorted(route.methods or ())} {path}")
        elif isinstance(route, Mount):
            if route.name not in OPEN_MOUNTS:
                missing.append(f"mount {path}")
        elif path not in OPEN_PATHS:
            missing.append(f"route {path!r}")
    return missing
