"""The administrator's pages: accounts through inspect_kit.accounts.service (a created account can
log in; a refused one is not created; disable, enable and a new password take effect at once), the
configuration as `inspect config check` validates it, and no other role gets in."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import CONFIGS
from tests.webkit import PASSWORD, client, csrf_of, login, make_app


@pytest.fixture
def admin(demo_db):
    from tests.webkit import Clock, add_accounts

    clock = Clock()
    add_accounts(demo_db, clock.now)
    app = make_app(demo_db, clock)
    c = client(app)
    assert login(c, "admin").status_code == 303
    return c, app, demo_db


def _new_user(c, **form):
    return c.post("/admin/users", data={"csrf_token": csrf_of(c), **form})


def test_admin_creates_an_account_that_can_log_in(admin):
    c, app, engine = admin
    r = _new_user(c, name="李审核", role="reviewer", unit="STHJ", cert="", password="another long secret")
    assert r.status_code == 303
    page = c.get("/admin/users").text
    assert "李审核" in page and "审核人员" in page
    other = client(app)
    assert login(other, "李审核", "another long secret").status_code == 303
    assert other.get("/account").status_code == 200


REFUSED = [
    (dict(name="x1", role="coordinator", unit="", cert="", password=PASSWORD), "--unit"),
    (dict(name="x2", role="inspector", unit="", cert="NOSUCH", password=PASSWORD), "NOSUCH"),
    (dict(name="x3", role="admin", unit="", cert="", password="short"), "x3"),
    (dict(name="x4", role="root", unit="", cert="", password=PASSWORD), "unknown role"),
    (dict(name="admin", role="admin", unit="", cert="", password=PASSWORD), "already exists"),
]


def test_a_refused_account_is_not_created(admin):
    from inspect_kit.accounts.service import list_users

    c, _, engine = admin
    before = list_users(engine)
    for form, reason in REFUSED:
        r = _new_user(c, **form)
        assert r.status_code == 422 and reason in r.text, form
        assert 'value="' + form["name"] + '"' in r.text  # the form keeps what was typed
    assert list_users(engine) == before


def test_disable_enable_and_reset_password(admin):
    c, app, _ = admin
    victim = client(app)
    assert login(victim, "inspector").status_code == 303
    assert c.post("/admin/users/inspector/disable", data={"csrf_token": csrf_of(c)}).status_code == 303
    assert victim.get("/account").status_code == 303  # its session ended
    assert login(client(app), "inspector").status_code == 401
    assert c.post("/admin/users/inspector/enable", data={"csrf_token": csrf_of(c)}).status_code == 303
    assert login(victim, "inspector").status_code == 303
    r = c.post("/admin/users/inspector/password", data={"csrf_token": csrf_of(c), "password": "a brand new passphrase"})
    assert r.status_code == 303
    assert victim.get("/account").status_code == 303  # a new password ends the sessions
    assert login(client(app), "inspector").status_code == 401
    assert login(client(app), "inspector", "a brand new passphrase").status_code == 303
    r = c.post("/admin/users/inspector/password", data={"csrf_token": csrf_of(c), "password": "x"})
    assert r.status_code == 422
    assert c.post("/admin/users/nobody/disable", data={"csrf_token": csrf_of(c)}).status_code == 404


def test_other_roles_get_403_and_create_nothing(admin):
    from inspect_kit.accounts.service import list_users

    _, app, engine = admin
    before = list_users(engine)
    for role in ("coordinator", "inspector", "reviewer", "assessor"):
        c = client(app)
        login(c, role)
        assert c.get("/admin/users").status_code == 403
        assert c.get("/admin/config").status_code == 403
        r = _new_user(c, name=f"evil{role}", role="admin", unit="", cert="", password=PASSWORD)
        assert r.status_code == 403
    assert list_users(engine) == before


def test_config_page_shows_units_matters_and_settings(admin):
    c, _, _ = admin
    page = c.get("/admin/config").text
    assert "配置有效" in page
    assert "STHJ" in page and "STHJ-01" in page and "青山县" in page


def test_config_page_names_each_problem_with_file_and_key(demo_db, tmp_path):
    from tests.webkit import Clock, add_accounts

    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    matters = folder / "matters.toml"
    text = matters.read_text(encoding="utf-8")
    assert 'unit = "STHJ"' in text
    matters.write_text(text.replace('unit = "STHJ"', 'unit = "NOWHERE"', 1), encoding="utf-8")
    clock = Clock()
    add_accounts(demo_db, clock.now)
    c = client(make_app(demo_db, clock, config_dir=folder))
    login(c, "admin")
    r = c.get("/admin/config")
    assert r.status_code == 200
    assert "配置无效" in r.text and "matters.toml" in r.text and "NOWHERE" in r.text
    assert "matter[" in r.text  # the key of the bad entry


def test_an_admin_cannot_lock_everyone_out(admin):
    """Attack by mistake: an admin disabling their own account from the browser, or the last
    enabled admin being disabled (from the browser or `inspect user disable`), would leave nobody
    to manage accounts. Both are refused and change nothing; with a second admin, either may
    disable the other."""
    from inspect_kit.accounts.service import add_user, get_user, set_disabled
    from inspect_kit.errors import InspectError
    from tests.webkit import Clock

    c, app, engine = admin
    assert 'action="/admin/users/admin/disable"' not in c.get("/admin/users").text  # no button for oneself
    r = c.post("/admin/users/admin/disable", data={"csrf_token": csrf_of(c)})
    assert r.status_code == 422 and "不能停用自己" in r.text and not get_user(engine, "admin").disabled
    with pytest.raises(InspectError, match="last enabled admin"):
        set_disabled(engine, "admin", True, Clock().now)
    assert not get_user(engine, "admin").disabled
    add_user(engine, "second.admin", role="admin", password=PASSWORD, now=Clock().now)
    other = client(app)
    assert login(other, "second.admin").status_code == 303
    assert other.post("/admin/users/admin/disable", data={"csrf_token": csrf_of(other)}).status_code == 303
    assert get_user(engine, "admin").disabled
    r = other.post("/admin/users/second.admin/disable", data={"csrf_token": csrf_of(other)})
    assert r.status_code == 422 and not get_user(engine, "second.admin").disabled
    set_disabled(engine, "admin", False, Clock().now)  # enabling is never refused
    set_disabled(engine, "second.admin", True, Clock().now)  # now the first one is left
    with pytest.raises(InspectError, match="last enabled admin"):
        set_disabled(engine, "admin", True, Clock().now)
