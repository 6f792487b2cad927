"""The public side (/public) on the finished demo: a crawl of every public page finds no private
value, no team before the code is typed, no unpublished finding and no sealed sample; the guard
blocks a page that would quote a phone; the verification code shows the team and is throttled
per task and per address across workers; notices, bundles and scripts under the CSP."""

from __future__ import annotations

import re
import shutil
import sqlite3
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from inspect_kit.web.public import queries as q
from tests.webkit import Clock, client, make_app

SEALED_MATTER, SEALED_PERIOD = "STHJ-02", "2026Q1"  # the demo's sealed draw (unsealed in April)
TASK = "STHJ-01-2026Q1-001"


@pytest.fixture
def public_db(demo_run, tmp_path):
    """A copy of the demo's database in which the sealed draw is not unsealed yet."""
    out, r = demo_run
    assert r.returncode == 0, r.stderr
    path = tmp_path / "public.db"
    shutil.copyfile(out / "inspect.db", path)
    with sqlite3.connect(path) as db:  # the demo unseals in April: back to before
        _unguard(db, "unsealings")
        db.execute("DELETE FROM unsealings")
    return path


def _unguard(db, table: str) -> None:
    """Drop the append-only triggers of ``table`` in a test copy (to stage a state or a tampering)."""
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)):
        db.execute(f"DROP TRIGGER {name}")


def _app(path, clock=None):
    from inspect_kit.storage.db import make_engine

    return make_app(make_engine(f"sqlite:///{path}"), clock or Clock())


def _code(task_no: str) -> str:
    from inspect_kit.config import load_config
    from inspect_kit.paper.service import task_verification
    from tests.conftest import CONFIGS

    return task_verification(load_config(CONFIGS), task_no)[0]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "script" and not a.get("src"):
            self.inline.append("inline <script>")
        self.inline += [f"<{tag} {k}=...>" for k in a if k.startswith("on") or k == "style"]

    def handle_data(self, data):
        if self.lasttag == "script" and data.strip():
            self.inline.append("script text")


def _forbidden(path) -> dict[str, str]:
    """value → what it is, for every value no public page may show."""
    db = sqlite3.connect(path)
    out: dict[str, str] = {}
    for table, col in [
        ("entities", "phone"),
        ("entities", "legal_rep"),
        ("inspectors", "phone"),
        ("inspectors", "name"),
    ]:
        for (v,) in db.execute(f"SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL"):
            if len(v.strip()) >= 2 and v.strip() not in ("无", "不详"):
                out[v.strip()] = f"private {table}.{col}"
    for (cert,) in db.execute(
        "SELECT DISTINCT i.cert_no FROM team_members m JOIN inspectors i ON i.id = m.inspector_id"
    ):
        out[cert] = "a team member's certificate number"
    published: set[int] = set()
    for ids, pending in db.execute("SELECT task_ids, pending_task_ids FROM notices WHERE kind = 'results'"):
        published |= set(eval(ids)) - set(eval(pending))  # JSON lists of ints
    for task_id, problems in db.execute("SELECT task_id, problems FROM findings WHERE problems IS NOT NULL"):
        if task_id not in published and len(problems) >= 6:
            out[problems] = f"the unpublished finding of task #{task_id}"
    sealed = db.execute(
        "SELECT id, derived_seed FROM draws WHERE matter_code = ? AND period = ?", (SEALED_MATTER, SEALED_PERIOD)
    ).fetchone()
    elsewhere = {i for (i,) in db.execute("SELECT identifier FROM tasks WHERE draw_id != ?", (sealed[0],))}
    for (ident,) in db.execute("SELECT identifier FROM tasks WHERE draw_id = ?", (sealed[0],)):
        if ident not in elsewhere:
            out[ident] = "a sealed draw's sample"
    out[sealed[1]] = "a sealed draw's seed"
    return out


def _sealed_names(path) -> list[str]:
    db = sqlite3.connect(path)
    return [
        n
        for (n,) in db.execute(
            "SELECT e.name FROM tasks t JOIN draws d ON d.id = t.draw_id JOIN entities e ON e.id = t.entity_id "
            "WHERE d.matter_code = ? AND d.period = ?",
            (SEALED_MATTER, SEALED_PERIOD),
        )
    ]


