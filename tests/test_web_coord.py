"""The coordinator's pages: registry upload (dry run, then confirm), prepare → draw meeting → bundle,
assign and substitute, publish; the unit scope (another unit's matter is 404). SQLite only: these
pages call the same services the CLI tests run on both backends."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import write_csv
from tests.webkit import PASSWORD, Clock, add_accounts, client, csrf_of, login, make_app

SEED = "59302 18447 90321 55812 7731"


@pytest.fixture
def db_url(tmp_path):
    """SQLite only (overrides conftest's backend matrix): the web layer adds no SQL of its own here
    beyond the review query, which test_findings-level code covers on both backends."""
    return f"sqlite:///{tmp_path / 'coord.db'}"


@pytest.fixture
def web(demo_db, tmp_path):
    from inspect_kit.accounts.service import add_user

    clock = Clock()
    add_accounts(demo_db, clock.now)
    add_user(demo_db, "coord-scjg", password=PASSWORD, now=clock.now, role="coordinator", unit_code="SCJG")
    app = make_app(demo_db, clock, notices_dir=tmp_path / "notices", max_upload_bytes=200_000)
    c = client(app)
    assert login(c, "coordinator").status_code == 303
    return demo_db, clock, c, csrf_of(c)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _upload(c, token, kind, path):
    with open(path, "rb") as f:
        return c.post(
            "/coord/registry",
            data={"kind": kind, "csrf_token": token},
            files={"file": (path.name, f, "text/csv")},
        )


INSPECTOR_HEAD = ["执法证号", "姓名", "所属部门", "人员类别", "状态", "证件有效期起", "证件有效期至", "执法领域"]


def test_bad_registry_file_shows_row_and_column_and_writes_nothing(web, tmp_path):
    from inspect_kit.storage.models import ImportBatch, Inspector

    engine, _, c, token = web
    before = (_count(engine, Inspector.__table__), _count(engine, ImportBatch.__table__))
    bad = write_csv(
        tmp_path / "inspectors.csv",
        [
            INSPECTOR_HEAD,
            ["360199ST9001", "新人甲", "STHJ", "执法人员", "在岗", "2024-01-01", "2028-12-31", "STHJ-01"],
            ["360199ST9002", "新人乙", "STHJ", "执法人员", "在岗", "2027-01-01", "2025-12-31", "STHJ-01"],
            ["360199SC9003", "别人丙", "SCJG", "执法人员", "在岗", "2024-01-01", "2028-12-31", "SCJG-01"],
        ],
    )
    r = _upload(c, token, "inspectors", bad)
    assert r.status_code == 422
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    rows = {(int(n), col) for n, col, _ in cells}
    assert (3, "证件有效期至") in rows  # the certificate expiring before it is valid
    assert (4, "所属部门") in rows  # another unit's officer: a coordinator imports its own unit only
    assert "/coord/registry/confirm" not in r.text
    assert (_count(engine, Inspector.__table__), _count(engine, ImportBatch.__table__)) == before


def test_good_registry_file_dry_runs_then_imports_on_confirm(web, tmp_path):
    from inspect_kit.storage.models import ImportBatch, Inspector

    engine, _, c, token = web
    good = write_csv(
        tmp_path / "inspectors.csv",
        [INSPECTOR_HEAD, ["360199ST9001", "新人甲", "STHJ", "执法人员", "在岗", "2024-01-01", "2028-12-31", "STHJ-01"]],
    )
    n = _count(engine, Inspector.__table__)
    r = _upload(c, token, "inspectors", good)
    assert r.status_code == 200 and "试导入" in r.text and "新增 1" in r.text
    assert _count(engine, Inspector.__table__) == n  # the dry run wrote nothing
    form = dict(re.findall(r'name="(kind|sha|suffix|filename)" value="([^"]*)"', r.text))
    r = c.post("/coord/registry/confirm", data={**form, "csrf_token": token})
    assert r.status_code == 200 and "已导入" in r.text
    assert _count(engine, Inspector.__table__) == n + 1
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.by).order_by(ImportBatch.id.desc())).scalar() == "coordinator"
    # the kept file is gone: a second confirm cannot import it twice
    assert c.post("/coord/registry/confirm", data={**form, "csrf_token": token}).status_code == 422
    # a forged key is refused, never a path
    assert c.post("/coord/registry/confirm", data={**form, "sha": "../../x", "csrf_token": token}).status_code == 422


def test_upload_over_the_size_limit_is_refused(web, tmp_path):
    _, _, c, token = web
    big = tmp_path / "big.csv"
    big.write_bytes(b"a" * 300_000)
    assert _upload(c, token, "entities", big).status_code == 413


def _prepare(c, token, matter="STHJ-01", period="2026Q1"):
    return c.post(
        "/coord/draw/prepare",
        data={
            "csrf_token": token,
            "matter": matter,
            "period": period,
            "seed_kind": "witnessed",
            "witnessed": "掷骰，县政务大厅",
            "witnesses": "王公证员、李监督员",
        },
    )


def _draw(c, token):
    r = _prepare(c, token)
    assert r.status_code == 200, r.text
    frame_sha = re.search(r'class="frame-sha">([0-9a-f]{64})<', r.text).group(1)
    assert re.search(r'class="commitment-code">[0-9a-f]{64}<', r.text)
    page = c.get("/coord/draw/meeting", params={"matter": "STHJ-01", "period": "2026Q1"})
    assert page.status_code == 200 and 'class="projector"' in page.text and frame_sha in page.text
    assert 'hx-post="/coord/draw/run"' in page.text
    r = c.post(
        "/coord/draw/run",
        data={"csrf_token": token, "matter": "STHJ-01", "period": "2026Q1", "frame_sha256": frame_sha, "seed": SEED},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "<html" not in r.text  # a fragment for htmx to swap in
    return frame_sha, r


def test_prepare_run_shows_the_sample_and_the_bundle_verifies(web):
    from inspect_kit.draw.service import Expected, verify_bundle

    engine, _, c, token = web
    frame_sha, r = _draw(c, token)
    assert "STHJ-01-2026Q1-001" in r.text
    link = re.search(r'href="(/coord/draw/bundle/\d+)"', r.text).group(1)
    b = c.get(link)
    assert b.status_code == 200 and "attachment" in b.headers["content-disposition"]
    bundle = json.loads(b.content)
    report = verify_bundle(bundle, Expected(frame_sha256=frame_sha, seed=SEED))
    assert report.ok, report
    # the meeting screen now shows the sample, not the form
    again = c.get("/coord/draw/meeting", params={"matter": "STHJ-01", "period": "2026Q1"})
    assert "STHJ-01-2026Q1-001" in again.text and 'hx-post="/coord/draw/run"' not in again.text


def test_a_wrong_frame_hash_draws_nothing(web):
    from inspect_kit.storage.models import Draw

    engine, _, c, token = web
    _prepare(c, token)
    r = c.post(
        "/coord/draw/run",
        data={"csrf_token": token, "matter": "STHJ-01", "period": "2026Q1", "frame_sha256": "0" * 64, "seed": SEED},
    )
    assert r.status_code == 422 and _count(engine, Draw.__table__) == 0


def test_another_units_coordinator_gets_404(web):
    engine, clock, c, token = web
    _frame, r = _draw(c, token)
    link = re.search(r'href="(/coord/draw/bundle/\d+)"', r.text).group(1)
    other = client(c.app)
    login(other, "coord-scjg")
    t = csrf_of(other)
    assert other.get("/coord/draw/meeting", params={"matter": "STHJ-01", "period": "2026Q1"}).status_code == 404
    assert other.get(link).status_code == 404
    assert _prepare(other, t).status_code == 404
    r = other.post(
        "/coord/assign", data={"csrf_token": t, "matter": "STHJ-01", "period": "2026Q1", "seed": SEED + " team"}
    )
    assert r.status_code == 404
    r = other.post(
        "/coord/assign/substitute",
        data={"csrf_token": t, "task_no": "STHJ-01-2026Q1-001", "cert_no": "360199ST0001", "reason": "病假"},
    )
    assert r.status_code == 404
    assert "STHJ-01" not in other.get("/coord").text  # its dashboard lists its own matters only


def test_assign_and_substitute(web):
    from inspect_kit.assign import service as assign

    engine, _, c, token = web
    _draw(c, token)
    r = c.post(
        "/coord/assign",
        data={
            "csrf_token": token,
            "matter": "STHJ-01",
            "period": "2026Q1",
            "seed": SEED + " team",
            "seed_source": "掷骰",
        },
    )
    assert r.status_code == 200 and 'id="assigned"' in r.text
    (a,) = assign.current_assignments(engine, "2026Q1", "STHJ-01")
    team = a.teams[0]
    leaving = team.officers[0].cert_no
    r = c.post(
        "/coord/assign/substitute",
        data={"csrf_token": token, "task_no": team.task_no, "cert_no": leaving, "reason": "病假"},
    )
    assert r.status_code == 200 and 'id="substitution"' in r.text
    (a,) = assign.current_assignments(engine, "2026Q1", "STHJ-01")
    now_team = next(t for t in a.teams if t.task_no == team.task_no)
    assert leaving not in {m.cert_no for m in now_team.officers}


def test_dashboard_counts_the_drawn_tasks(web):
    _, _, c, token = web
    _draw(c, token)
    page = c.get("/coord", params={"period": "2026Q1"})
    assert page.status_code == 200
    row = re.search(r"<td>STHJ-01 [^<]*</td>\s*<td>(\d+)</td><td>(\d+)</td>", page.text)
    assert row and int(row.group(1)) > 0 and row.group(2) == "0"
    assert c.get("/coord").status_code == 200  # the current quarter by the app clock (2026Q1)


def test_publish_writes_the_draw_notice(web, tmp_path):
    from inspect_kit.storage.models import Notice

    engine, _, c, token = web
    _draw(c, token)
    r = c.post("/coord/publish", data={"csrf_token": token, "kind": "draw", "period": "2026Q1"})
    assert r.status_code == 200 and 'id="published"' in r.text, r.text
    assert _count(engine, Notice.__table__) == 1
    assert list((tmp_path / "notices").glob("*.pdf"))
    nid = re.search(r'href="/coord/publish/(\d+)\.pdf"', r.text).group(1)
    pdf = c.get(f"/coord/publish/{nid}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    other = client(c.app)
    login(other, "coord-scjg")
    assert other.get(f"/coord/publish/{nid}.pdf").status_code == 404


def test_results_notice_waits_for_the_review(web):
    """configs/settings.toml sets [findings] review = "required": the library publishes only
    approved results, from the web exactly as from `inspect publish results`."""
    import datetime as dt

    from inspect_kit.findings import review
    from inspect_kit.findings.service import add_finding
    from inspect_kit.storage.models import Notice

    engine, clock, c, token = web
    _draw(c, token)
    clock.now = dt.datetime(2026, 3, 10, 9, 0)
    login(c, "coordinator")  # the earlier session has expired meanwhile
    token = csrf_of(c)
    no = "STHJ-01-2026Q1-001"
    values = {"inspection_date": "2026-03-06", "results": "R01", "follow_up": "F01", "recorded_by": "张三"}
    add_finding(engine, no, values, as_of=clock.now.date(), now=clock.now, by="inspector")
    data = {"csrf_token": token, "kind": "results", "period": "2026Q1"}
    r = c.post("/coord/publish", data=data)  # recorded but not approved: refused, naming the task
    assert r.status_code == 422 and no in r.text and "approved" in r.text
    assert _count(engine, Notice.__table__) == 0
    review.submit(engine, no, "inspector", clock.now)
    review.approve(engine, no, "reviewer", clock.now)
    r = c.post("/coord/publish", data={**data, "allow_incomplete": "true"})  # the others stay 待录入
    assert r.status_code == 200 and 'id="published"' in r.text, r.text
    assert _count(engine, Notice.__table__) == 1
    page = c.get("/coord", params={"period": "2026Q1"})
    row = re.search(r"<td>STHJ-01 [^<]*</td>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page.text)
    assert row.groups()[1:] == ("1", "1", "1")  # recorded, reviewed, published


def test_dashboard_colours_publicity_deadlines_soon_then_late(web):
    import datetime as dt

    from inspect_kit.findings.service import add_finding

    engine, clock, c, token = web
    _draw(c, token)
    values = {"inspection_date": "2026-03-03", "results": "R01", "follow_up": "F01", "recorded_by": "张三"}
    add_finding(engine, "STHJ-01-2026Q1-001", values, as_of=dt.date(2026, 3, 3), now=clock.now, by="inspector")

    def deadline_row(day: dt.date) -> str:
        clock.now = dt.datetime.combine(day, dt.time(9, 0))
        login(c, "coordinator")
        page = c.get("/coord", params={"period": "2026Q1"}).text
        return re.search(r'<tr class="([a-z]*)">\s*<td>[^<]*</td>\s*<td>结果公示</td>\s*<td>STHJ-01-2026Q1-001<', page)

    assert deadline_row(dt.date(2026, 3, 4)).group(1) == ""  # 19 working days left
    assert deadline_row(dt.date(2026, 3, 30)).group(1) == "soon"
    assert deadline_row(dt.date(2026, 4, 8)).group(1) == "late"


def test_every_write_names_the_logged_in_user_and_the_log_verifies(web):
    """Attribution: the frame, commitment, draw, assignment, substitute and notice a coordinator
    writes in the browser carry its name (and so does their logged content); CLI rows stay NULL."""
    from inspect_kit.assign import service as assign
    from inspect_kit.storage.models import Assignment, Commitment, Draw, Frame, Notice, TeamMember
    from inspect_kit.transparency.store import verify_log

    engine, _, c, token = web
    _draw(c, token)
    c.post(
        "/coord/assign",
        data={"csrf_token": token, "matter": "STHJ-01", "period": "2026Q1", "seed": SEED + " team"},
    )
    (a,) = assign.current_assignments(engine, "2026Q1", "STHJ-01")
    team = a.teams[0]
    c.post(
        "/coord/assign/substitute",
        data={"csrf_token": token, "task_no": team.task_no, "cert_no": team.officers[0].cert_no, "reason": "病假"},
    )
    c.post("/coord/publish", data={"csrf_token": token, "kind": "draw", "period": "2026Q1"})
    with engine.connect() as conn:
        for model in (Frame, Commitment, Draw, Assignment, Notice):
            assert set(conn.execute(select(model.by)).scalars()) == {"coordinator"}, model.__name__
        subs = conn.execute(select(TeamMember.by).where(TeamMember.role == "substitute")).scalars().all()
        assert subs == ["coordinator"]
        report = verify_log(conn)
    assert report.ok, report.problems


def test_uploads_never_confirmed_are_forgotten_after_a_day(web, tmp_path):
    import os
    import time

    from inspect_kit.web.pages import coordinator

    _, _, c, token = web
    folder = coordinator._upload_dir()
    stale, fresh = folder / ("0" * 64 + ".csv"), folder / ("1" * 64 + ".csv")
    for path in (stale, fresh):
        path.write_text("x", encoding="utf-8")
    old = time.time() - coordinator.UPLOAD_TTL_SECONDS - 60
    os.utime(stale, (old, old))
    good = tmp_path / "ok.csv"
    good.write_text("执法证号,姓名\n", encoding="utf-8")
    _upload(c, token, "inspectors", good)
    assert not stale.exists() and fresh.exists()
    fresh.unlink()
