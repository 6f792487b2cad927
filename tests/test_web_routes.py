"""Every route × every role: allowed or denied, as the table below says.

The table is written here, apart from the code: a route added to the application without a line
in it fails `test_every_route_is_in_the_table`, and a route whose gate lets in a role the table
denies (or keeps out one it allows) fails `test_route_role_matrix`.

Allowed means the gate let the request through (any answer but 401, 403 or the login redirect);
the page may still answer 404 or 422 for the sample values. Denied means 403 for a logged-in role,
the login page (303) for an anonymous visitor of a staff page, 401 under /api.
"""

from __future__ import annotations

import pytest

from tests.webkit import ACCOUNTS, Clock, add_accounts, client, csrf_of, login, make_app

PUBLIC = "public"
STAFF = frozenset(ACCOUNTS)
ADMIN, COORD, INSP, REV, ASSESS = "admin", "coordinator", "inspector", "reviewer", "assessor"

# (method, route path) → (who may open it, a sample path to request)
TABLE: dict[tuple[str, str], tuple[object, str]] = {
    ("GET", "/"): (PUBLIC, "/"),
    ("GET", "/login"): (PUBLIC, "/login"),
    ("POST", "/login"): (PUBLIC, "/login"),
    ("POST", "/logout"): (STAFF, "/logout"),
    ("GET", "/account"): (STAFF, "/account"),
    ("GET", "/coord"): ({COORD}, "/coord"),
    ("GET", "/coord/registry"): ({COORD}, "/coord/registry"),
    ("POST", "/coord/registry"): ({COORD}, "/coord/registry"),
    ("POST", "/coord/registry/confirm"): ({COORD}, "/coord/registry/confirm"),
    ("GET", "/coord/draw/prepare"): ({COORD}, "/coord/draw/prepare"),
    ("POST", "/coord/draw/prepare"): ({COORD}, "/coord/draw/prepare"),
    ("GET", "/coord/draw/meeting"): ({COORD}, "/coord/draw/meeting?matter=STHJ-01&period=2026Q1"),
    ("POST", "/coord/draw/run"): ({COORD}, "/coord/draw/run"),
    ("GET", "/coord/draw/bundle/{draw_id}"): ({COORD}, "/coord/draw/bundle/1"),
    ("GET", "/coord/assign"): ({COORD}, "/coord/assign"),
    ("POST", "/coord/assign"): ({COORD}, "/coord/assign"),
    ("POST", "/coord/assign/substitute"): ({COORD}, "/coord/assign/substitute"),
    ("GET", "/coord/publish"): ({COORD}, "/coord/publish"),
    ("POST", "/coord/publish"): ({COORD}, "/coord/publish"),
    ("GET", "/coord/publish/{notice_id}.pdf"): ({COORD}, "/coord/publish/1.pdf"),
    ("GET", "/my/tasks"): ({INSP}, "/my/tasks"),
    ("GET", "/my/tasks/{task_no}"): ({INSP}, "/my/tasks/T-1"),
    ("POST", "/my/tasks/{task_no}/result"): ({INSP}, "/my/tasks/T-1/result"),
    ("POST", "/my/tasks/{task_no}/evidence"): ({INSP}, "/my/tasks/T-1/evidence"),
    ("GET", "/my/tasks/{task_no}/evidence/{evidence_id}"): ({INSP}, "/my/tasks/T-1/evidence/1"),
    ("POST", "/my/tasks/{task_no}/submit"): ({INSP}, "/my/tasks/T-1/submit"),
    ("GET", "/review"): ({REV}, "/review"),
    ("GET", "/review/{task_no}"): ({REV}, "/review/T-1"),
    ("POST", "/review/{task_no}/approve"): ({REV}, "/review/T-1/approve"),
    ("POST", "/review/{task_no}/return"): ({REV}, "/review/T-1/return"),
    ("GET", "/review/{task_no}/evidence/{evidence_id}"): ({REV}, "/review/T-1/evidence/1"),
    ("GET", "/assess"): ({ASSESS}, "/assess"),
    ("POST", "/assess/values"): ({ASSESS}, "/assess/values"),
    ("POST", "/assess/runs"): ({ASSESS}, "/assess/runs"),
    ("GET", "/assess/runs/{year}"): ({ASSESS}, "/assess/runs/2026"),
    ("GET", "/assess/runs/{year}/units/{code}"): ({ASSESS}, "/assess/runs/2026/units/STHJ"),
    ("GET", "/assess/runs/{year}/report.pdf"): ({ASSESS}, "/assess/runs/2026/report.pdf"),
    ("GET", "/admin/users"): ({ADMIN}, "/admin/users"),
    ("POST", "/admin/users"): ({ADMIN}, "/admin/users"),
    ("POST", "/admin/users/{name}/disable"): ({ADMIN}, "/admin/users/nobody/disable"),
    ("POST", "/admin/users/{name}/enable"): ({ADMIN}, "/admin/users/nobody/enable"),
    ("POST", "/admin/users/{name}/password"): ({ADMIN}, "/admin/users/nobody/password"),
    ("GET", "/admin/config"): ({ADMIN}, "/admin/config"),
    ("GET", "/api/me"): (STAFF, "/api/me"),
    ("GET", "/api/draws"): (STAFF, "/api/draws?year=2026"),
    ("GET", "/api/draws/{matter}/{period}"): (STAFF, "/api/draws/STHJ-01/2026Q1"),
    ("GET", "/api/draws/{matter}/{period}/bundle"): (STAFF, "/api/draws/STHJ-01/2026Q1/bundle"),
    ("GET", "/api/tasks"): (STAFF, "/api/tasks?period=2026Q1"),
    ("GET", "/api/tasks/{task_no}"): (STAFF, "/api/tasks/STHJ-01-2026Q1-001"),
    ("POST", "/api/tasks/{task_no}/finding"): ({INSP, COORD}, "/api/tasks/STHJ-01-2026Q1-001/finding"),
    ("GET", "/api/score/{year}"): ({ASSESS, ADMIN}, "/api/score/2026"),
    ("GET", "/public"): (PUBLIC, "/public"),
    ("GET", "/public/notices/{notice_id}.pdf"): (PUBLIC, "/public/notices/1.pdf"),
    ("GET", "/public/draws/{matter}/{period}"): (PUBLIC, "/public/draws/STHJ-01/2026Q1"),
    ("GET", "/public/bundles/{matter}/{period}.json"): (PUBLIC, "/public/bundles/STHJ-01/2026Q1.json"),
    ("GET", "/public/log"): (PUBLIC, "/public/log"),
    ("GET", "/public/scores"): (PUBLIC, "/public/scores"),
    ("GET", "/public/burden"): (PUBLIC, "/public/burden"),
    ("GET", "/public/burden/{year}"): (PUBLIC, "/public/burden/2026"),
    ("GET", "/public/search"): (PUBLIC, "/public/search?q=青山"),
    ("GET", "/public/verify"): (PUBLIC, "/public/verify"),
    ("GET", "/public/tasks/{task_no}"): (PUBLIC, "/public/tasks/STHJ-01-2026Q1-001"),
    ("GET", "/tasks/{task_no}"): (PUBLIC, "/tasks/STHJ-01-2026Q1-001?code=X"),
}


