"""The journeys of issue 13 in real Chromium (Playwright, Debian's chromium), end to end on one
database: the coordinator uploads a registry with a bad row and reads the report, then a good one,
prepares, draws and assigns; an inspector on a 375 px phone records a result with a photo; the
reviewer returns it; the inspector corrects it; the reviewer approves; the coordinator publishes
the results notice. Screenshots of the main pages at 375 and 1280 px go to test-artifacts/."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest

from tests.webkit import PASSWORD, Clock, ServerThread, add_accounts, browser_or_skip, make_app, screenshot

# A 1×1 PNG: the "photo" of the site visit.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HEAD = "执法证号,姓名,所属部门,人员类别,状态,证件有效期起,证件有效期至,执法领域\n"
BAD = HEAD + "360199ST9001,周新,STHJ,执法人员,在岗,2026-01-01,2029-12-31,生态环境执法\n"
BAD += "360199ST9002,吴新,STHJ,执法人员,在岗,2026-13-45,2029-12-31,生态环境执法\n"
GOOD = HEAD + "360199ST9001,周新,STHJ,执法人员,在岗,2026-01-01,2029-12-31,生态环境执法\n"
GOOD += "360199ST9002,吴新,STHJ,执法人员,在岗,2026-01-01,2029-12-31,生态环境执法\n"
SIZES = {"phone": {"width": 375, "height": 800}, "desk": {"width": 1280, "height": 900}}


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'journey.db'}"  # the browser drives pages; the backends are tested below them


@pytest.fixture
def browser():
    pw, b = browser_or_skip()
    yield b
    b.close()
    pw.stop()


def _login(page, url, name):
    page.goto(url + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    _submit(page, "button[type=submit]")


def _submit(page, selector):
    """Click and wait for the page that answers (a form post, or draft.js's fetch then assign)."""
    with page.expect_navigation():
        page.click(selector)


def _shots(page, name):
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        screenshot(page, f"{name}-{label}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"] + 1, f"{name} overflows"


def test_the_whole_journey_in_chromium(demo_db, browser, tmp_path):
    from inspect_kit.accounts.service import add_user
    from inspect_kit.assign import service as assign

    clock = Clock(dt.datetime(2026, 3, 2, 9, 0))
    add_accounts(demo_db, clock.now)
    app = make_app(demo_db, clock, notices_dir=tmp_path / "notices")
    bad, good = tmp_path / "inspectors-bad.csv", tmp_path / "inspectors.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    errors: list[str] = []
    with ServerThread(app) as srv:
        coord = browser.new_page(viewport=SIZES["desk"], locale="zh-CN")
        coord.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _login(coord, srv.url, "coordinator")
        _shots(coord, "coord-dashboard")

        # 1. A registry file with a bad row: the report names row and column; nothing imported.
        coord.goto(srv.url + "/coord/registry")
        coord.select_option("#kind", "inspectors")
        coord.set_input_files("#file", str(bad))
        _submit(coord, "button:has-text('检查文件')")
        report = coord.inner_text("main")
        assert re.search(r"\n3\t证件有效期起\t'2026-13-45' is not a real date", report), report
        assert coord.locator("button:has-text('确认导入')").count() == 0  # nothing to confirm
        _shots(coord, "coord-registry-report")
        coord.set_input_files("#file", str(good))
        _submit(coord, "button:has-text('检查文件')")
        _submit(coord, "button:has-text('确认导入')")
        assert "2" in coord.inner_text("main")

        # 2. Prepare (commit), then the draw meeting on the projector: the sample appears.
        coord.goto(srv.url + "/coord/draw/prepare?period=2026Q1")
        coord.select_option("#matter", "STHJ-01")
        coord.check("input[name=seed_kind][value=witnessed]")
        coord.fill("#witnessed", "掷骰，县政务大厅")
        coord.fill("#witnesses", "王公证员、李监督员")
        _submit(coord, "button:has-text('冻结并承诺')")
        frame_sha = coord.inner_text(".frame-sha")
        assert re.fullmatch(r"[0-9a-f]{64}", frame_sha)
        coord.goto(srv.url + "/coord/draw/meeting?matter=STHJ-01&period=2026Q1")
        assert frame_sha in coord.inner_text("main")
        coord.fill("#seed", "59302 18447 90321 55812 7731")
        coord.click("button:has-text('抽取')")
        coord.wait_for_selector("#sample-result")
        assert "STHJ-01-2026Q1-001" in coord.inner_text("#sample-result")
        _shots(coord, "coord-draw-meeting")

        # 3. Teams.
        coord.goto(srv.url + "/coord/assign?period=2026Q1")
        coord.select_option("#matter", "STHJ-01")
        coord.fill("#seed", "59302 18447 90321 55812 7731 team")
        _submit(coord, "button:has-text('组队')")
        assert "STHJ-01-2026Q1-001" in coord.inner_text("main")
        _shots(coord, "coord-assign")
        (a,) = assign.current_assignments(demo_db, "2026Q1", "STHJ-01")
        task = a.teams[0].task_no
        officer = a.teams[0].officers[0].cert_no
        add_user(demo_db, "officer", "inspector", PASSWORD, clock.now, cert_no=officer)

        # 4. The inspector, on a phone: records a result with a photo and submits it.
        clock.advance(days=3)
        phone = browser.new_page(viewport=SIZES["phone"], locale="zh-CN")
        phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _login(phone, srv.url, "officer")
        phone.goto(srv.url + "/my/tasks")
        assert task in phone.inner_text("main")
        _shots(phone, "inspector-tasks")
        phone.set_viewport_size(SIZES["phone"])
        _submit(phone, f"text={task}")
        phone.fill("#inspection_start", "2026-03-04")
        phone.fill("#inspection_end", "2026-03-04")
        phone.check("input[name=results][value=R01]")
        phone.check("input[name=follow_up][value=F01]")
        _submit(phone, "button:has-text('保存结果')")
        phone.set_input_files("#file", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
        _submit(phone, "button:has-text('上传')")
        assert "现场.png" in phone.inner_text("main")
        _submit(phone, "button:has-text('提交审核')")
        assert "待审核" in phone.inner_text("#review-state")
        _shots(phone, "inspector-task")

        # 5. The reviewer returns it with a reason.
        rev = browser.new_page(viewport=SIZES["desk"], locale="zh-CN")
        _login(rev, srv.url, "reviewer")
        rev.goto(srv.url + "/review")
        assert task in rev.inner_text("main")
        _shots(rev, "reviewer-queue")
        rev.set_viewport_size(SIZES["desk"])
        _submit(rev, f"text={task}")
        _shots(rev, "reviewer-task")
        rev.fill("#reason", "请补充现场检查情况说明")
        _submit(rev, "button:has-text('退回修改')")

        # 6. The inspector sees the reason, corrects, submits again; 7. the reviewer approves.
        phone.goto(srv.url + f"/my/tasks/{task}")
        assert "请补充现场检查情况说明" in phone.inner_text("#return-reason")
        phone.fill("#notes", "现场检查排污许可证、台账，未发现问题")
        _submit(phone, "button:has-text('保存结果')")
        _submit(phone, "button:has-text('提交审核')")
        assert "待审核" in phone.inner_text("#review-state")
        rev.goto(srv.url + f"/review/{task}")
        assert "未发现问题" in rev.inner_text("main")
        _submit(rev, "button:has-text('审核通过')")
        phone.goto(srv.url + f"/my/tasks/{task}")
        assert "已审核" in phone.inner_text("#review-state")

        # 8. The coordinator (logged in again: days have passed) publishes the results notice.
        _login(coord, srv.url, "coordinator")
        coord.goto(srv.url + "/coord/publish?period=2026Q1")
        coord.select_option("#kind", "results")
        coord.check("input[name=allow_incomplete]")
        coord.click("button:has-text('发布')")
        coord.wait_for_selector("#published")
        _shots(coord, "coord-published")
        assert task not in coord.inner_text("#published")  # approved: published, not 待录入
        link = coord.get_attribute("a[href^='/coord/publish/'][href$='.pdf']", "href")
        pdf = coord.request.get(srv.url + link)
        assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert not [e for e in errors if "Content Security Policy" in e], errors
