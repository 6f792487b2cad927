"""The public pages in a real browser (Debian's chromium through Playwright) over the finished demo:
the verification page re-derives every demo draw in the browser (all OK, under the app's CSP, no
console error), the drand draws with their round's BLS signature checked (also from file://, as
`inspect publish verifier` writes the page), and shows each kind of tampering; axe-core finds no serious or critical violation
on the public pages; at 375 px nothing overflows the page. Screenshots go to test-artifacts/ and
the verify page's one to docs/ (README, "Check a draw in your browser")."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.webkit import Clock, ServerThread, browser_or_skip, make_app, screenshot

pytestmark = pytest.mark.browser
DOC_SHOT = Path(__file__).resolve().parents[1] / "docs" / "verify-page.png"


@pytest.fixture(scope="module")
def site(demo_run, tmp_path_factory):
    from inspect_kit.storage.db import make_engine

    out, r = demo_run
    assert r.returncode == 0, r.stderr
    path = tmp_path_factory.mktemp("public-browser") / "demo.db"
    shutil.copyfile(out / "inspect.db", path)
    engine = make_engine(f"sqlite:///{path}")
    with ServerThread(make_app(engine, Clock())) as srv:
        yield srv.url, engine


@pytest.fixture(scope="module")
def browser():
    pw, b = browser_or_skip()
    yield b
    b.close()
    pw.stop()


def _page(browser, width=1000):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    # console errors (a CSP refusal is one), script errors, failed requests (the browser's own
    # /favicon.ico aside: the pages declare none)
    page.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )
    return page, errors


def _verdict(page) -> str:
    page.wait_for_selector("#result h2", timeout=60_000)
    return page.inner_text("#result")


def test_every_demo_draw_verifies_in_the_browser(site, browser):
    from inspect_kit.web.public import queries as q

    base, engine = site
    draws = q.draws(engine)
    assert len(draws) == 12
    page, errors = _page(browser)
    for d in draws:
        page.goto(f"{base}/public/verify?bundle=/public/bundles/{d.matter}/{d.period}.json")
        text = _verdict(page)
        assert "复核一致" in text and "不一致" not in text, (d.matter, d.period, text[:500])
        assert page.locator("#result td.bad").count() == 0
        if d.period == "2026Q4":  # the demo draws Q4 with drand quicknet round 32285085
            assert "drand签名（quicknet链第32285085轮）\t一致" in text, text[-800:]
        if d.matter in ("STHJ-01", "LH-01"):  # coordinated (issue 16): re-derived in the browser too
            assert "协调抽样\t一致\t正协调" in text, text[:800]
        if d.matter == "STHJ-02" and d.period == "2026Q1":
            shot = screenshot(page, "verify-STHJ-02-2026Q1")
            if os.environ.get("INSPECT_UPDATE_DOCS"):  # README's picture, retaken on request only
                DOC_SHOT.write_bytes(shot.read_bytes())
    assert not errors, errors  # no CSP refusal, no script error


def test_standalone_page_checks_the_drand_signature_from_a_usb_stick(site, browser, tmp_path):
    import httpx

    from inspect_kit.web import write_verifier
    from tests.test_js_verifier import _flip

    base, _ = site
    bundle = httpx.get(f"{base}/public/bundles/STHJ-01/2026Q4.json").json()
    forged = json.loads(json.dumps(bundle))
    forged["seed_source"]["evidence"]["signature"] = _flip(bundle["seed_source"]["evidence"]["signature"], 200)
    write_verifier(tmp_path)
    page, errors = _page(browser)
    page.goto((tmp_path / "verify.html").as_uri())  # file://, no server, no network
    for name, b, verdict in (("drand", bundle, "一致"), ("forged", forged, "不一致")):
        page.set_input_files(
            "#file", files=[{"name": f"{name}.json", "mimeType": "application/json", "buffer": json.dumps(b).encode()}]
        )
        page.locator("#result h2", has_text=f"{name}.json").wait_for(timeout=60_000)
        text = page.inner_text("#result")
        assert f"drand签名（quicknet链第32285085轮）\t{verdict}" in text, text[-800:]
    assert "does not verify" in text and "复核不一致" in text
    assert not errors, errors


def test_each_tampered_bundle_shows_the_difference(site, browser):
    import httpx

    from tests.test_js_verifier import _tampered

    base, _ = site
    bundle = httpx.get(f"{base}/public/bundles/STHJ-02/2026Q1.json").json()  # STHJ-01 is coordinated (issue 16)
    expect = {
        "row added": "frame hash mismatch",
        "seed changed": "not derived from the public seed",
        "sample reordered": "same ids, other order",
        "n changed": "does not follow from the quota",
    }
    page, errors = _page(browser)
    page.goto(f"{base}/public/verify")
    for name, tampered in _tampered(bundle).items():
        page.set_input_files(
            "#file",
            files=[{"name": f"{name}.json", "mimeType": "application/json", "buffer": json.dumps(tampered).encode()}],
        )
        page.locator("#result h2", has_text=f"{name}.json").wait_for()  # a selector, not eval (CSP)
        text = page.inner_text("#result")
        assert "复核不一致" in text and expect[name] in text, (name, text[:800])
        assert page.locator("#result .bad").count() >= 2
        screenshot(page, f"verify-tampered-{name.replace(' ', '-')}")
    assert not errors, errors


PAGES = [
    "/public",
    "/public/draws/SCJG-01/2026",
    "/public/draws/STHJ-02/2026Q1",
    "/public/log",
    "/public/scores",
    "/public/burden/2026",
    "/public/search?q=青山县宏图",
    "/public/verify",
    "/public/tasks/STHJ-01-2026Q1-001",
]


def test_public_pages_pass_axe_and_fit_375px(site, browser, width=375):
    from axe_playwright_python.sync_playwright import Axe

    base, _ = site
    axe = Axe()
    page, errors = _page(browser, width)
    problems = []
    for path in PAGES:
        page.goto(base + path)
        results = axe.run(page)
        assert results.response["passes"], f"{path}: axe ran no rule"
        bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        problems += [f"{path}: {v['id']} ({v['impact']}): {v['help']}" for v in bad]
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            problems.append(f"{path}: {overflow}px wider than the {width}px screen")
        name = path.strip("/").replace("/", "_").replace("?", "_") or "public"
        screenshot(page, f"{name}-{width}")
    assert not problems, "\n".join(problems)
    assert not errors, errors
