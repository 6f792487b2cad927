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


def serve_in_thread(app):
    """Serve the app with uvicorn on 127.0.0.1:<free port> in a daemon thread; returns (base URL, stop)."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(5)

    return f"http://127.0.0.1:{port}", stop


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def need_chromium() -> None:
    """Skip when Debian's chromium is missing, except in CI (where browser tests must run)."""
    import os

    import pytest

    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("no /usr/bin/chromium")
