"""Shared pieces of the web tests: a movable clock, an app over a database, accounts per role,
and logging in through the real login form."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import CONFIGS

PASSWORD = "correct horse battery"
# One account per role on the demo county (units from configs/units.toml, an officer of STHJ).
ACCOUNTS = {
    "admin": dict(role="admin"),
    "coordinator": dict(role="coordinator", unit_code="STHJ"),
    "inspector": dict(role="inspector", cert_no="360199ST0001"),
    "reviewer": dict(role="reviewer", unit_code="STHJ"),
    "assessor": dict(role="assessor"),
}


@dataclass
class Clock:
    now: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 3, 2, 9, 0))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


def add_accounts(engine, now: dt.datetime) -> None:
    from inspect_kit.accounts.service import add_user

    for name, kw in ACCOUNTS.items():
        add_user(engine, name, password=PASSWORD, now=now, **kw)


def make_app(engine, clock: Clock, config_dir: Path = CONFIGS, **kw):
    from inspect_kit.web.app import create_app
    from inspect_kit.web.context import Services

    return create_app(Services(engine, config_dir, clock=clock, **kw))


def client(app, https: bool = False):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=f"http{'s' if https else ''}://testserver", follow_redirects=False)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(c, name: str, password: str = PASSWORD):
    """Log in through the form; returns the response of the POST."""
    page = c.get("/login")
    pre = re.search(r'name="pre_token" value="([^"]+)"', page.text).group(1)
    return c.post("/login", data={"name": name, "password": password, "pre_token": pre, "next": "/"})


def csrf_of(c) -> str:
    """The session's CSRF token, read from a page that shows the logout form."""
    return CSRF_RE.search(c.get("/account").text).group(1)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class serve_in_thread:
    """Serve ``app`` with uvicorn on 127.0.0.1:<free port> in a background thread (a context
    manager yielding the base URL; the server stops on exit)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_available() -> bool:
    """Browser tests run where Debian's chromium is installed, and always in CI (where it must be)."""
    import os

    return Path(CHROMIUM).exists() or bool(os.environ.get("CI"))
