"""What every request handler shares: the database, the configuration, the clock, the policies
and the templates (one ``Services`` per application, in ``app.state.services``).

The clock is the application's (``Services.clock``; tests pass a fixed or movable one), so no
handler calls ``datetime.now()`` itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from inspect_kit.accounts.service import SessionPolicy, ThrottlePolicy, session_info, token_account
from inspect_kit.web.access import SESSION_COOKIE, Actor
from inspect_kit.web.format import install_filters

TEMPLATES = Path(__file__).with_name("templates")


def china_now() -> dt.datetime:
    """China Standard Time, naive, to the second: the clock the CLI uses for records."""
    from inspect_kit.draw.service import CST

    return dt.datetime.now(CST).replace(tzinfo=None, microsecond=0)


@dataclass
class Services:
    engine: Engine
    config_dir: Path
    clock: Callable[[], dt.datetime] = china_now
    session_policy: SessionPolicy = field(default_factory=SessionPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    secure_cookies: bool = False  # always mark cookies Secure (behind an HTTPS proxy)
    max_upload_bytes: int = 10 * 1024 * 1024
    notices_dir: Path = Path("notices")  # where the coordinators' published notices (PDF) are written
    demo: bool = False
    _config_cache: tuple[Any, Any] | None = field(default=None, init=False, repr=False)

    @cached_property
    def templates(self) -> Jinja2Templates:
        t = Jinja2Templates(directory=str(TEMPLATES))
        install_filters(t.env)
        return t

    def config(self) -> Any:
        """The configuration folder, loaded and validated as the CLI does. Loaded again whenever a
        file under the folder changes (name, size or modification time), else the last load is
        reused: validating the folder on every request cost more than the request itself."""
        from inspect_kit.config.load import load_config

        stamp = _folder_stamp(self.config_dir)
        cached = self._config_cache
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_config(self.config_dir))
            self._config_cache = cached
        return cached[1]

    async def actor_of(self, request: Request) -> Actor | None:
        cached = request.scope.get("inspect_kit.actor", False)
        if cached is not False:
            return cached  # type: ignore[no-any-return]
        actor: Actor | None = None
        auth = request.headers.get("authorization", "")
        now = self.clock()
        if auth.lower().startswith("bearer "):
            account = token_account(self.engine, auth[7:].strip(), now)
            actor = Actor(account, None, "token") if account else None
        else:
            token = request.cookies.get(SESSION_COOKIE)
            if token:
                info = session_info(self.engine, token, now, self.session_policy)
                actor = Actor(info.account, info.csrf_token, "session") if info else None
        request.scope["inspect_kit.actor"] = actor
        return actor

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        actor = request.scope.get("inspect_kit.actor") or None
        context.setdefault("actor", actor)
        context.setdefault("csrf_token", actor.csrf_token if actor else None)
        context.setdefault("today", self.clock().date())
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)

    def cookie_secure(self, request: Request) -> bool:
        return self.secure_cookies or request.url.scheme == "https"


def _folder_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
