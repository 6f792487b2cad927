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


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """The app under uvicorn in a background thread on 127.0.0.1 (for the browser tests)."""

    def __init__(self, app):
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        import time

        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("the test server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def browser_or_skip():
    """A Playwright instance and Debian's chromium; skipped without chromium unless in CI (where .ci/run installs it)."""
    import os

    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI is set but /usr/bin/chromium is missing: .ci/run should install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    return pw, browser


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(path), full_page=True)
    return path


DEMO_NOW = dt.datetime(2026, 7, 1, 9, 0)  # after the demo's recorded findings and its scoring run


def demo_accounts_db(demo_run, folder: Path) -> Path:
    """A copy of the finished demo's database with an account per role (build once, copy per test)."""
    import shutil

    from inspect_kit.storage.db import make_engine

    target = folder / "web-demo.db"
    shutil.copyfile(demo_run[0] / "inspect.db", target)
    engine = make_engine(f"sqlite:///{target}")
    add_accounts(engine, DEMO_NOW)
    engine.dispose()
    return target


def demo_app(template: Path, tmp_path, now: dt.datetime = DEMO_NOW, **kw):
    """(app, engine, clock) over a copy of `template` (see demo_accounts_db)."""
    import shutil

    from inspect_kit.storage.db import make_engine

    target = tmp_path / "web.db"
    shutil.copyfile(template, target)
    engine = make_engine(f"sqlite:///{target}")
    clock = Clock(now)
    return make_app(engine, clock, **kw), engine, clock


def bearer(engine, name: str, now: dt.datetime, **kw) -> dict[str, str]:
    """The Authorization header of a new API token of the account."""
    from inspect_kit.accounts.service import create_token

    return {"Authorization": f"Bearer {create_token(engine, name, 'test', now, **kw)}"}