def test_crawl_of_every_public_page_finds_nothing_confidential(public_db):
    c = client(_app(public_db))
    forbidden = _forbidden(public_db)
    witnesses = q.declared_public(_engine(public_db))
    assert witnesses
    assert sum(1 for k in forbidden.values() if k == "a sealed draw's sample") >= 1
    start = ["/public", "/public/search?q=青山县", *(f"/public/search?q={n}" for n in _sealed_names(public_db))]
    pattern = re.compile("|".join(re.escape(v) for v in sorted(forbidden, key=len, reverse=True)))
    seen, queue, problems, pdfs = set(), list(start), [], set()
    pages = 0
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        if url.endswith(".pdf"):  # the notices: guarded by publish when written, and here (test below)
            pdfs.add(url)
            continue
        r = c.get(url)
        if r.status_code in (303, 307):
            queue.append(r.headers["location"])
            continue
        if r.status_code != 200:
            problems.append(f"{url}: {r.status_code}")
            continue
        pages += 1
        text = r.text
        for phrase in witnesses:  # published on purpose (a legal representative may share a witness's name)
            text = text.replace(phrase, "")
        problems += [f"{url} shows {forbidden[m]}" for m in set(pattern.findall(text))]
        if "text/html" in r.headers["content-type"]:
            parser = _Links()
            parser.feed(text)
            problems += [f"{url}: {x} (blocked by the CSP)" for x in parser.inline]
            for href in parser.links:
                full = urljoin(url, href)
                if urlsplit(full).path.startswith("/public") and not urlsplit(full).netloc:
                    queue.append(full)
                    if "?bundle=" in full:
                        queue.append(full.split("?bundle=")[1])
    assert pages > 60 and len(pdfs) >= 10, f"only {pages} pages and {len(pdfs)} notices crawled"
    assert not problems, "\n".join(sorted(set(problems))[:40])


def test_sealed_draw_shows_commitment_but_no_sample_bundle_or_task(public_db):
    c = client(_app(public_db))
    page = c.get(f"/public/draws/{SEALED_MATTER}/{SEALED_PERIOD}")
    assert page.status_code == 200 and "封存中" in page.text and "名录SHA-256" in page.text
    assert "/public/tasks/" not in page.text
    assert c.get(f"/public/bundles/{SEALED_MATTER}/{SEALED_PERIOD}.json").status_code == 404
    # a later draw of the year whose bundle carries the sealed sample (annual coverage) waits too
    later = c.get(f"/public/draws/{SEALED_MATTER}/2026Q2")
    assert later.status_code == 200 and "/public/bundles/" not in later.text and "解封后公布" in later.text
    assert c.get(f"/public/bundles/{SEALED_MATTER}/2026Q2.json").status_code == 404
    assert c.get("/public/bundles/STHJ-01/2026Q2.json").status_code == 200
    db = sqlite3.connect(public_db)
    task_no = db.execute(
        "SELECT t.task_no FROM tasks t JOIN draws d ON d.id = t.draw_id WHERE d.matter_code = ? AND d.period = ?",
        (SEALED_MATTER, SEALED_PERIOD),
    ).fetchone()[0]
    assert c.get(f"/public/tasks/{task_no}").status_code == 404
    assert c.get(f"/public/tasks/{task_no}?code=AAAAA-AAAAA").status_code == 404
    # the notified entity (it holds the code) sees its task and team even while the draw is sealed
    shown = c.get(f"/public/tasks/{task_no}?code={_code(task_no)}")
    assert shown.status_code == 200 and "核验码正确" in shown.text


def test_guard_blocks_a_page_that_would_quote_a_phone(public_db):
    db = sqlite3.connect(public_db)
    phone = db.execute("SELECT phone FROM entities WHERE phone IS NOT NULL AND length(phone) >= 11").fetchone()[0]
    db.execute(
        "UPDATE matters SET name = name || ?, unit_code = unit_code WHERE code = 'STHJ-01'", (f"（联系{phone}）",)
    )
    db.commit()
    c = client(_app(public_db))
    for url in ("/public", "/public/draws/STHJ-01/2026Q1", f"/public/tasks/{TASK}"):
        r = c.get(url)
        assert r.status_code == 500, url
        assert phone not in r.text and "已拦截" in r.text
    assert c.get("/public/log").status_code == 200  # pages without it still open


