"""The papers of a lawful inspection from the database (审批表, 检查通知书, 现场检查记录表) and the
annual plan: their text (own team only, certificate numbers, legal basis, materials, 回避, no phone
numbers), the QR code decoded by a real decoder (zxing-cpp) to the task's URL, the verification
code's rule, byte-identical rebuilds, refusals (no team, superseded draw, existing files), the CLI.

One scenario on SQLite, built once per module with the real draw and assign services: the 2026Q1
draws of STHJ-01 and STHJ-02 (STHJ-02 re-drawn, and never assigned), the 2026 draw of the joint
LH-01; teams for STHJ-01 and LH-01.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import shutil

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from inspect_kit.cli import app
from inspect_kit.config import load_config
from inspect_kit.draw import service as draws
from inspect_kit.draw.core.seeds import SeedSource
from inspect_kit.draw.store.tasks import current_tasks
from inspect_kit.errors import InspectError
from inspect_kit.paper import codes, service
from inspect_kit.paper.papers import BUILDERS
from inspect_kit.storage.models import Draw, Inspector, Task
from tests.conftest import CONFIGS

DRAWN = dt.datetime(2026, 1, 5, 10, 0)
ON = dt.date(2026, 1, 8)
VISIT = dt.date(2026, 1, 20)
SOURCE = SeedSource.witnessed("test dice", ["tester"])
runner = CliRunner()
PHONE = re.compile(r"(?<![0-9A-Z])1[3-9]\d{9}(?![0-9A-Z])")  # not inside a 统一社会信用代码


@pytest.fixture(scope="module")
def world(tmp_path_factory, _demo_templates):
    from inspect_kit.assign.service import assign_teams
    from inspect_kit.storage.db import make_engine

    folder = tmp_path_factory.mktemp("papers")
    db = folder / "papers.db"
    shutil.copyfile(_demo_templates("sqlite").removeprefix("sqlite:///"), db)
    engine = make_engine(f"sqlite:///{db}")
    config = load_config(CONFIGS)
    draws.draw_now(
        engine,
        config,
        "2026Q1",
        ["STHJ-01", "STHJ-02"],
        seed="48213 90577 16342 75018",
        source=SOURCE,
        as_of=DRAWN.date(),
        now=DRAWN,
    )
    draws.draw_now(
        engine,
        config,
        "2026Q1",
        ["STHJ-02"],
        seed="48213 90577 16342 75019",
        source=SOURCE,
        as_of=DRAWN.date(),
        now=DRAWN + dt.timedelta(minutes=5),
        redraw=True,
        reason="种子宣读有误",
    )
    draws.draw_now(
        engine, config, "2026", ["LH-01"], seed="48213 90577 16342 75020", source=SOURCE, as_of=DRAWN.date(), now=DRAWN
    )
    at = DRAWN + dt.timedelta(hours=1)
    assign_teams(engine, config, "2026Q1", seed="20417 88351 09926 47713", now=at, matters=["STHJ-01"])
    assign_teams(engine, config, "2026", seed="20417 88351 09926 47714", now=at, matters=["LH-01"])
    with engine.connect() as conn:
        tasks = {
            m: current_tasks(conn, p, m) for m, p in (("STHJ-01", "2026Q1"), ("LH-01", "2026"), ("STHJ-02", "2026Q1"))
        }
        first_sthj02 = conn.execute(select(Draw.id).where(Draw.matter_code == "STHJ-02").order_by(Draw.id)).first()[0]
        stale = conn.execute(select(Task.task_no).where(Task.draw_id == first_sthj02)).first()[0]
    yield engine, config, folder, db, tasks, stale
    engine.dispose()


def _text(pdf: bytes) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def _flat(s: str) -> str:
    return "".join(s.split())


def _all_teams(engine):
    from inspect_kit.assign.service import current_assignments

    out = {}
    for p, m in (("2026Q1", "STHJ-01"), ("2026", "LH-01")):
        for a in current_assignments(engine, p, m):
            out.update({t.task_no: t for t in a.teams})
    return out


def test_the_notice_names_its_own_team_the_basis_the_materials_and_the_right_to_avoidance(world):
    engine, config, _, _, tasks, _ = world
    task = tasks["STHJ-01"][0]
    paper = service.task_papers(engine, config, task_no=task.task_no, visit_from=VISIT, visit_to=VISIT, with_code=True)[
        0
    ]
    text = _text(service.render_paper("notice", paper, ON))
    teams = _all_teams(engine)
    mine = teams[task.task_no]
    assert len(mine.officers) >= 2
    for m in mine.officers:
        assert m.name in text and m.cert_no in text
    own = {m.cert_no for m in mine.officers}
    others = {m.cert_no for no, t in teams.items() if no != task.task_no for m in t.officers} - own
    assert others and not [c for c in others if c in text]  # no other task's team
    matter = config.matter("STHJ-01")
    assert _flat(matter.legal_basis) in text
    for material in matter.materials:
        assert _flat(material) in text
    assert "申请回避" in text and "回避事由" in text and "书面或者口头提出" in text
    assert task.entity_name in text and "2026年1月20日" in text and "一次性告知" in text
    assert paper.verification_code in text and _flat(paper.verification_url) in text
    # never a phone number: not the team's (from the registry), not any
    with engine.connect() as conn:
        phones = [p for p in conn.execute(select(Inspector.phone).where(Inspector.cert_no.in_(own))).scalars() if p]
    assert phones and not [p for p in phones if p in text]
    assert not PHONE.search(text)


def test_the_qr_code_decodes_to_the_tasks_verification_url(world):
    import pypdfium2 as pdfium
    import zxingcpp

    engine, config, _, _, tasks, _ = world
    task = tasks["STHJ-01"][1]
    paper = service.task_papers(engine, config, task_no=task.task_no, with_code=True)[0]
    secret = (CONFIGS / config.settings.publish.verification_secret_file).read_text().strip().encode()
    expected = codes.verification_url(
        config.settings.publish.public_base_url, task.task_no, codes.verification_code(secret, task.task_no)
    )
    assert paper.verification_url == expected
    assert expected.startswith("https://sjs.qingshan.example.cn/tasks/STHJ-01-2026Q1-")
    doc = pdfium.PdfDocument(service.render_paper("notice", paper, ON))
    found = []
    for page in doc:
        found += [r.text for r in zxingcpp.read_barcodes(page.render(scale=2).to_pil())]
    assert found == [expected]
    # another task's paper carries another code
    other = service.task_papers(engine, config, task_no=tasks["STHJ-01"][0].task_no, with_code=True)[0]
    assert other.verification_code != paper.verification_code


def test_verification_code_rule():
    a = codes.verification_code(b"k" * 32, "STHJ-01-2026Q1-001")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", a)
    assert a == codes.verification_code(b"k" * 32, "STHJ-01-2026Q1-001")  # deterministic
    assert a != codes.verification_code(b"j" * 32, "STHJ-01-2026Q1-001")  # depends on the secret
    assert a != codes.verification_code(b"k" * 32, "STHJ-01-2026Q1-002")
    # the documented rule, recomputed independently
    import hashlib
    import hmac

    mac = hmac.new(b"k" * 32, b"inspect-kit task verification v1\0STHJ-01-2026Q1-001", hashlib.sha256).digest()
    n = int.from_bytes(mac[:8], "big") >> 14
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert a.replace("-", "") == "".join(crockford[(n >> (5 * k)) & 31] for k in range(9, -1, -1))
    with pytest.raises(InspectError, match="at least 32"):
        codes.check_secret("short secret", "settings.toml")
    assert codes.verification_url("https://x.cn/", "A B", "C") == "https://x.cn/tasks/A%20B?code=C"


def test_notice_needs_the_settings(world, tmp_path):
    engine, config, _, _, tasks, _ = world
    no = tasks["STHJ-01"][0].task_no
    bare = dataclasses.replace(
        config,
        settings=config.settings.model_copy(
            update={"publish": config.settings.publish.model_copy(update={"verification_secret_file": None})}
        ),
    )
    with pytest.raises(InspectError, match="publish.verification_secret_file"):
        service.task_papers(engine, bare, task_no=no, with_code=True)
    short = tmp_path / "short.key"
    short.write_text("too short")
    weak = dataclasses.replace(
        config,
        settings=config.settings.model_copy(
            update={"publish": config.settings.publish.model_copy(update={"verification_secret_file": str(short)})}
        ),
    )
    with pytest.raises(InspectError, match="at least 32"):
        service.task_papers(engine, weak, task_no=no, with_code=True)
    # the approval and the record need no secret
    assert service.task_papers(engine, bare, task_no=no)[0].verification_code is None


def test_approval_and_record_content(world):
    engine, config, _, _, tasks, _ = world
    task = tasks["STHJ-01"][0]
    paper = service.task_papers(engine, config, task_no=task.task_no)[0]
    approval = _text(service.render_paper("approval", paper, ON))
    for needle in (
        "行政检查审批表",
        task.task_no,
        task.identifier,
        "审批人意见",
        "承办人意见",
        "2026年1月1日至2026年3月31日",
    ):
        assert needle in approval
    assert _flat(config.matter("STHJ-01").legal_basis) in approval
    for m in paper.officers:
        assert m.cert_no in approval
    record = _text(service.render_paper("record", paper, ON))
    items = config.matter("STHJ-01").checklist
    assert len(items) == 5
    for item in items:
        assert _flat(item.content) in record and _flat(item.basis) in record
    assert record.count("□符合") == len(items) and record.count("□不涉及") == len(items)
    assert "排污许可证执行情况" in record and "危险废物管理" in record
    for text in (approval, record):
        assert not PHONE.search(text)


def test_a_joint_task_names_both_departments(world):
    engine, config, _, _, tasks, _ = world
    paper = service.task_papers(engine, config, task_no=tasks["LH-01"][0].task_no, with_code=True)[0]
    assert paper.authority == "青山县生态环境局、青山县市场监督管理局（联合检查）"
    assert {p.unit for p in paper.officers} == {"青山县生态环境局", "青山县市场监督管理局"}
    text = _text(service.render_paper("notice", paper, ON))
    assert "青山县生态环境局、青山县市场监督管理局（联合检查）" in text


def test_rebuilds_are_byte_identical_and_files_are_never_replaced_silently(world, tmp_path):
    engine, config, _, _, tasks, _ = world
    no = tasks["STHJ-01"][0].task_no
    for kind in BUILDERS:
        target = tmp_path / f"{kind}.pdf"
        first = service.write_papers(engine, config, kind, output=target, issue_date=ON, task_no=no)[0]
        data = target.read_bytes()
        with pytest.raises(InspectError, match="--force"):
            service.write_papers(engine, config, kind, output=target, issue_date=ON, task_no=no)
        again = service.write_papers(engine, config, kind, output=target, issue_date=ON, task_no=no, force=True)[0]
        assert again.sha256 == first.sha256 and target.read_bytes() == data
    other = tmp_path / "not-a-pdf.pdf"
    other.write_text("my notes")
    with pytest.raises(InspectError, match="not a PDF"):
        service.write_papers(engine, config, "record", output=other, issue_date=ON, task_no=no, force=True)
    assert other.read_text() == "my notes"


def test_a_folder_of_papers_is_all_or_nothing(world, tmp_path):
    engine, config, _, _, tasks, _ = world
    out = tmp_path / "notices"
    out.mkdir()
    clash = out / f"检查通知书-{tasks['STHJ-01'][-1].task_no}.pdf"
    clash.write_bytes(b"%PDF-1.4 someone's file")
    with pytest.raises(InspectError, match="exists"):
        service.write_papers(engine, config, "notice", output=out, issue_date=ON, period="2026Q1", matter="STHJ-01")
    assert sorted(p.name for p in out.iterdir()) == [clash.name]
    clash.unlink()
    done = service.write_papers(engine, config, "notice", output=out, issue_date=ON, period="2026Q1", matter="STHJ-01")
    assert sorted(d.task_no for d in done) == sorted(t.task_no for t in tasks["STHJ-01"])
    assert len(list(out.glob("检查通知书-*.pdf"))) == len(tasks["STHJ-01"])


def test_tasks_without_team_or_from_a_superseded_draw_get_no_paper(world, tmp_path):
    engine, config, _, _, tasks, stale = world
    with pytest.raises(InspectError, match="no team assigned yet.*inspect assign"):
        service.write_papers(
            engine, config, "approval", output=tmp_path / "a.pdf", issue_date=ON, task_no=tasks["STHJ-02"][0].task_no
        )
    with pytest.raises(InspectError, match="superseded"):
        service.write_papers(engine, config, "approval", output=tmp_path / "a.pdf", issue_date=ON, task_no=stale)
    with pytest.raises(InspectError, match="no task"):
        service.write_papers(engine, config, "approval", output=tmp_path / "a.pdf", issue_date=ON, task_no="NOPE-1")
    assert not list(tmp_path.iterdir())


def test_cli(world, tmp_path):
    engine, config, _, db, tasks, _ = world
    no = tasks["STHJ-01"][0].task_no
    base = ["--db", f"sqlite:///{db}", "--config", str(CONFIGS), "paper"]
    r = runner.invoke(app, base + ["record", "--task", no, "--date", "2026-01-08", "-o", str(tmp_path / "r.pdf")])
    assert r.exit_code == 0, r.output
    assert "现场检查记录表" in r.output and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    r = runner.invoke(
        app,
        base
        + [
            "notice",
            "--period",
            "2026Q1",
            "--matter",
            "STHJ-01",
            "--date",
            "2026-01-08",
            "--visit-from",
            "2026-01-20",
            "-o",
            str(tmp_path / "n"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "n").glob("*.pdf"))) == len(tasks["STHJ-01"])
    r = runner.invoke(app, base + ["approval", "--task", no, "--period", "2026Q1", "-o", str(tmp_path / "x.pdf")])
    assert r.exit_code != 0 and not (tmp_path / "x.pdf").exists()
    plan = [
        "--db",
        f"sqlite:///{db}",
        "--config",
        str(CONFIGS),
        "publish",
        "plan",
        "--year",
        "2026",
        "--date",
        "2026-01-05",
    ]
    r = runner.invoke(app, plan + ["-o", str(tmp_path / "plans") + "/"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == [
        "抽查计划-2026-JYTY.pdf",
        "抽查计划-2026-SCJG.pdf",
        "抽查计划-2026-STHJ.pdf",
    ]
    r = runner.invoke(app, plan + ["--unit", "JYTY", "-o", str(tmp_path / "plans") + "/"])  # exists: refused
    assert r.exit_code == 1 and "--force" in str(r.exception) + r.output


# -- the annual plan ---------------------------------------------------------------------------------


def test_plan_content_per_unit(config):
    from inspect_kit.publish import render
    from inspect_kit.publish.notice_plan import build_plan_notice

    def text(unit: str) -> str:
        return _text(render(build_plan_notice(config.matters, config.units, unit, 2026, dt.date(2026, 1, 5))))

    sthj, scjg, jyty = text("STHJ"), text("SCJG"), text("JYTY")
    once = render(build_plan_notice(config.matters, config.units, "STHJ", 2026, dt.date(2026, 1, 5), log_head="7:ab"))
    assert once == render(
        build_plan_notice(config.matters, config.units, "STHJ", 2026, dt.date(2026, 1, 5), log_head="7:ab")
    )  # byte-identical rebuild
    assert "青山县生态环境局2026年度“双随机、一公开”抽查计划" in sthj
    for code in ("STHJ-01", "STHJ-02", "LH-01"):
        assert code in sthj
    assert "JYTY-01" not in sthj and "SCJG-01" not in sthj
    assert _flat(config.matter("STHJ-01").legal_basis) in sthj
    assert "25%" in sthj and "向上取整（不低于）" in sthj and "1:10（每10家抽取1家）" in sthj
    assert "全年覆盖全部对象" in sthj and "6个月内不再抽取" in sthj
    assert "每季度一次" in sthj and "第一季度至第四季度" in sthj
    assert "排污许可证执行情况" in sthj  # the checklist's items
    # the joint matter: in the lead unit's plan and in the partner's, with its lead unit
    for t in (sthj, scjg):
        assert "LH-01" in t and "牵头单位为青山县生态环境局" in t
    assert "A：3%" in scjg and "D：60%" in scjg and "信用风险分类" in scjg
    assert "民办幼儿园：100%" in jyty and "每年一次" in jyty


def test_plan_is_recorded_carries_the_log_and_refuses_bad_units(world, tmp_path):
    from inspect_kit.publish.plan_service import publish_plan
    from inspect_kit.publish.service import list_notices

    engine, config, *_ = world
    path = tmp_path / "plan.pdf"
    now = dt.datetime(2026, 1, 5, 10, 0)
    first = publish_plan(engine, config, 2026, path=path, unit="STHJ", issue_date=dt.date(2026, 1, 5), now=now)
    assert first.matter_codes == ["STHJ-01", "STHJ-02", "LH-01"]
    again = publish_plan(
        engine, config, 2026, path=path, unit="STHJ", issue_date=dt.date(2026, 1, 5), now=now, force=True
    )
    # a re-issue prints the log's newer head (the first issue was logged); the same database
    # state gives the same bytes (the demo, run twice, prints the same SHA-256s)
    assert again.reissue_of == first.notice_id and again.sha256 != first.sha256
    rows = [r for r in list_notices(engine, kind="plan") if r.path == str(path.resolve())]
    assert [r.period for r in rows] == ["2026", "2026"]
    with pytest.raises(InspectError, match="several units"):
        publish_plan(engine, config, 2026, path=tmp_path / "p2.pdf", issue_date=dt.date(2026, 1, 5), now=now)
    with pytest.raises(InspectError, match="no matter"):
        publish_plan(
            engine, config, 2026, path=tmp_path / "p2.pdf", unit="BAISHA", issue_date=dt.date(2026, 1, 5), now=now
        )
    with pytest.raises(InspectError, match="no unit"):
        publish_plan(
            engine, config, 2026, path=tmp_path / "p2.pdf", unit="NOPE", issue_date=dt.date(2026, 1, 5), now=now
        )
    assert not (tmp_path / "p2.pdf").exists()
    # the plan prints the log head and carries the log from the config's import on
    from inspect_kit.publish import embedded_files

    data = path.read_bytes()
    assert "透明日志" in _text(data) and "inspectlogverify--head" in _text(data)
    log = json.loads(embedded_files(data)["log-plan-2026.json"])
    assert [r["kind"] for r in log["relies_on"]] == ["import_batch"] and log["head"] == "{seq}:{entry_hash}".format(
        **log["entries"][-1]
    )
    # a config other than the one loaded into the database is refused
    changed = dataclasses.replace(config, sha256="0" * 64)
    with pytest.raises(InspectError, match="inspect config load"):
        publish_plan(
            engine, changed, 2026, path=tmp_path / "p2.pdf", unit="STHJ", issue_date=dt.date(2026, 1, 5), now=now
        )
    assert not (tmp_path / "p2.pdf").exists()


def test_the_demo_writes_the_three_papers_of_one_task_and_the_2026_plans(demo_run):
    from inspect_kit.storage.db import make_engine
    from inspect_kit.storage.models import Notice

    out, r = demo_run
    assert r.returncode == 0, r.stderr[-3000:]
    papers = sorted((out / "检查文书").glob("*.pdf"))
    assert [p.name.split("-")[0] for p in papers] == ["检查通知书", "现场检查记录表", "行政检查审批表"]
    task_no = papers[0].name.removeprefix("检查通知书-").removesuffix(".pdf")
    notice = _text(papers[0].read_bytes())
    assert task_no in notice and "申请回避" in notice and "2026年1月20日" in notice
    code = re.search(r"verification code (\S+)", r.stdout).group(1)
    assert code in notice
    assert sorted(p.name for p in out.glob("抽查计划-2026-*.pdf")) == [
        "抽查计划-2026-JYTY.pdf",
        "抽查计划-2026-SCJG.pdf",
        "抽查计划-2026-STHJ.pdf",
    ]
    engine = make_engine(f"sqlite:///{out / 'inspect.db'}")
    with engine.connect() as c:
        plans = c.execute(select(Notice.period, Notice.issued_on).where(Notice.kind == "plan")).all()
    engine.dispose()
    # (adapted: the demo now also re-issues 生态环境局's plan after amending its matters on 30 June)
    assert plans == [("2026", dt.date(2026, 1, 5))] * 3 + [("2026", dt.date(2026, 6, 30))]
    # the record is filled from the finding recorded item by item: one 不符合 item, its note
    record = _text(papers[1].read_bytes())
    assert record.count("■不符合") == 1 and record.count("■符合") == 4 and "□不符合" in record
    assert re.search(r"现场检查记录表 filled from the finding: .*不符合", r.stdout)
    # the re-issued plan lists the changes since 5 January
    amended = _text((out / "抽查计划-调整-2026-STHJ.pdf").read_bytes())
    assert "本计划于2026年1月5日首次公布。此后调整2项" in amended
    assert "抽查比例由“1:10（每10家抽取1家）”调整为“1:8（每8家抽取1家）”" in amended
    assert "需准备的材料增加“近三个月的污染防治设施用电记录”" in amended
    assert "计划调整情况" not in _text((out / "抽查计划-2026-STHJ.pdf").read_bytes())


def test_the_record_is_filled_from_the_recorded_item_results(world):
    from inspect_kit.findings import service as findings

    engine, config, _, _, tasks, _ = world
    task = tasks["STHJ-01"][1]
    items = {f"item:0{i}": "符合" for i in range(1, 6)}
    items |= {"item:04": "不符合：台账缺2026年1月记录：R05", "item:05": "不涉及：未产生危险废物"}
    findings.add_finding(
        engine,
        task.task_no,
        {
            "inspection_date": "2026-01-20",
            "results": "R05",
            "problems": "台账记录不完整",
            "follow_up": "F02",
            "rectification_deadline": "2026-02-20",
            "recorded_by": "张三",
            **items,
        },
        as_of=dt.date(2026, 1, 21),
        now=dt.datetime(2026, 1, 21, 9, 0),
    )
    paper = service.task_papers(engine, config, task_no=task.task_no)[0]
    assert [i.result for i in paper.item_results] == ["符合", "符合", "符合", "不符合", "不涉及"]
    record = _text(service.render_paper("record", paper, ON))
    assert record.count("■符合") == 3 and record.count("■不符合") == 1 and record.count("■不涉及") == 1
    assert record.count("□符合") == 2 and "台账缺2026年1月记录" in record and "未产生危险废物" in record
    # another task of the matter, without a finding, still gets blank boxes
    blank = _text(
        service.render_paper("record", service.task_papers(engine, config, task_no=tasks["STHJ-01"][2].task_no)[0], ON)
    )
    assert "■" not in blank and blank.count("□不符合") == 5