def _app_routes(app):
    from fastapi.routing import APIRoute

    from inspect_kit.web.access import flat_routes

    out = {}
    for path, route in flat_routes(app.routes):
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                if method != "HEAD":
                    out[(method, path)] = route
    return out


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory):
    """One demo database with an account per role (SQLite: the gates do not depend on the backend)."""

    from inspect_kit.config import load_config
    from inspect_kit.config.sync import sync_config
    from inspect_kit.demo import REGISTRY_FILES
    from inspect_kit.registry.importer import ImportOptions, import_registry
    from inspect_kit.storage.db import init_database, make_engine
    from tests.conftest import CONFIGS, NOW, REGISTRIES

    path = tmp_path_factory.mktemp("routes") / "web.db"
    engine = make_engine(f"sqlite:///{path}")
    init_database(engine)
    cfg = load_config(CONFIGS)
    sync_config(engine, cfg, NOW)
    for kind, name in REGISTRY_FILES:
        import_registry(engine, kind, REGISTRIES / name, ImportOptions(now=NOW, known_categories=cfg.categories))
    clock = Clock()
    add_accounts(engine, clock.now)
    return make_app(engine, clock)


def test_every_route_is_in_the_table(matrix_app):
    routes = set(_app_routes(matrix_app))
    assert routes - set(TABLE) == set(), "routes without a line in TABLE (add who may open them)"
    assert set(TABLE) - routes == set(), "TABLE names routes the application does not have"


def _denied(response, role: str | None, path: str) -> bool:
    if role is None:
        if path.startswith("/api/"):
            return response.status_code == 401
        return response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    return response.status_code == 403


@pytest.mark.parametrize("role", [None, *sorted(ACCOUNTS)])
def test_route_role_matrix(matrix_app, role):
    c = client(matrix_app)
    token = None
    if role:
        assert login(c, role).status_code == 303
        token = csrf_of(c)
    wrong = []
    for (method, route_path), (allowed, sample) in sorted(TABLE.items()):
        if (method, route_path) in {("POST", "/logout")}:
            continue  # would end this client's session; checked on its own below
        headers = {"X-CSRF-Token": token} if token and method != "GET" else {}
        r = c.request(method, sample, headers=headers)
        if allowed == PUBLIC:  # no role can be kept out; a 403 here is the form's own token (POST /login)
            if _denied(r, None, sample):
                wrong.append(f"{method} {sample}: the public route asks {role or 'anonymous'} to log in")
            continue
        may = role is not None and role in allowed  # type: ignore[operator]
        if may == _denied(r, role, sample):
            wrong.append(
                f"{method} {sample}: {r.status_code} for {role or 'anonymous'} (table: {'allowed' if may else 'denied'})"
            )
    assert not wrong, "\n".join(wrong)


def test_logout_route_is_staff_only(matrix_app):
    c = client(matrix_app)
    assert _denied(c.post("/logout"), None, "/logout")
    login(c, "assessor")
    assert c.post("/logout", headers={"X-CSRF-Token": csrf_of(c)}).status_code == 303


def test_csrf_is_checked_on_every_unsafe_staff_route(matrix_app):
    """With a valid session but no CSRF token, every POST/PUT/PATCH/DELETE staff route answers 403."""
    leaks = []
    for (method, _route), (allowed, sample) in sorted(TABLE.items()):
        if method == "GET" or allowed == PUBLIC or sample.startswith("/api/"):
            continue
        role = sorted(allowed)[0]  # type: ignore[arg-type]
        c = client(matrix_app)
        login(c, role)
        r = c.request(method, sample, data={"csrf_token": "forged"})
        if r.status_code != 403:
            leaks.append(f"{method} {sample} as {role}: {r.status_code}")
    assert not leaks, "\n".join(leaks)
