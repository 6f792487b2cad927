"""The field and review pages: an inspector records, submits; a reviewer returns with a reason; the
inspector sees it, corrects, resubmits; the reviewer approves. Scope (another team's task, another
unit's reviewer: 404), field errors from the same validation as `findings add`, hostile uploads,
and the offline draft script (served, no inline script)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from inspect_kit.accounts.service import add_user
from inspect_kit.storage.models import Evidence, EvidenceBlob, Finding, FindingReview
from tests.test_findings_review import JPEG, PNG, field  # noqa: F401  (the fixture)
from tests.webkit import ACCOUNTS, PASSWORD, Clock, client, csrf_of, login, make_app


@pytest.fixture
def web(field):  # noqa: F811  (the fixture imported above)
    engine, nos = field
    clock = Clock()
    for name in ("inspector", "reviewer"):
        add_user(engine, name, password=PASSWORD, now=clock.now, **ACCOUNTS[name])
    add_user(engine, "inspector2", role="inspector", password=PASSWORD, now=clock.now, cert_no="360199ST0002")
    add_user(engine, "reviewer-scjg", role="reviewer", password=PASSWORD, now=clock.now, unit_code="SCJG")
    return make_app(engine, clock, max_upload_bytes=1000), engine, nos, clock


def done(r, where: str) -> bool:
    """A redirect to where the write leads (not to the login page)."""
    return r.status_code == 303 and r.headers["location"] == where


def as_(app, name):
    c = client(app)
    assert login(c, name).status_code == 303
    return c, csrf_of(c)


RESULT = {
    "inspection_start": "2026-03-01",
    "inspection_end": "2026-03-01",
    "results": ["R01"],
    "follow_up": ["F01"],
}


def test_full_review_cycle_through_the_pages(web):
    app, engine, (no, other), clock = web
    insp, tok = as_(app, "inspector")
    page = insp.get("/my/tasks")
    assert no in page.text and other not in page.text and "未录入" in page.text
    assert 'src="/static/draft.js"' in insp.get(f"/my/tasks/{no}").text
    # A refused result: the problem is shown next to its field, nothing is written.
    bad = insp.post(f"/my/tasks/{no}/result", data={**RESULT, "results": [], "csrf_token": tok})
    assert bad.status_code == 422 and 'id="err-results"' in bad.text
    r = insp.post(f"/my/tasks/{no}/result", data={**RESULT, "csrf_token": tok})
    assert done(r, f"/my/tasks/{no}"), r.text
    assert "草稿" in insp.get(f"/my/tasks/{no}").text
    assert done(insp.post(f"/my/tasks/{no}/submit", data={"csrf_token": tok}), f"/my/tasks/{no}")
    assert "待审核" in insp.get(f"/my/tasks/{no}").text

    rev, rtok = as_(app, "reviewer")
    assert no in rev.get("/review").text
    page = rev.get(f"/review/{no}")
    assert page.status_code == 200 and "审核通过" in page.text
    assert rev.post(f"/review/{no}/return", data={"reason": "", "csrf_token": rtok}).status_code == 422
    r = rev.post(f"/review/{no}/return", data={"reason": "检查结束日期有误", "revision": "1", "csrf_token": rtok})
    assert done(r, "/review")

    page = insp.get(f"/my/tasks/{no}")
    assert re.search(r'id="return-reason">检查结束日期有误<', page.text) and "退回" in page.text
    fixed = {**RESULT, "inspection_end": "2026-03-02", "csrf_token": tok}
    assert done(insp.post(f"/my/tasks/{no}/result", data=fixed), f"/my/tasks/{no}")
    assert done(insp.post(f"/my/tasks/{no}/submit", data={"csrf_token": tok}), f"/my/tasks/{no}")
    stale = rev.post(f"/review/{no}/approve", data={"revision": "1", "csrf_token": rtok})
    assert stale.status_code == 422  # the reviewer read revision 1; it is 2 now
    assert done(rev.post(f"/review/{no}/approve", data={"revision": "2", "csrf_token": rtok}), "/review")
    assert "已审核" in insp.get(f"/my/tasks/{no}").text
    assert no not in rev.get("/review").text
    with engine.connect() as c:
        steps = c.execute(select(FindingReview.action, FindingReview.by).order_by(FindingReview.id)).all()
    assert steps == [
        ("submit", "inspector"),
        ("return", "reviewer"),
        ("submit", "inspector"),
        ("approve", "reviewer"),
    ]


def test_other_teams_and_units_answer_404(web):
    app, engine, (no, other), clock = web
    insp, tok = as_(app, "inspector")
    assert insp.get(f"/my/tasks/{other}").status_code == 404
    assert insp.post(f"/my/tasks/{other}/result", data={**RESULT, "csrf_token": tok}).status_code == 404
    assert insp.post(f"/my/tasks/{other}/submit", data={"csrf_token": tok}).status_code == 404
    assert insp.get("/my/tasks/NO-SUCH-TASK").status_code == 404
    insp2, tok2 = as_(app, "inspector2")
    assert insp2.get(f"/my/tasks/{no}").status_code == 404
    assert insp2.get(f"/my/tasks/{other}").status_code == 200
    # an officer's upload cannot reach another team's task either
    r = insp2.post(f"/my/tasks/{no}/evidence", data={"csrf_token": tok2}, files={"file": ("a.jpg", JPEG)})
    assert r.status_code == 404
    assert done(insp.post(f"/my/tasks/{no}/result", data={**RESULT, "csrf_token": tok}), f"/my/tasks/{no}")
    assert done(insp.post(f"/my/tasks/{no}/submit", data={"csrf_token": tok}), f"/my/tasks/{no}")
    scjg, stok = as_(app, "reviewer-scjg")
    assert no not in scjg.get("/review").text
    assert scjg.get(f"/review/{no}").status_code == 404
    assert scjg.post(f"/review/{no}/approve", data={"csrf_token": stok}).status_code == 404
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(FindingReview)).scalar() == 1


def test_hostile_uploads_are_refused_on_the_page(web):
    app, engine, (no, _), _clock = web
    insp, tok = as_(app, "inspector")
    for name, data in [
        ("big.jpg", JPEG + b"\x00" * 2000),
        ("photo.pdf", PNG),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64),
    ]:
        r = insp.post(f"/my/tasks/{no}/evidence", data={"csrf_token": tok}, files={"file": (name, data)})
        assert r.status_code == 422 and 'id="upload-error"' in r.text, name
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Evidence)).scalar() == 0
        assert c.execute(select(func.count()).select_from(EvidenceBlob)).scalar() == 0


def test_evidence_is_uploaded_and_opened_by_team_and_unit_only(web):
    app, engine, (no, _), _clock = web
    insp, tok = as_(app, "inspector")
    r = insp.post(f"/my/tasks/{no}/evidence", data={"csrf_token": tok}, files={"file": ("现场.jpg", JPEG)})
    assert done(r, f"/my/tasks/{no}")
    page = insp.get(f"/my/tasks/{no}")
    (eid,) = re.findall(rf"/my/tasks/{no}/evidence/(\d+)", page.text)
    got = insp.get(f"/my/tasks/{no}/evidence/{eid}")
    assert got.content == JPEG and got.headers["content-type"] == "image/jpeg"
    assert "attachment" in got.headers["content-disposition"]
    rev, _ = as_(app, "reviewer")
    assert rev.get(f"/review/{no}/evidence/{eid}").content == JPEG
    scjg, _ = as_(app, "reviewer-scjg")
    assert scjg.get(f"/review/{no}/evidence/{eid}").status_code == 404
    insp2, _ = as_(app, "inspector2")
    assert insp2.get(f"/my/tasks/{no}/evidence/{eid}").status_code == 404
    anon = client(app)
    assert anon.get(f"/my/tasks/{no}/evidence/{eid}").status_code == 303  # to the login page


def test_draft_script_is_served_and_pages_have_no_inline_script(web):
    app, engine, (no, _), _clock = web
    insp, _tok = as_(app, "inspector")
    js = insp.get("/static/draft.js")
    assert js.status_code == 200 and "草稿已保存在本机，联网后提交" in js.text
    assert "localStorage" in js.text and '"online"' in js.text
    page = insp.get(f"/my/tasks/{no}").text
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None and "onclick" not in page
    assert 'accept="image/*,application/pdf"' in page and " capture" in page


@pytest.mark.browser
def test_offline_draft_in_a_375px_browser(web):
    """The form is kept in the browser while offline, says so, and is sent when back online."""
    from playwright.sync_api import expect

    from tests.webkit import ServerThread, browser_or_skip

    app, engine, (no, _), _clock = web
    pw, browser = browser_or_skip()
    try:
        with ServerThread(app) as server:
            base = server.url
            context = browser.new_context(viewport={"width": 375, "height": 800})
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=name]", "inspector")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/my/tasks/{no}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.fill("#inspection_start", "2026-03-01")
            page.reload()  # restored from localStorage
            assert page.input_value("#inspection_start") == "2026-03-01"
            page.fill("#inspection_end", "2026-03-01")
            page.check("input[name=results][value=R01]")
            page.check("input[name=follow_up][value=F01]")
            context.set_offline(True)
            page.click("#result-form button[type=submit]")
            expect(page.locator("#draft-status")).to_contain_text("草稿已保存在本机，联网后提交")
            with engine.connect() as c:
                assert c.execute(select(func.count()).select_from(Finding)).scalar() == 0
            context.set_offline(False)  # the `online` event sends the kept form
            page.wait_for_url(f"{base}/my/tasks/{no}", timeout=10_000)
            expect(page.locator("#review-state")).to_contain_text("草稿", timeout=10_000)
            assert page.evaluate(f"localStorage.getItem('draft:{no}')") is None
    finally:
        browser.close()
        pw.stop()
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Finding)).scalar() == 1


def test_the_result_form_records_checklist_items_with_the_same_rules(web):
    """STHJ-01 has a checklist: the form shows its items, refuses what `findings add --item` refuses
    (未发现问题 beside 不符合, 不符合 without category, an item left out), each next to its field,
    and stores the items with the finding."""
    app, engine, (no, _), _ = web
    insp, tok = as_(app, "inspector")
    page = insp.get(f"/my/tasks/{no}").text
    assert 'id="item-01"' in page and 'id="item-05"' in page and "排污许可证执行情况" in page
    passes = {f"item_result:0{i}": "符合" for i in range(1, 6)}
    # 未发现问题 beside a 不符合 item
    bad = insp.post(
        f"/my/tasks/{no}/result",
        data={**RESULT, **passes, "item_result:02": "不符合", "item_category:02": "R05", "csrf_token": tok},
    )
    assert bad.status_code == 422 and "contradicts the 不符合 item(s) 02" in bad.text
    assert 'value="不符合" checked' in bad.text  # what was typed is kept
    # 不符合 without a category; an item left out
    found = {
        **RESULT,
        "results": ["R05"],
        "problems": "设施停运",
        "follow_up": ["F02"],
        "rectification_deadline": "2026-04-01",
    }
    partial = {k: v for k, v in passes.items() if k != "item_result:05"}
    bad = insp.post(f"/my/tasks/{no}/result", data={**found, **partial, "item_result:02": "不符合", "csrf_token": tok})
    assert bad.status_code == 422
    assert re.search(r'id="err-item:02">a 不符合 item needs a problem category', bad.text)
    assert re.search(r'id="err-item:05">no result for item\(s\) 05', bad.text)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Finding)).scalar() == 0
    good = {
        **found,
        **passes,
        "item_result:02": "不符合",
        "item_note:02": "废气设施未运行",
        "item_category:02": "R05",
        "csrf_token": tok,
    }
    assert done(insp.post(f"/my/tasks/{no}/result", data=good), f"/my/tasks/{no}")
    with engine.connect() as c:
        stored = c.execute(select(Finding.item_results)).scalar_one()
    assert stored[1] == {"code": "02", "result": "不符合", "category": "R05", "note": "废气设施未运行"}
    page = insp.get(f"/my/tasks/{no}").text
    assert 'value="废气设施未运行"' in page and '<option value="R05" selected>' in page
