"""The login page in real Chromium: it renders, passes axe-core, and logs in at 375 px."""

from __future__ import annotations

import pytest

from tests.webkit import PASSWORD, Clock, ServerThread, add_accounts, browser_or_skip, make_app, screenshot


@pytest.fixture
def browser():
    pw, b = browser_or_skip()
    yield b
    b.close()
    pw.stop()


def test_login_at_375px_in_chromium(demo_db, browser):
    clock = Clock()
    add_accounts(demo_db, clock.now)
    with ServerThread(make_app(demo_db, clock)) as srv:
        page = browser.new_page(viewport={"width": 375, "height": 740})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(srv.url + "/login")
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(page)
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == []
        screenshot(page, "login-375")
        page.fill("#name", "assessor")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(srv.url + "/account")
        assert "assessor" in page.inner_text("header")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert not [e for e in errors if "Content Security Policy" in e], errors