def test_task_page_shows_the_team_only_with_the_right_code(public_db):
    c = client(_app(public_db))
    from inspect_kit.config import load_config
    from inspect_kit.paper.service import task_papers
    from tests.conftest import CONFIGS

    paper = task_papers(_engine(public_db), load_config(CONFIGS), task_no=TASK)[0]  # the team the 通知书 names
    certs = [p.cert_no for p in paper.officers]
    replaced = (
        sqlite3.connect(public_db)
        .execute(
            "SELECT i.cert_no FROM team_members s JOIN team_members m ON m.id = s.replaces_id "
            "JOIN inspectors i ON i.id = m.inspector_id JOIN tasks t ON t.id = s.task_id WHERE t.task_no = ?",
            (TASK,),
        )
        .fetchone()[0]
    )
    assert certs
    plain = c.get(f"/public/tasks/{TASK}")
    assert plain.status_code == 200 and "真实存在" in plain.text and "本层入选线" in plain.text
    assert not any(x in plain.text for x in certs)
    code = _code(TASK)
    typed = c.get(f"/public/tasks/{TASK}", params={"code": " " + code.lower().replace("-", " ") + " "})
    assert all(x in typed.text for x in certs) and "核验码正确" in typed.text
    assert replaced not in certs and replaced not in typed.text  # the officer the substitute replaced
    wrong = c.get(f"/public/tasks/{TASK}", params={"code": "00000-00000"})
    assert "核验码不正确" in wrong.text and not any(x in wrong.text for x in certs)
    # the paper's QR link (public_base_url at the site's root) lands on the same page with the code
    r = c.get(f"/tasks/{TASK}?code={code}")
    assert r.status_code == 303 and r.headers["location"] == f"/public/tasks/{TASK}?code={code}"


def test_wrong_codes_are_throttled_per_task_across_workers_and_per_address(public_db):
    from inspect_kit.accounts.service import ThrottlePolicy

    clock = Clock()
    policy = ThrottlePolicy(per_account=3, per_address=5)
    w1 = client(make_app(_engine(public_db), clock, throttle=policy))
    w2 = client(make_app(_engine(public_db), clock, throttle=policy))  # another worker, same database
    code = _code(TASK)
    for i in range(3):
        assert "核验码不正确" in (w1 if i % 2 else w2).get(f"/public/tasks/{TASK}?code=WRONG-{i:05d}").text
    blocked = w2.get(f"/public/tasks/{TASK}?code={code}")  # even the right code, until the window passes
    assert blocked.status_code == 429 and "过多" in blocked.text and "核验码正确" not in blocked.text
    other = "STHJ-01-2026Q1-002"
    assert "核验码正确" in w1.get(f"/public/tasks/{other}?code={_code(other)}").text  # other tasks unaffected
    w1.get(f"/public/tasks/{other}?code=WRONG-1")
    assert w1.get(f"/public/tasks/{other}?code={_code(other)}").status_code == 429  # the address: 5 failures
    clock.advance(minutes=16)
    assert "核验码正确" in w1.get(f"/public/tasks/{TASK}?code={code}").text


def _engine(path):
    from inspect_kit.storage.db import make_engine

    return make_engine(f"sqlite:///{path}")


def test_notice_pdf_is_served_only_as_published(public_db):
    c = client(_app(public_db))
    index = c.get("/public").text
    sha = re.search(r'href="/public/notices/1\.pdf".*?<code>([0-9a-f]{64})</code>', index, re.S).group(1)
    r = c.get("/public/notices/1.pdf")
    import hashlib

    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha
    path = sqlite3.connect(public_db).execute("SELECT path FROM notices WHERE id = 1").fetchone()[0]
    copy = public_db.parent / "swapped.pdf"
    shutil.copyfile(path, copy)
    with open(copy, "ab") as f:
        f.write(b"%tampered\n")
    with sqlite3.connect(public_db) as db:
        _unguard(db, "notices")
        db.execute("UPDATE notices SET path = ? WHERE id = 1", (str(copy),))
    r = c.get("/public/notices/1.pdf")
    assert r.status_code == 422 and b"%tampered" not in r.content
    assert c.get("/public/notices/999.pdf").status_code == 404


def test_a_coordinated_draw_says_so_on_its_page(public_db):
    c = client(_app(public_db))
    text = re.sub(r"<[^>]+>", " ", c.get("/public/draws/LH-01/2026").text)
    assert "协调抽样" in text and "正协调" in text and "协调组“env-market”" in text
    assert "协调抽样" not in c.get("/public/draws/SCJG-01/2026").text


