"""The web application's gates: login, sessions, CSRF, throttling, headers, deny by default."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from tests.webkit import PASSWORD, Clock, add_accounts, client, csrf_of, login, make_app


@pytest.fixture
def web(demo_db):
    clock = Clock()
    add_accounts(demo_db, clock.now)
    return demo_db, clock, make_app(demo_db, clock)


def test_login_sets_a_strict_httponly_cookie_and_opens_the_role_start_page(web):
    engine, clock, app = web
    c = client(app)
    r = login(c, "coordinator")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "ik_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # plain http on localhost
    start = c.get("/")
    assert start.status_code == 303 and start.headers["location"] == "/coord"
    assert "coordinator" in c.get("/account").text


def test_secure_cookie_behind_https(web):
    engine, clock, _ = web
    app = make_app(engine, clock, secure_cookies=True)
    c = client(app, https=True)
    r = login(c, "admin")
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
    assert "strict-transport-security" in c.get("/login").headers


def test_wrong_password_and_unknown_user_read_the_same(web):
    _, _, app = web
    a = login(client(app), "coordinator", "wrong password!")
    b = login(client(app), "nobody-here", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "用户名或密码错误" in a.text and "用户名或密码错误" in b.text
    assert "ik_session" not in a.headers.get("set-cookie", "")


def test_login_form_without_its_token_is_refused(web):
    _, _, app = web
    c = client(app)
    r = c.post("/login", data={"name": "admin", "password": PASSWORD, "pre_token": "forged"})
    assert r.status_code == 403 and "ik_session" not in r.headers.get("set-cookie", "")


def test_throttle_per_account_refuses_even_the_right_password(web):
    _, clock, app = web
    c = client(app)
    for _ in range(5):
        assert login(c, "reviewer", "not the password").status_code == 401
    r = login(c, "reviewer")  # right password, but locked
    assert r.status_code == 429 and "过多" in r.text
    clock.advance(minutes=16)
    assert login(c, "reviewer").status_code == 303


def test_throttle_per_address(web):
    engine, clock, _ = web
    from inspect_kit.accounts.service import ThrottlePolicy

    app = make_app(engine, clock, throttle=ThrottlePolicy(per_account=100, per_address=3))
    c = client(app)
    for i in range(3):
        login(c, f"guess{i}", "whatever-123")
    assert login(c, "assessor").status_code == 429  # another account, same address


def test_session_expires_when_idle_and_absolutely(web):
    _, clock, app = web
    c = client(app)
    login(c, "assessor")
    assert c.get("/account").status_code == 200
    clock.advance(hours=1, minutes=59)
    assert c.get("/account").status_code == 200  # activity keeps it alive
    clock.advance(hours=2)
    r = c.get("/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    c2 = client(app)
    login(c2, "assessor")
    for _ in range(13):  # active every hour, still ends 12 h after login
        clock.advance(hours=1)
        last = c2.get("/account").status_code
    assert last == 303


def test_logout_needs_csrf_and_ends_the_session(web):
    _, _, app = web
    c = client(app)
    login(c, "admin")
    assert c.post("/logout").status_code == 403  # no token
    assert c.post("/logout", data={"csrf_token": "x" * 43}).status_code == 403  # wrong token
    token = csrf_of(c)
    cookie = c.cookies.get("ik_session")
    assert c.post("/logout", data={"csrf_token": token}).status_code == 303
    c2 = client(app)
    c2.cookies.set("ik_session", cookie)  # the old cookie, replayed
    assert c2.get("/account").status_code == 303


def test_disabling_a_user_or_changing_the_password_ends_its_sessions(web):
    engine, clock, app = web
    from inspect_kit.accounts.service import set_disabled, set_password

    c = client(app)
    login(c, "inspector")
    set_password(engine, "inspector", "another password 1", clock())
    assert c.get("/account").status_code == 303
    c = client(app)
    login(c, "assessor")
    set_disabled(engine, "assessor", True, clock())
    assert c.get("/account").status_code == 303
    assert login(client(app), "assessor").status_code == 401


def test_security_headers_on_every_response(web):
    _, _, app = web
    c = client(app)
    for path in ("/login", "/static/app.css", "/account", "/no/such/page"):
        h = c.get(path).headers
        assert "default-src 'self'" in h["content-security-policy"], path
        assert "cdn" not in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY", path
    assert c.get("/login").headers["cache-control"] == "no-store"


def test_open_redirect_after_login_is_refused(web):
    _, _, app = web
    c = client(app)
    page = c.get("/login?next=//evil.example/x")
    assert 'value="//evil.example' not in page.text and 'name="next" value="/"' in page.text


def test_an_app_with_an_ungated_route_refuses_to_start(web, monkeypatch):
    engine, clock, _ = web
    import sys
    import types

    from inspect_kit.web import app as app_module

    router = APIRouter()

    @router.get("/oops")
    def oops() -> str:  # declares no gate
        return "secret"

    mod = types.ModuleType("tests_fake_router")
    mod.router = router
    monkeypatch.setitem(sys.modules, "tests_fake_router", mod)
    monkeypatch.setattr(app_module, "ROUTERS", (*app_module.ROUTERS, "tests_fake_router"))
    with pytest.raises(RuntimeError, match="/oops"):
        make_app(engine, clock)


def test_user_cli_add_list_disable(tmp_path, demo_db):
    import subprocess
    import sys

    url = str(demo_db.url.render_as_string(hide_password=False))
    base = [sys.executable, "-m", "inspect_kit", "--db", url]
    run = lambda *a, stdin=None: subprocess.run([*base, *a], input=stdin, capture_output=True, text=True)  # noqa: E731
    r = run(
        "user", "add", "zhang", "--role", "coordinator", "--unit", "STHJ", "--password-stdin", stdin="long enough pw\n"
    )
    assert r.returncode == 0, r.stderr
    r = run("user", "add", "li", "--role", "coordinator", "--password-stdin", stdin="long enough pw\n")
    assert r.returncode == 1 and "--unit" in r.stderr and "Traceback" not in r.stderr
    r = run(
        "user", "add", "wang", "--role", "inspector", "--cert", "NOPE", "--password-stdin", stdin="long enough pw\n"
    )
    assert r.returncode == 1 and "NOPE" in r.stderr and "inspectors registry" in r.stderr
    r = run("user", "add", "zhao", "--role", "admin", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "at least" in r.stderr
    r = run("user", "list", "--json")
    assert '"zhang"' in r.stdout and "long enough" not in r.stdout and "argon2" not in r.stdout
    assert run("user", "disable", "zhang").returncode == 0
    assert '"disabled": true' in run("user", "list", "--json").stdout


def test_the_configuration_is_reloaded_when_a_file_changes(tmp_path, demo_db):
    import os
    import shutil

    from inspect_kit.web.context import Services
    from tests.conftest import CONFIGS

    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    svc = Services(demo_db, folder)
    first = svc.config()
    assert svc.config() is first  # unchanged folder: the validated load is reused
    settings = folder / "settings.toml"
    settings.write_text(
        settings.read_text("utf-8").replace("publicity_working_days = 20", "publicity_working_days = 15")
    )
    os.utime(settings, ns=(1, 1))  # even with an old modification time, the size changed
    again = svc.config()
    assert again is not first and again.settings.findings.publicity_working_days == 15


def test_nothing_is_loaded_from_another_host():
    """County intranets have no internet: no template or static file loads a script, a style, a font
    or an image from elsewhere (the CSP would block it anyway: this finds it before a user does)."""
    import re
    from pathlib import Path

    web = Path(__file__).resolve().parents[1] / "inspect_kit" / "web"
    outside = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I)
    found = [
        f"{p.relative_to(web)}: {m.group(0)}"
        for p in [*web.glob("templates/**/*.html"), *web.glob("static/*.html"), *web.glob("static/*.css")]
        for m in outside.finditer(p.read_text("utf-8"))
    ]
    assert found == []


def test_passwords_are_strong_argon2id_outside_the_test_suite(monkeypatch):
    from inspect_kit.accounts import passwords

    monkeypatch.delenv(passwords.PROFILE_ENV)
    passwords._hasher.cache_clear()
    try:
        stored = passwords.hash_password("correct horse battery")
        assert stored.startswith("$argon2id$") and "m=65536,t=3" in stored
        assert passwords.verify_password(stored, "correct horse battery")
        assert not passwords.verify_password(stored, "correct horse batterx")
    finally:
        passwords._hasher.cache_clear()


def test_the_server_builds_its_app_from_what_inspect_serve_passed(demo_db, tmp_path, monkeypatch):
    """Workers are separate processes: `inspect serve` hands them its settings in the environment."""
    from inspect_kit.web import server
    from tests.conftest import CONFIGS

    monkeypatch.setenv("INSPECT_DB_URL", demo_db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("INSPECT_CONFIG_DIR", str(CONFIGS))
    monkeypatch.setenv(server.ENV_SECURE, "1")
    monkeypatch.setenv(server.ENV_NOTICES, str(tmp_path / "公示"))
    svc = server.app_from_env().state.services
    assert svc.secure_cookies and svc.notices_dir == tmp_path / "公示" and svc.config_dir == CONFIGS
