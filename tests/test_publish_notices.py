"""Public notices from the database: the drawn list with its embedded, verifiable bundles; the
results with 待录入; no personal data; the notices table; byte-identical rebuilds; the CLI.

One scenario per backend (SQLite, and PostgreSQL when INSPECT_TEST_PG_URL is set), built once per
module with the real draw service: 2026Q1 draws of STHJ-01 and STHJ-02 (STHJ-02 re-drawn, its
reason quoting a phone number), yearly draws of JYTY-01 and LH-01 (two units), private data in
the registry rows of every drawn entity, and findings for all 2026Q1 tasks but one — one of them
with a phone number, an ID-card number and a legal representative's name in its description.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from consistent_sampler import sampler
from pypdf import PdfReader
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from inspect_kit.errors import InspectError
from inspect_kit.periods import parse_period
from inspect_kit.publish import FontConfig, embedded_files, service
from inspect_kit.publish import notices as nt
from tests.conftest import CONFIGS, NOW, PG_URL, REGISTRIES

Q1, YEAR = "2026Q1", "2026"
DRAWN_ON = dt.datetime(2026, 1, 6, 10, 0)
DRAW_DAY = dt.date(2026, 1, 6)
RESULTS_DAY = dt.date(2026, 4, 15)
SEED_A, SEED_B = "20260106-3371-0458-2291-7730", "20260106-9902-1184-5576-0419"
REDRAW_REASON = "名录漏录一家企业，经办人王五电话13800001111，已补录后重新抽取"
SECRET_PROBLEM = (
    "法定代表人张三丰拒绝签字，联系电话13912345678，身份证号36010219900101123X，座机0791-86543210；废水排放口标识缺失"
)
SECRETS = ["13800001111", "13912345678", "36010219900101123X", "0791-86543210", "张三丰", "86543210"]


# -- the scenario -------------------------------------------------------------------------------------


def _backends():
    yield "sqlite"
    if PG_URL or os.environ.get("CI"):
        yield pytest.param("postgres", marks=pytest.mark.postgres)


@contextlib.contextmanager
def _database(kind: str, folder: Path):
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'publish.db'}"
        return
    if not PG_URL:
        pytest.fail("CI is set but INSPECT_TEST_PG_URL is not")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"inspect_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _draw(engine, config, matter, period, seed, when=DRAWN_ON, **kw):
    from inspect_kit.draw.core.seeds import SeedSource
    from inspect_kit.draw.service import prepare_frame, run_draw

    dice = SeedSource.witnessed("2026年1月6日县政务大厅公开掷骰（全程录像）", ["县公证处公证员"])
    redraw = kw.pop("redraw", False)
    prepare_frame(
        engine,
        config,
        matter,
        period,
        as_of=dt.date(2026, 1, 5),
        now=when if redraw else dt.datetime(2026, 1, 5, 9, 0),
        source=dice,
        redraw=redraw,
        reason=kw.pop("reason", None),
    )
    return run_draw(engine, config, matter, period, seed=seed, now=when, **kw)


@pytest.fixture(scope="module", params=list(_backends()))
def scenario(request, tmp_path_factory, config):
    from inspect_kit.config.sync import sync_config
    from inspect_kit.draw.store.tasks import current_tasks
    from inspect_kit.registry.importer import ImportOptions, import_registry
    from inspect_kit.storage.db import init_database, make_engine
    from inspect_kit.storage.models import Entity, Finding

    folder = tmp_path_factory.mktemp("publish")
    with _database(request.param, folder) as url:
        engine = make_engine(url)
        init_database(engine)
        sync_config(engine, config, NOW)
        opts = ImportOptions(now=NOW, known_categories=config.categories)
        for name in ("entities_sthj.csv", "entities_jyty.xlsx"):
            import_registry(engine, "entities", REGISTRIES / name, opts)
        _draw(engine, config, "STHJ-01", Q1, SEED_A)
        _draw(engine, config, "STHJ-02", Q1, SEED_A)
        _draw(
            engine,
            config,
            "STHJ-02",
            Q1,
            SEED_B,
            when=DRAWN_ON + dt.timedelta(hours=1),
            redraw=True,
            reason=REDRAW_REASON,
        )
        _draw(engine, config, "JYTY-01", YEAR, SEED_A)
        _draw(engine, config, "LH-01", YEAR, SEED_A)
        with engine.begin() as conn:
            q1 = current_tasks(conn, Q1)
            drawn = current_tasks(conn) + q1
            private = {}
            for k, t in enumerate(sorted({t.entity_id for t in drawn})):
                phone, rep = f"1390791{k:04d}", f"司马隐{chr(0x4E00 + 300 + k)}"
                conn.execute(update(Entity).where(Entity.id == t).values(phone=phone, legal_rep=rep))
                private[t] = (phone, rep)
            pending = q1[-1]
            for k, t in enumerate(q1[:-1]):
                row = dict(
                    task_id=t.task_id,
                    inspection_start=dt.date(2026, 3, 2 + k),
                    inspection_end=dt.date(2026, 3, 2 + k),
                    results=["R01"],
                    problems=None,
                    follow_ups=["F01"],
                    recorded_by="测试员",
                    created_at=dt.datetime(2026, 4, 1),
                    updated_at=dt.datetime(2026, 4, 1),
                )
                if k == 0:
                    row.update(
                        results=["R06"], problems=SECRET_PROBLEM, follow_ups=["F03"], case_no="青山环立〔2026〕1号"
                    )
                if k == 1:
                    row.update(
                        results=["R05"],
                        problems="危险废物贮存场所未设置识别标志",
                        follow_ups=["F02"],
                        rectification_deadline=dt.date(2026, 4, 10),
                        rectification_status="closed",
                        recheck_date=dt.date(2026, 4, 20),
                        recheck_outcome="已整改",
                    )
                conn.execute(insert(Finding.__table__).values(**row))
        # configs/ requires review ([findings] review = "required"): each result is approved.
        from inspect_kit.findings import review

        for t in q1[:-1]:
            review.submit(engine, t.task_no, "测试员", dt.datetime(2026, 4, 2, 9, 0))
            review.approve(engine, t.task_no, "审核员", dt.datetime(2026, 4, 2, 10, 0))
        out = folder / "out"
        out.mkdir()
        draw = service.publish_draw(
            engine, config, Q1, path=out / "抽查名单公示.pdf", issue_date=DRAW_DAY, now=dt.datetime(2026, 1, 6, 16, 0)
        )
        results = service.publish_results(
            engine,
            config,
            Q1,
            path=out / "抽查结果公示.pdf",
            issue_date=RESULTS_DAY,
            now=dt.datetime(2026, 4, 15, 9, 0),
            allow_incomplete=True,
        )
        yield SimpleNamespace(
            engine=engine,
            config=config,
            url=url,
            q1=q1,
            pending=pending,
            private=private,
            out=out,
            draw=draw,
            results=results,
            draw_text=text_of(draw.path),
            results_text=text_of(results.path),
        )
        engine.dispose()


def text_of(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def flat(text: str) -> str:
    """Extracted text without line breaks and spaces (a hash may be cut across lines)."""
    return "".join(text.split())


# -- the drawn list -----------------------------------------------------------------------------------


def test_draw_notice_lists_the_drawn_entities_and_how_to_verify(scenario):
    text, f = scenario.draw_text, flat(scenario.draw_text)
    assert "青山县生态环境局2026年第一季度“双随机、一公开”抽查对象名单公示" in f
    for t in scenario.q1:
        assert t.identifier in f and flat(t.entity_name) in f and t.township in text
    from inspect_kit.draw.service import export_bundle, list_draws

    current = {d.matter: d for d in list_draws(scenario.engine, period=Q1)}  # the latest of each matter
    for d in current.values():
        bundle = export_bundle(scenario.engine, d.id)
        assert bundle["frame"]["sha256"] in f
        for s in bundle["strata"]:
            assert flat(s["stratum"]) in f
    assert SEED_A in f and SEED_B in f and "consistent-sampler" in f and "1.0.10" in f
    assert "draw-STHJ-01-2026Q1.json" in f and "draw-STHJ-02-2026Q1.json" in f and "inspectverify--bundle" in f
    # per-stratum lines: N, quota, rounding and n
    assert "29×1/10=2.9，向上取整：3" in f
    assert "全年全覆盖（4期）" in f and "⌊1×16/4⌋−0=4" in f
    assert "抽取日在正面清单内，免予现场检查5家" in f
    # the re-draw is visible, with its (scrubbed) reason
    assert "本期共抽取2次" in f and "已作废" in f and "名录漏录一家企业" in f
    assert scenario.draw.pages == len(PdfReader(scenario.draw.path).pages) >= 3
    assert set(scenario.draw.task_ids) == {t.task_id for t in scenario.q1}


def _font_descriptors(pdf: PdfReader):
    for page in pdf.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            for f in [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]:
                if "/FontDescriptor" in f:
                    yield f["/BaseFont"], f["/FontDescriptor"].get_object()


def test_fonts_are_embedded_and_page_one_is_not_blank(scenario):
    import pypdfium2 as pdfium

    for path in (scenario.draw.path, scenario.results.path):
        descriptors = list(_font_descriptors(PdfReader(path)))
        assert descriptors
        assert all("/FontFile2" in d for _, d in descriptors), [
            name for name, d in descriptors if "/FontFile2" not in d
        ]
        doc = pdfium.PdfDocument(str(path))
        try:
            image = doc[0].render(scale=1).to_pil().convert("L")
        finally:
            doc.close()
        dark = sum(image.histogram()[:128])
        assert dark > 0.005 * image.width * image.height


def _run_snippet(lines: list[str], cwd: Path) -> list[str]:
    """Run the Python lines a notice prints, in `cwd` (where the bundle is); their output lines."""
    done = subprocess.run([sys.executable, "-c", "\n".join(lines)], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_bundles_are_embedded_verify_and_match_consistent_sampler(scenario, tmp_path):
    from inspect_kit.draw.core.bundle import verify_bundle

    files = embedded_files(scenario.draw.path.read_bytes())
    assert sorted(files) == ["draw-STHJ-01-2026Q1.json", "draw-STHJ-02-2026Q1.json"] == sorted(scenario.draw.files)
    drawn = {t.identifier for t in scenario.q1}
    listed = set()
    for name, data in files.items():
        bundle = json.loads(data)
        report = verify_bundle(bundle)
        assert report.ok, report.problems
        rows = bundle["frame"]["rows"]
        (tmp_path / name).write_bytes(data)
        if "coordination" in bundle:
            # A coordinated draw (configs: STHJ-01 with LH-01) is re-run by the notice's second snippet,
            # the standard library only; the consistent-sampler oracle does not apply to it.
            out = _run_snippet(nt.coordinated_snippet(name), tmp_path)
            assert out[0] == bundle["frame"]["sha256"]
            for line, s in zip(out[1:], bundle["strata"]):
                got = [x["identifier"] for x in bundle["sample"] if x["stratum"] == s["stratum"]]
                assert line == f"{s['stratum']} {got}"
                listed |= set(got)
            assert len(out) == 1 + len(bundle["strata"])
        else:
            for s in bundle["strata"]:  # the independent oracle
                ids = [i for i, stratum in rows if stratum == s["stratum"]]
                expected = list(sampler(ids, seed=bundle["seed"], with_replacement=False, take=s["n"], output="id"))
                assert expected == [x["identifier"] for x in bundle["sample"] if x["stratum"] == s["stratum"]]
                listed |= set(expected)
            # the snippet printed in the notice runs and prints the frame hash and the sample
            out = _run_snippet(nt.verification_snippet(name), tmp_path)
            assert out[0] == bundle["frame"]["sha256"]
            assert out[1] == "True"  # the draw's seed follows from the public seed by the published rule
            assert len(out) == 2 + len(bundle["strata"])
        r = cli(scenario, "verify", "--bundle", tmp_path / name)  # what the notice tells readers to run
        assert r.exit_code == 0 and "OK" in r.output, r.output
    assert listed == drawn
    redrawn = json.loads(files["draw-STHJ-02-2026Q1.json"])
    assert redrawn["seed_derivation"]["public_seed"] == SEED_B  # the current draw, not the first
    assert redrawn["record"]["reason"] == nt.scrub(REDRAW_REASON) != REDRAW_REASON
    # nothing to scrub: byte for byte what `inspect draw export-bundle` writes
    from inspect_kit.draw.service import export_bundle
    from inspect_kit.transparency.chain import entry_from_dict, head_problems

    first = json.loads(files["draw-STHJ-01-2026Q1.json"])
    exported = export_bundle(scenario.engine, first["record"]["draw_id"])
    # The same bytes but for the log block: the log has grown since the notice (its own entry at least),
    # and the later export's chain extends the head the embedded bundle carries.
    assert {k: v for k, v in first.items() if k != "log"} == {k: v for k, v in exported.items() if k != "log"}
    assert list(first) == list(exported)
    later = [entry_from_dict(e) for e in exported["log"]["entries"]]
    assert exported["log"]["head"] != first["log"]["head"] and head_problems(later, first["log"]["head"]) == []


# -- personal data ------------------------------------------------------------------------------------


def test_no_personal_data_in_any_notice(scenario):
    from inspect_kit.storage.models import Entity

    with scenario.engine.connect() as conn:  # the registry's own phone numbers and names too
        registry = [
            v
            for row in conn.execute(select(Entity.phone, Entity.legal_rep).where(Entity.id.in_(list(scenario.private))))
            for v in row
            if v
        ]
    assert len(registry) == 2 * len(scenario.private)
    for path in (scenario.draw.path, scenario.results.path):
        raw = path.read_bytes()
        text = flat(text_of(path))
        attached = b"".join(embedded_files(raw).values()).decode()
        for secret in SECRETS + registry:
            assert secret not in text, (path.name, secret)
            assert secret not in attached, (path.name, secret)
    assert "法定代表人***拒绝签字" in flat(scenario.results_text)
    assert "废水排放口标识缺失" in flat(scenario.results_text)


def test_public_select_refuses_private_columns():
    from sqlalchemy import func

    from inspect_kit.storage.models import Entity, Inspector

    service.public_select(Entity.name, Entity.identifier, func.count(Entity.id))
    for query in (
        [Entity.phone],
        [Entity.name, Entity.legal_rep],
        [Entity],
        [Entity.__table__],
        [func.coalesce(Entity.legal_rep, Entity.name)],
        [Inspector.phone],
    ):
        with pytest.raises(service.PrivateColumnError, match="private"):
            service.public_select(*query)


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("电话13912345678未接", "电话***未接"),
        ("手机 139 1234 5678。", "手机 ***。"),
        ("+86 13912345678", "***"),
        ("身份证36010219900101123X，", "身份证***，"),
        ("身份证号360102 19900101 1234", "身份证号***"),
        ("旧证号360102900101123", "旧证号***"),
        ("座机0791-86543210转123", "座机***"),
        ("（0791）8654321", "***"),
        ("联系电话：8654321", "联系电话：***"),
        ("邮箱zhang.san@example.com", "邮箱***"),
        ("法定代表人张三拒绝签字", "法定代表人***拒绝签字"),
        ("经营者：欧阳娜娜未到场", "经营者：***未到场"),
        ("负责人未在现场", "负责人未在现场"),
        ("罚款50000元，2026-03-05整改，排放浓度120mg/L", "罚款50000元，2026-03-05整改，排放浓度120mg/L"),
        ("１３９１２３４５６７８", "***"),
    ],
)
def test_scrub(raw, cleaned):
    assert nt.scrub(raw) == cleaned


def test_sole_proprietor_names_and_resident_ids():
    assert nt.public_entity_name("张三丰", "92360199MA35XXXX0X", "个体工商户") == "张**"
    assert nt.public_entity_name("李四", "", "个体工商户") == "李*"
    assert nt.public_entity_name("张记小吃店", "92360199MA35XXXX0X", "个体工商户") == "张记小吃店"
    assert nt.public_entity_name("王五", "91360199MA35XXXX0X", "企业") == "王五"
    assert nt.looks_like_resident_id("11010519491231002X")
    assert not nt.looks_like_resident_id("110105194912310021")  # wrong check digit
    assert not nt.looks_like_resident_id("913601990401060297")  # a USCC
    assert nt.period_text(parse_period("2026Q1")) == "2026年第一季度"
    assert nt.period_text(parse_period("2026-03")) == "2026年3月"
    assert nt.period_text(parse_period("2026")) == "2026年度"


# -- results ------------------------------------------------------------------------------------------


def test_results_are_refused_while_findings_are_missing(scenario, tmp_path):
    path = tmp_path / "r.pdf"
    with pytest.raises(
        InspectError, match=rf"1 of {len(scenario.q1)} tasks .*{scenario.pending.task_no}.*--allow-incomplete"
    ):
        service.publish_results(
            scenario.engine, scenario.config, Q1, path=path, issue_date=RESULTS_DAY, now=dt.datetime(2026, 4, 15, 9, 0)
        )
    assert not path.exists()
    assert [n for n in service.list_notices(scenario.engine) if n.path == str(path.resolve())] == []


def test_results_with_allow_incomplete_list_the_pending_tasks(scenario):
    r, f = scenario.results, flat(scenario.results_text)
    assert "青山县生态环境局2026年第一季度“双随机、一公开”抽查结果公示" in f
    assert r.pending_task_ids == [scenario.pending.task_id] and r.pending_task_nos == [scenario.pending.task_no]
    assert sorted(r.task_ids) == sorted(t.task_id for t in scenario.q1)
    assert "以下1项检查任务的检查结果尚未录入（待录入）" in f and scenario.pending.task_no in f
    for t in scenario.q1:
        assert t.task_no in f and t.identifier in f
    for word in (
        "检查实施机关",
        "青山县生态环境局",
        "重点排污单位污染物排放情况监督检查",
        "检查日期",
        "2026-03-02",
        "未发现问题",
        "无需后续处置",
        "发现问题待后续处理",
        "立案查处",
        "发现问题已责令改正",
        "2026年4月15日",
    ):
        assert word in f, word
    assert "责令改正（整改期限2026-04-10）" in f  # closed, but re-checked only on 20 April
    # summary: drawn, inspected, problems found, rectified, pending
    assert (
        f"共对2个抽查事项随机抽取检查对象{len(scenario.q1)}家，已完成检查并录入结果{len(scenario.q1) - 1}家，"
        f"其中发现问题2家，截至发布之日已整改0家；另有1家检查结果待录入" in f
    )
    assert "青山环立" not in f  # case numbers are not published


def test_rectified_counts_as_of_the_issue_date(scenario, tmp_path):
    later = service.publish_results(
        scenario.engine,
        scenario.config,
        Q1,
        path=tmp_path / "later.pdf",
        issue_date=dt.date(2026, 4, 25),
        now=dt.datetime(2026, 4, 25, 9, 0),
        allow_incomplete=True,
    )
    f = flat(text_of(later.path))
    assert "截至发布之日已整改1家" in f and "责令改正（已整改）" in f


def test_issue_dates_before_the_draw_or_the_inspection_are_refused(scenario, tmp_path):
    with pytest.raises(InspectError, match="before the draw"):
        service.publish_draw(
            scenario.engine, scenario.config, Q1, path=tmp_path / "d.pdf", issue_date=dt.date(2026, 1, 5), now=NOW
        )
    with pytest.raises(InspectError, match="before the end of the inspection"):
        service.publish_results(
            scenario.engine,
            scenario.config,
            Q1,
            path=tmp_path / "r.pdf",
            issue_date=dt.date(2026, 3, 3),
            now=NOW,
            allow_incomplete=True,
        )


# -- records, determinism -----------------------------------------------------------------------------


def test_every_notice_is_recorded_with_the_hash_of_its_file(scenario):
    rows = {n.id: n for n in service.list_notices(scenario.engine, period=Q1)}
    for published, kind in ((scenario.draw, "draw"), (scenario.results, "results")):
        row = rows[published.notice_id]
        data = published.path.read_bytes()
        assert row.kind == kind and row.period == Q1 and row.matter_codes == ["STHJ-01", "STHJ-02"]
        assert row.file_sha256 == hashlib.sha256(data).hexdigest() == published.sha256
        assert row.pages == len(PdfReader(io.BytesIO(data)).pages) and row.path == str(published.path.resolve())
        assert sorted(row.task_ids) == sorted(published.task_ids)
    assert rows[scenario.draw.notice_id].issued_on == DRAW_DAY and rows[scenario.draw.notice_id].pending_task_ids == []
    assert rows[scenario.results.notice_id].issued_on == RESULTS_DAY
    assert rows[scenario.results.notice_id].pending_task_ids == [scenario.pending.task_id]
    # what the findings stage reads: published on the issue date, except the pending task
    from inspect_kit.findings.service import published_on

    with scenario.engine.connect() as conn:
        published = published_on(conn, [t.task_id for t in scenario.q1])
    assert scenario.pending.task_id not in published
    assert set(published.values()) <= {RESULTS_DAY, dt.date(2026, 4, 25)}


def test_rebuild_is_byte_identical(scenario, tmp_path):
    from inspect_kit.publish import render

    kw = dict(issue_date=DRAW_DAY, now=dt.datetime(2026, 1, 7, 8, 0))
    # The same database state gives the same bytes; each issued notice adds a log entry, and the next
    # notice prints the new head, so only the head (and the bundles' log blocks) differ between them.
    fonts = service.fonts_from_config(scenario.config)
    built = [
        render(
            service.build_draw_notice(scenario.engine, scenario.config, Q1, issue_date=DRAW_DAY).notice, fonts, DRAW_DAY
        )
        for _ in range(2)
    ]
    assert built[0] == built[1]
    again = service.publish_draw(scenario.engine, scenario.config, Q1, path=tmp_path / "again.pdf", **kw)
    assert again.path.read_bytes() == built[0] and again.sha256 == hashlib.sha256(built[0]).hexdigest()
    assert again.notice_id != scenario.draw.notice_id  # recorded again: notices are append-only
    other = service.publish_draw(
        scenario.engine,
        scenario.config,
        Q1,
        path=tmp_path / "other.pdf",
        creation_date=dt.datetime(2026, 1, 6, 17, 30),
        **kw,
    )
    assert other.sha256 != again.sha256
    assert PdfReader(other.path).metadata["/CreationDate"].startswith("D:20260106173000+08")
    assert PdfReader(again.path).metadata["/CreationDate"].startswith("D:20260106000000+08")


# -- units, CLI, demo ---------------------------------------------------------------------------------


runner = CliRunner()


def cli(scenario, *args):
    from inspect_kit.cli import app

    return runner.invoke(app, ["--config", str(CONFIGS), "--db", scenario.url, *map(str, args)])


def test_several_units_need_unit_or_a_folder(scenario, tmp_path):
    assert service.notice_units(scenario.engine, scenario.config, YEAR) == ["STHJ", "JYTY"]
    with pytest.raises(InspectError, match="2 units .*--unit"):
        service.publish_draw(
            scenario.engine, scenario.config, YEAR, path=tmp_path / "x.pdf", issue_date=DRAW_DAY, now=NOW
        )
    one = service.publish_draw(
        scenario.engine, scenario.config, YEAR, unit="JYTY", path=tmp_path / "jyty.pdf", issue_date=DRAW_DAY, now=NOW
    )
    assert (
        one.issuer == "青山县教育体育局" and one.matter_codes == ["JYTY-01"] and one.files == ["draw-JYTY-01-2026.json"]
    )
    r = cli(scenario, "publish", "draw", "--year", 2026, "--date", "2026-01-06", "-o", f"{tmp_path / 'all'}/", "--json")
    assert r.exit_code == 0, r.output
    made = json.loads(r.output)
    assert [Path(m["path"]).name for m in made] == ["抽查名单公示-2026-STHJ.pdf", "抽查名单公示-2026-JYTY.pdf"]
    joint = flat(text_of(tmp_path / "all" / "抽查名单公示-2026-STHJ.pdf"))
    assert "青山县生态环境局、青山县市场监督管理局（联合检查）" in joint and "固定抽取3家" in joint


def assert_same_but_log_head(pdf: bytes, other: bytes) -> None:
    """The same notice, issued later: only the log head it prints (and its bundles carry) has moved on."""
    mine, theirs = embedded_files(pdf), embedded_files(other)
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        a, b = json.loads(mine[name]), json.loads(theirs[name])
        assert a.pop("log")["head"] != b.pop("log")["head"] and a == b
    assert len(PdfReader(io.BytesIO(pdf)).pages) == len(PdfReader(io.BytesIO(other)).pages)


def test_cli_publish_and_list(scenario, tmp_path):
    out = tmp_path / "名单.pdf"
    r = cli(scenario, "publish", "draw", "--quarter", Q1, "--date", "2026-01-06", "-o", out)
    assert r.exit_code == 0, r.output
    assert "draw notice of 2026Q1" in r.output
    assert_same_but_log_head(out.read_bytes(), scenario.draw.path.read_bytes())
    r = cli(scenario, "publish", "results", "--period", Q1, "--date", "2026-04-15", "-o", tmp_path / "r.pdf")
    assert r.exit_code == 1 and isinstance(r.exception, InspectError) and "--allow-incomplete" in str(r.exception)
    r = cli(
        scenario,
        "publish",
        "results",
        "--quarter",
        Q1,
        "--date",
        "2026-04-15",
        "--allow-incomplete",
        "-o",
        tmp_path / "r.pdf",
    )
    assert r.exit_code == 0 and f"待录入 (no finding yet): {scenario.pending.task_no}" in r.output
    r = cli(
        scenario,
        "publish",
        "results",
        "--quarter",
        Q1,
        "--date",
        "2026-04-15",
        "--allow-incomplete",
        "--json",
        "-o",
        tmp_path / "j.pdf",
    )
    assert r.exit_code == 0, r.output
    (published,) = [n for n in json.loads(r.output) if n["kind"] == "results"][:1]
    estimates = published["estimates"]  # what the sample says about each matter's whole frame
    assert [e["matter"] for e in estimates] == published["matter_codes"] and estimates
    for e in estimates:
        assert e["period"] == Q1 and sum(s["N"] for s in e["strata"]) == e["N"]
        assert e["inspected"] == sum(s["n"] for s in e["strata"]) and e["problems"] == sum(s["x"] for s in e["strata"])
        assert 0 <= e["low"] <= e["share"] <= e["high"] <= 1
    assert sum(e["inspected"] for e in estimates) == len(published["task_ids"]) - len(published["pending_task_ids"])
    listed = json.loads(cli(scenario, "publish", "list", "--quarter", Q1, "--json").output)
    mine = {Path(n["path"]).name: n for n in listed}
    assert mine["名单.pdf"]["file_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert mine["r.pdf"]["kind"] == "results" and mine["r.pdf"]["pending"] == 1
    assert cli(scenario, "publish", "list").exit_code == 0
    r = cli(scenario, "publish", "draw", "--quarter", Q1, "--month", "2026-03", "-o", out)
    assert r.exit_code == 1 and "only one of" in str(r.exception)
    for command in ("draw", "results", "list"):
        assert "Example:" in cli(scenario, "publish", command, "--help").output


def test_demo_step(scenario, tmp_path):
    from inspect_kit.demo import DemoContext
    from inspect_kit.publish import demo

    printed = []
    ctx = DemoContext(
        scenario.engine, scenario.config, REGISTRIES, tmp_path, echo=printed.append, table=lambda *a, **k: None
    )
    demo.run(ctx)
    names = sorted(p.name for p in tmp_path.glob("*.pdf"))
    assert names == sorted(
        [
            "抽查名单公示-2026Q1.pdf",
            "抽查结果公示-2026Q1.pdf",
            "抽查名单公示-2026-STHJ.pdf",
            "抽查名单公示-2026-JYTY.pdf",
            "抽查结果公示-2026-STHJ.pdf",
            "抽查结果公示-2026-JYTY.pdf",
        ]
    )
    assert_same_but_log_head((tmp_path / "抽查名单公示-2026Q1.pdf").read_bytes(), scenario.draw.path.read_bytes())
    kinds = Counter(n["kind"] for n in ctx.results["publish"]["notices"])
    assert kinds == {"draw": 3, "results": 3}
    assert any("抽查结果公示-2026Q1.pdf" in line for line in printed)


def test_fonts_come_from_settings_publish(scenario, tmp_path):
    import dataclasses

    from inspect_kit.publish.fonts import SHIPPED_HEI, SHIPPED_SONG

    assert service.fonts_from_config(scenario.config) == FontConfig()  # nothing configured: shipped fonts
    publish = scenario.config.settings.publish.model_copy(
        update={"title_font": str(SHIPPED_HEI.path), "body_font": str(SHIPPED_HEI.path)}
    )
    config = dataclasses.replace(
        scenario.config, settings=scenario.config.settings.model_copy(update={"publish": publish})
    )
    fonts = service.fonts_from_config(config)
    assert (fonts.title, fonts.body, fonts.fallback) == (str(SHIPPED_HEI.path), str(SHIPPED_HEI.path), None)
    hei = service.publish_draw(scenario.engine, config, Q1, path=tmp_path / "hei.pdf", issue_date=DRAW_DAY, now=NOW)

    def names(path):  # embedded subsets: /AAAAAA+BousungEG-Light-GB (the Song), /AAAAAA+WenQuanYiMicroHei-0
        return " ".join(str(name) for name, _ in _font_descriptors(PdfReader(path)))

    song, hei_name = "BousungEG", "WenQuanYiMicroHei"
    assert SHIPPED_SONG.path.name == "gbsn00lp.ttf" and song in names(scenario.draw.path)
    assert song not in names(hei.path) and hei_name in names(hei.path)
