"""The JSON API under /api: token and session authentication through the gates, the same row-level
scoping as the pages (outside the scope is 404), findings checked as `findings add` checks them
(422 naming each field, nothing written), attribution to the token's user, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.webkit import bearer, client, csrf_of, demo_accounts_db, demo_app, login


@pytest.fixture(scope="module")
def template(demo_run, tmp_path_factory):
    return demo_accounts_db(demo_run, tmp_path_factory.mktemp("api"))


@pytest.fixture
def api(template, tmp_path):
    app, engine, clock = demo_app(template, tmp_path)
    return client(app), engine, clock


def _all_tasks(c, engine, clock):
    return c.get("/api/tasks", headers=bearer(engine, "admin", clock.now)).json()


def _history(engine, task_no):
    from inspect_kit.findings.service import finding_history

    return finding_history(engine, task_no)


def test_token_opens_the_api_and_no_token_is_401(api):
    c, engine, clock = api
    r = c.get("/api/me", headers=bearer(engine, "inspector", clock.now))
    assert r.status_code == 200
    assert r.json() == {
        "name": "inspector",
        "role": "inspector",
        "role_label": "执法检查人员",
        "unit_code": None,
        "cert_no": "360199ST0001",
        "via": "token",
    }
    for headers in ({}, {"Authorization": "Bearer ik_forged"}, {"Authorization": "Basic eDp5"}):
        r = c.get("/api/me", headers=headers)
        assert r.status_code == 401 and r.json()["detail"]


def test_revoked_and_expired_tokens_get_401(api):
    from inspect_kit.accounts.service import revoke_tokens, set_disabled

    c, engine, clock = api
    revoked = bearer(engine, "inspector", clock.now)
    assert c.get("/api/me", headers=revoked).status_code == 200
    revoke_tokens(engine, "inspector", clock.now)
    assert c.get("/api/me", headers=revoked).status_code == 401

    short = bearer(engine, "inspector", clock.now, valid_for=dt.timedelta(hours=1))
    assert c.get("/api/tasks", headers=short).status_code == 200
    clock.advance(hours=1)
    assert c.get("/api/tasks", headers=short).status_code == 401

    fresh = bearer(engine, "assessor", clock.now)
    set_disabled(engine, "assessor", True, clock.now)
    assert c.get("/api/me", headers=fresh).status_code == 401


def test_a_token_cannot_open_html_pages(api):
    c, engine, clock = api
    for name, path in (("assessor", "/assess"), ("admin", "/admin/users"), ("inspector", "/account")):
        r = c.get(path, headers=bearer(engine, name, clock.now))
        assert r.status_code == 403, path


def test_an_inspector_sees_only_the_tasks_of_its_teams(api):
    c, engine, clock = api
    mine = bearer(engine, "inspector", clock.now)
    own = c.get("/api/tasks", headers=mine).json()
    assert own, "the demo inspector is on at least one team"
    for t in own:
        detail = c.get(f"/api/tasks/{t['task_no']}", headers=mine).json()
        assert "360199ST0001" in [m["cert_no"] for m in detail["team"]]
    others = [t for t in _all_tasks(c, engine, clock) if t["task_no"] not in {o["task_no"] for o in own}]
    assert others
    other = others[0]["task_no"]
    r = c.get(f"/api/tasks/{other}", headers=mine)
    assert r.status_code == 404 and "detail" in r.json()
    before = _history(engine, other)
    r = c.post(f"/api/tasks/{other}/finding", headers=mine, json={"notes": "不该写入"})
    assert r.status_code == 404
    assert _history(engine, other) == before
    # the draws an inspector sees are only those of its tasks
    draws = c.get("/api/draws", params={"year": 2026}, headers=mine).json()
    assert {d["id"] for d in draws} == {t["draw_id"] for t in own}


def test_a_coordinator_sees_its_unit_only_and_teams_stay_inside_the_unit(api):
    from inspect_kit.config import load_config
    from tests.conftest import CONFIGS

    c, engine, clock = api
    coord = bearer(engine, "coordinator", clock.now)
    tasks = c.get("/api/tasks", headers=coord).json()
    unit_of = {m.code: m.unit for m in load_config(CONFIGS).matters}
    assert tasks and {unit_of[t["matter"]] for t in tasks} == {"STHJ"}
    foreign = next(t for t in _all_tasks(c, engine, clock) if unit_of[t["matter"]] != "STHJ")
    assert c.get(f"/api/tasks/{foreign['task_no']}", headers=coord).status_code == 404
    assert c.get(f"/api/draws/{foreign['matter']}/{foreign['period']}", headers=coord).status_code == 404
    assert c.get(f"/api/draws/{foreign['matter']}/{foreign['period']}/bundle", headers=coord).status_code == 404
    # inside the unit: the team; the assessor (outside every unit) sees the task without it
    assert c.get(f"/api/tasks/{tasks[0]['task_no']}", headers=coord).json()["team"]
    seen = c.get(f"/api/tasks/{tasks[0]['task_no']}", headers=bearer(engine, "assessor", clock.now)).json()
    assert seen["team"] is None


def test_draw_summary_links_its_bundle(api):
    c, engine, clock = api
    coord = bearer(engine, "coordinator", clock.now)
    d = c.get("/api/draws", params={"year": 2026}, headers=coord).json()[0]
    detail = c.get(f"/api/draws/{d['matter']}/{d['period']}", headers=coord).json()
    bundle = c.get(detail["bundle_url"], headers=coord).json()
    assert bundle["matter"] == d["matter"] and bundle["period"] == d["period"]
    assert len(bundle["sample"]) == detail["n_selected"]
    assert c.get("/api/draws/NOPE/2026Q1", headers=coord).status_code == 404


def test_a_bad_finding_is_422_naming_each_field_and_writes_nothing(api):
    c, engine, clock = api
    mine = bearer(engine, "inspector", clock.now)
    task_no = c.get("/api/tasks", headers=mine).json()[0]["task_no"]
    before = _history(engine, task_no)
    r = c.post(
        f"/api/tasks/{task_no}/finding",
        headers=mine,
        json={"inspection_date": "2026-03-40", "follow_up": ["无此处置"]},
    )
    assert r.status_code == 422
    fields = {p["field"] for p in r.json()["detail"]}
    assert {"inspection_date", "follow_up"} <= fields
    r = c.post(f"/api/tasks/{task_no}/finding", headers=mine, json={"not_a_field": "x"})
    assert r.status_code == 422 and "not_a_field" in r.text
    assert _history(engine, task_no) == before


def test_a_finding_is_attributed_to_the_tokens_user(api):
    c, engine, clock = api
    mine = bearer(engine, "inspector", clock.now)
    task_no = c.get("/api/tasks", headers=mine).json()[0]["task_no"]
    r = c.post(f"/api/tasks/{task_no}/finding", headers=mine, json={"notes": "现场复核，补充照片"})
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "updated" and r.json()["changes"]["notes"][1] == "现场复核，补充照片"
    last = _history(engine, task_no)[-1]
    assert (last.by, last.source) == ("inspector", "api")
    assert c.get(f"/api/tasks/{task_no}", headers=mine).json()["finding"]["notes"] == "现场复核，补充照片"
    # reviewers and assessors do not record results
    for role in ("reviewer", "assessor"):
        assert (
            c.post(f"/api/tasks/{task_no}/finding", headers=bearer(engine, role, clock.now), json={}).status_code == 403
        )


def test_session_auth_works_and_needs_csrf_for_writes(api):
    c, engine, clock = api
    assert login(c, "inspector").status_code == 303
    assert c.get("/api/me").json()["via"] == "session"
    task_no = c.get("/api/tasks").json()[0]["task_no"]
    assert c.post(f"/api/tasks/{task_no}/finding", json={"notes": "x"}).status_code == 403
    r = c.post(f"/api/tasks/{task_no}/finding", json={"notes": "会话录入"}, headers={"X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 200, r.text


def test_score_for_assessor_and_admin(api):
    c, engine, clock = api
    r = c.get("/api/score/2026", headers=bearer(engine, "assessor", clock.now))
    assert r.status_code == 200
    body = r.json()
    assert body["year"] == 2026 and body["ranking"] and {"code", "rank", "total", "grade"} <= set(body["ranking"][0])
    assert c.get("/api/score/2026", headers=bearer(engine, "admin", clock.now)).status_code == 200
    assert c.get("/api/score/2026", headers=bearer(engine, "inspector", clock.now)).status_code == 403
    assert c.get("/api/score/1999", headers=bearer(engine, "assessor", clock.now)).status_code == 404


def test_openapi_is_json_and_lists_every_api_route_with_models(api):
    import json

    from fastapi.routing import APIRoute

    from inspect_kit.web.access import flat_routes

    c, _, _ = api
    r = c.get("/openapi.json")
    doc = json.loads(r.text)
    api_routes = {
        (m.lower(), path)
        for path, route in flat_routes(c.app.routes)
        if isinstance(route, APIRoute) and path.startswith("/api/")
        for m in route.methods or ()
    }
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert api_routes and api_routes <= listed
    assert all(p.startswith("/api/") for p in doc["paths"]), "pages stay out of the API description"
    schemas = doc["components"]["schemas"]
    assert {"TaskDetail", "DrawDetail", "FindingIn", "ScoreOut", "Me"} <= set(schemas)
    ok = doc["paths"]["/api/tasks/{task_no}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/TaskDetail"}


def test_checklist_items_through_the_api(api):
    """The API takes item results (检查表) as the CLI's --item does: 不符合 only with a problem
    category and not beside 未发现问题, no unknown item, no unknown result (422 naming the item,
    nothing written); a good set is stored and read back, and one item given changes that item."""
    from inspect_kit.config import load_config
    from tests.conftest import CONFIGS

    c, engine, clock = api
    mine = bearer(engine, "coordinator", clock.now)  # STHJ's coordinator records too
    task = next(t for t in c.get("/api/tasks", headers=mine).json() if t["matter"] == "STHJ-01")
    codes = [i.code for i in load_config(CONFIGS).matter("STHJ-01").checklist]
    url = f"/api/tasks/{task['task_no']}/finding"
    before = _history(engine, task["task_no"])
    every = {code: {"result": "符合"} for code in codes}
    failing = every | {codes[1]: {"result": "不符合", "note": "台账缺失"}}  # no category
    r = c.post(url, headers=mine, json={"results": "未发现问题", "items": failing})
    assert r.status_code == 422 and f"item:{codes[1]}" in {p["field"] for p in r.json()["detail"]}
    r = c.post(url, headers=mine, json={"items": {"ZZ": {"result": "符合"}} | every})
    assert r.status_code == 422 and "ZZ" in r.text
    r = c.post(url, headers=mine, json={"items": {codes[0]: {"result": "maybe"}}})
    assert r.status_code == 422 and f"item:{codes[0]}" in {p["field"] for p in r.json()["detail"]}
    r = c.post(url, headers=mine, json={"items": {codes[0]: {"result": "符合", "colour": "red"}}})
    assert r.status_code == 422 and "colour" in r.text
    assert _history(engine, task["task_no"]) == before
    good = every | {codes[-1]: {"result": "不涉及", "note": "无自动监测设备"}}
    r = c.post(url, headers=mine, json={"results": "未发现问题", "items": good})
    assert r.status_code == 200, r.text
    stored = c.get(f"/api/tasks/{task['task_no']}", headers=mine).json()["finding"]
    assert stored[f"item:{codes[-1]}"] == "不涉及：无自动监测设备" and stored[f"item:{codes[0]}"] == "符合"
    r = c.post(url, headers=mine, json={"items": {codes[0]: {"result": "符合", "note": "复核"}}})
    assert r.status_code == 200 and list(r.json()["changes"]) == ["item_results"]
    stored = c.get(f"/api/tasks/{task['task_no']}", headers=mine).json()["finding"]
    assert stored[f"item:{codes[0]}"] == "符合：复核" and stored[f"item:{codes[-1]}"] == "不涉及：无自动监测设备"