def test_bundle_is_the_exported_draw_and_verifies(public_db):
    from inspect_kit.draw.service import verify_bundle

    c = client(_app(public_db))
    r = c.get("/public/bundles/STHJ-01/2026Q1.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert verify_bundle(r.json()).ok
    assert c.get("/public/bundles/NOPE/2026Q1.json").status_code == 404


def test_a_bundle_is_exported_once_per_log_head(public_db, monkeypatch):
    """Bundles are kept per (draw, log head): the same bytes again without a new export, and a new
    export as soon as the log moves (here a finding revision), carrying the new head."""
    import datetime as dt
    import json

    from sqlalchemy import create_engine

    import inspect_kit.draw.service as draw_service
    from inspect_kit.config import load_config
    from inspect_kit.findings.service import add_finding, policy_from_config
    from inspect_kit.transparency import store
    from tests.conftest import CONFIGS

    exports = []
    real = draw_service.export_bundle
    monkeypatch.setattr(draw_service, "export_bundle", lambda *a, **k: exports.append(a) or real(*a, **k))
    c = client(_app(public_db))
    first = c.get("/public/bundles/STHJ-01/2026Q1.json").content
    assert c.get("/public/bundles/STHJ-01/2026Q1.json").content == first and len(exports) == 1
    engine = create_engine(f"sqlite:///{public_db}")
    with engine.connect() as conn:
        task_no = conn.exec_driver_sql("SELECT t.task_no FROM tasks t JOIN findings f ON f.task_id = t.id").scalar()
    now = dt.datetime(2026, 12, 1, 9, 0)
    add_finding(
        engine,
        task_no,
        {"notes": "补充说明"},
        as_of=now.date(),
        now=now,
        by="tester",
        policy=policy_from_config(load_config(CONFIGS)),
    )
    with engine.connect() as conn:
        head = store.head_text(conn)
    again = c.get("/public/bundles/STHJ-01/2026Q1.json")
    assert len(exports) == 2 and again.json()["log"]["head"] == head != json.loads(first)["log"]["head"]


def test_search_finds_by_name_and_code_and_shows_only_published_results(public_db):
    c = client(_app(public_db))
    db = sqlite3.connect(public_db)
    ident, name = db.execute(
        "SELECT t.identifier, e.name FROM tasks t JOIN entities e ON e.id = t.entity_id WHERE t.task_no = ?", (TASK,)
    ).fetchone()
    by_code = c.get("/public/search", params={"q": ident.lower()})
    assert TASK in by_code.text and "青山县生态环境局" in by_code.text
    assert TASK in c.get("/public/search", params={"q": name[3:8]}).text
    assert "未找到" in c.get("/public/search", params={"q": "%"}).text or TASK not in c.get("/public/search?q=%25").text
    # a task whose finding is listed as pending in the results notice: no result is shown
    pending = db.execute(
        "SELECT pending_task_ids FROM notices WHERE kind='results' AND pending_task_ids != '[]'"
    ).fetchone()
    task_id = eval(pending[0])[0]
    no = db.execute("SELECT task_no FROM tasks WHERE id = ?", (task_id,)).fetchone()[0]
    page = c.get(f"/public/tasks/{no}").text
    assert "尚未公示" in page


def test_every_demo_bundle_is_served_once_unsealed(demo_run, tmp_path):
    """On the demo as it ends (the sealed draw unsealed): every bundle is public and verifies;
    the unsealed salt it holds is not refused as the private value it was before the unsealing."""
    from inspect_kit.draw.service import verify_bundle

    path = tmp_path / "demo.db"
    shutil.copyfile(demo_run[0] / "inspect.db", path)
    c = client(_app(path))
    for d in q.draws(_engine(path)):
        assert d.bundle
        r = c.get(f"/public/bundles/{d.matter}/{d.period}.json")
        assert r.status_code == 200, (d.matter, d.period, r.text[:200])
        if d.matter == SEALED_MATTER and d.period == SEALED_PERIOD:
            assert r.json()["seed_derivation"]["salt"] and verify_bundle(r.json()).ok


def test_guard_cache_forgets_what_passed_when_the_registries_change(public_db):
    """A page that passed is not scanned again while the private values stay the same; an import
    that makes its text a private value (here: a legal representative named like a heading) blocks it."""
    c = client(_app(public_db))
    assert c.get("/public/log").status_code == 200
    assert c.get("/public/log").status_code == 200  # served from the guard's memory of passed bodies
    with sqlite3.connect(public_db) as db:  # as an import writes it: the value and updated_at
        db.execute("UPDATE entities SET legal_rep = '透明日志', updated_at = '2027-01-01 00:00:00' WHERE id = 1")
    r = c.get("/public/log")
    assert r.status_code == 500 and "已拦截" in r.text


def test_guard_cache_sees_an_import_dated_in_the_past(public_db):
    """The caller owns the clock: an import may be dated before the registry's latest update, so
    neither the count nor the latest updated_at moves. Its import batch does, and the page that
    would now quote the new private value is blocked."""
    c = client(_app(public_db))
    assert c.get("/public/log").status_code == 200
    with sqlite3.connect(public_db) as db:  # as an import dated 2000-01-01 writes it
        db.execute("UPDATE entities SET legal_rep = '透明日志', updated_at = '2000-01-01 00:00:00' WHERE id = 1")
        db.execute(
            "INSERT INTO import_batches (kind, source, at, added, updated, unchanged) "
            "VALUES ('entities', 'back-dated.csv', '2000-01-01 00:00:00', 0, 1, 0)"
        )
    r = c.get("/public/log")
    assert r.status_code == 500 and "已拦截" in r.text


def test_burden_page_shows_aggregates_and_no_entity(demo_run, tmp_path):
    """The public burden page (issue 16: "the public pages may show [the distribution] in
    aggregate"): the distribution, the totals by unit, the caps and the joint visits, equal to
    `inspect burden`'s own figures; no identifier or entity name anywhere; a sealed draw not
    unsealed yet counts neither in the distribution nor in the joint visits."""
    from sqlalchemy import create_engine

    from inspect_kit.config import load_config
    from inspect_kit.draw.store.caps import burden_summary
    from tests.conftest import CONFIGS

    out, r = demo_run
    path = tmp_path / "burden.db"
    shutil.copyfile(out / "inspect.db", path)
    c = client(_app(path))
    assert c.get("/public/burden").headers["location"] == "/public/burden/2026"
    page = c.get("/public/burden/2026")
    assert page.status_code == 200
    b = burden_summary(create_engine(f"sqlite:///{path}"), load_config(CONFIGS), 2026)
    text = re.sub(r"<[^>]+>", " ", page.text)
    for k, n in b.distribution.items():
        assert re.search(rf"{k}次\s+{n}\b", text), (k, n)
    assert "类别：一般排污单位" in text and "联合检查次数" in text and re.search(r"2026Q1\s+3\b", text)
    assert not any(row.identifier in page.text or row.name in page.text for row in b.rows)
    assert c.get("/public/burden/1999").status_code == 404
    with sqlite3.connect(path) as db:  # the sealed STHJ-02 2026Q1 draw, back before its unsealing
        _unguard(db, "unsealings")
        db.execute("DELETE FROM unsealings")
    sealed = re.sub(r"<[^>]+>", " ", c.get("/public/burden/2026").text)
    assert "另有1次保密抽查尚未解密" in sealed
    hidden = burden_summary(create_engine(f"sqlite:///{path}"), load_config(CONFIGS), 2026, public=True)
    assert sum(r.counted for r in hidden.rows) < sum(r.counted for r in b.rows)
    assert re.search(rf"共检查{sum(r.counted + r.outside for r in hidden.rows)}户次", sealed)


def test_standalone_verifier_has_no_inline_script_or_style(tmp_path):
    """`inspect publish verifier` writes a page that also runs under a strict CSP (its own files only)."""
    from inspect_kit.web import write_verifier

    names = {p.relative_to(tmp_path).as_posix() for p in write_verifier(tmp_path)}
    assert {"verify.html", "verify.css", "verify.js", "verify-page.js", "drand-verify.js"} <= names
    assert {"vendor/noble/noble-bls12-381.js", "vendor/noble/LICENSE-noble-curves.txt"} <= names
    parser = _Links()
    html = (tmp_path / "verify.html").read_text(encoding="utf-8")
    parser.feed(html)
    assert not parser.inline and "<style" not in html and "unsafe-inline" not in html
    assert 'href="verify.css"' in html
