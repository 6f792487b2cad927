"""The review of results and the evidence of inspections (inspect_kit.findings.review, .evidence):
the state machine, refused steps, the log, two reviewers at once, hostile uploads, and the results
notice publishing only approved results when [findings] review = "required".
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from inspect_kit.errors import InspectError
from inspect_kit.findings import evidence as ev
from inspect_kit.findings import review as rv
from inspect_kit.findings.service import add_finding
from inspect_kit.storage.models import Entity, Evidence, EvidenceBlob, FindingReview, LogEntry
from inspect_kit.transparency.store import verify_log
from tests.factories import make_draw, make_team

T0 = dt.datetime(2026, 3, 2, 9, 0)
AS_OF = dt.date(2026, 3, 31)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


@pytest.fixture
def field(demo_db):
    """Two STHJ-01 tasks of 2026Q1; officer ST0001 on the first's team, ST0002 on the second's."""
    with demo_db.connect() as c:
        idents = list(
            c.execute(
                select(Entity.identifier).where(Entity.category == "重点排污单位").order_by(Entity.identifier).limit(2)
            ).scalars()
        )
    nos = make_draw(demo_db, "STHJ-01", "2026Q1", idents)
    make_team(demo_db, nos[0], ["360199ST0001"])
    make_team(demo_db, nos[1], ["360199ST0002"])
    return demo_db, nos


def record(engine, no, by="钱晓桂", **over):
    values = {
        "inspection_date": "2026-03-02",
        "results": "未发现问题",
        "follow_up": "无需后续处置",
        "recorded_by": by,
        **over,
    }
    return add_finding(engine, no, values, as_of=AS_OF, now=T0, by=by)


def test_full_cycle_and_states(field):
    engine, (no, _) = field
    assert rv.review_state(engine, no).state == "none"
    with pytest.raises(InspectError, match="no finding"):
        rv.submit(engine, no, "钱晓桂", T0)
    record(engine, no)
    assert rv.review_state(engine, no).label == "草稿"
    with pytest.raises(InspectError, match="not submitted"):
        rv.approve(engine, no, "审核员", T0)
    assert rv.submit(engine, no, "钱晓桂", T0).label == "待审核"
    with pytest.raises(InspectError, match="already submitted"):
        rv.submit(engine, no, "钱晓桂", T0)
    with pytest.raises(InspectError, match="needs a reason"):
        rv.return_(engine, no, "  ", "审核员", T0)
    with pytest.raises(InspectError, match="another person"):
        rv.approve(engine, no, "钱晓桂", T0)
    state = rv.return_(engine, no, "检查日期有误", "审核员", T0)
    assert (state.label, state.return_reason) == ("退回", "检查日期有误")
    record(engine, no, inspection_date="2026-03-03")  # corrected: a new revision, a draft again
    state = rv.review_state(engine, no)
    assert (state.label, state.revision, state.return_reason) == ("草稿", 2, "检查日期有误")
    rv.submit(engine, no, "钱晓桂", T0)
    with pytest.raises(InspectError, match="changed since you read it"):
        rv.approve(engine, no, "审核员", T0, revision=1)  # the reviewer read the old revision
    state = rv.approve(engine, no, "审核员", T0, revision=2)
    assert (state.label, state.return_reason) == ("已审核", None)
    with engine.connect() as c:
        assert rv.approved_task_ids(c, [state.task_id]) == {state.task_id}
        assert verify_log(c).ok
        kinds = list(c.execute(select(LogEntry.kind).where(LogEntry.kind == "finding_review")).scalars())
    assert len(kinds) == 4  # submit, return, submit, approve
    record(engine, no, notes="补充")  # a change after approval: a draft again, no longer approved
    state = rv.review_state(engine, no)
    assert state.label == "草稿"
    with engine.connect() as c:
        assert rv.approved_task_ids(c, [state.task_id]) == set()


def test_accounts_of_the_wrong_role_or_unit_are_refused(field):
    from inspect_kit.accounts.service import add_user

    engine, (no, _) = field
    add_user(engine, "insp", role="inspector", password="correct horse battery", now=T0, cert_no="360199ST0003")
    add_user(engine, "rev-scjg", role="reviewer", password="correct horse battery", now=T0, unit_code="SCJG")
    record(engine, no)
    rv.submit(engine, no, "钱晓桂", T0)
    with pytest.raises(InspectError, match="only a reviewer"):
        rv.approve(engine, no, "insp", T0)
    with pytest.raises(InspectError, match="reviews for unit SCJG"):
        rv.return_(engine, no, "no", "rev-scjg", T0)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(FindingReview)).scalar() == 1


def test_queue_lists_the_units_submitted_results(field):
    engine, (a, b) = field
    record(engine, a)
    record(engine, b, by="熊海")
    rv.submit(engine, b, "熊海", T0)
    assert [i.task_no for i in rv.queue(engine, "STHJ")] == [b]
    assert rv.queue(engine, "SCJG") == []


def test_two_reviewers_approving_at_once_write_one_approval(field):
    engine, (no, _) = field
    record(engine, no)
    rv.submit(engine, no, "钱晓桂", T0)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go(name: str) -> None:
        barrier.wait()
        try:
            rv.approve(engine, no, name, T0)
            outcomes.append("ok")
        except InspectError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=go, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0] == "ok" and "ok" not in sorted(outcomes)[1:], outcomes
    assert any("not submitted" in o or "already approved" in o or "approved" in o for o in outcomes if o != "ok")
    with engine.connect() as c:
        n = c.execute(select(func.count()).select_from(FindingReview).where(FindingReview.action == "approve"))
        assert n.scalar() == 1


def test_evidence_is_stored_once_and_logged(field):
    engine, (no, _) = field
    item = ev.attach(engine, no, "现场.jpg", JPEG, "钱晓桂", T0)
    again = ev.attach(engine, no, "C:\\照片\\同一张.JPEG", JPEG, "钱晓桂", T0)
    pdf = ev.attach(engine, no, "笔录.pdf", PDF, "钱晓桂", T0)
    assert again.filename == "同一张.JPEG" and again.sha256 == item.sha256
    assert [i.id for i in ev.list_evidence(engine, no)] == [item.id, again.id, pdf.id]
    got, data = ev.get_evidence(engine, no, pdf.id)
    assert data == PDF and got.media_type == "application/pdf"
    with pytest.raises(InspectError):
        ev.get_evidence(engine, field[1][1], pdf.id)  # not the other task's
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(EvidenceBlob)).scalar() == 2
        assert verify_log(c).ok
        from inspect_kit.transparency.chain import content_sha256
        from inspect_kit.transparency.store import entry_of, record_content

        content = record_content(c, "evidence", item.id)
        assert content is not None and content["sha256"] == item.sha256
        entry = entry_of(c, "evidence", item.id)
        assert entry is not None and entry.content_sha256 == content_sha256(content)


@pytest.mark.parametrize(
    "name, data, why",
    [
        ("big.png", PNG + b"\x00" * 200, "more than the limit"),
        ("photo.pdf", PNG, "content is image/png"),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, "not a JPEG, PNG or PDF"),
        ("setup.jpg", b"MZ\x90\x00" + b"\x00" * 64, "not a JPEG, PNG or PDF"),
        ("empty.png", b"", "empty"),
        ("noext", PNG, "ends in"),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_is_stored(field, name, data, why):
    engine, (no, _) = field
    with pytest.raises(InspectError, match=why):
        ev.attach(engine, no, name, data, "钱晓桂", T0, max_bytes=200)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Evidence)).scalar() == 0
        assert c.execute(select(func.count()).select_from(EvidenceBlob)).scalar() == 0


def test_results_notice_publishes_only_approved_results_when_review_is_required(field):
    import dataclasses

    from inspect_kit.config import load_config
    from inspect_kit.publish.build_results import build_results_notice
    from tests.conftest import CONFIGS

    engine, (a, b) = field
    record(engine, a)
    record(engine, b, by="熊海")
    rv.submit(engine, a, "钱晓桂", T0)
    rv.approve(engine, a, "审核员", T0)
    cfg = load_config(CONFIGS)

    def review(mode):
        findings = cfg.settings.findings.model_copy(update={"review": mode})
        return cfg.settings.model_copy(update={"findings": findings})

    kw = dict(issue_date=dt.date(2026, 4, 1), matters=["STHJ-01"], allow_incomplete=True)
    off = build_results_notice(engine, dataclasses.replace(cfg, settings=review("off")), "2026Q1", **kw)
    assert off.pending_task_nos == []
    settings = review("required")
    required = build_results_notice(engine, dataclasses.replace(cfg, settings=settings), "2026Q1", **kw)
    assert required.pending_task_nos == [b]
    with pytest.raises(InspectError, match="no approved finding"):
        build_results_notice(
            engine,
            dataclasses.replace(cfg, settings=settings),
            "2026Q1",
            issue_date=dt.date(2026, 4, 1),
            matters=["STHJ-01"],
        )


def test_review_setting_defaults_to_off_and_refuses_other_values():
    from pydantic import ValidationError

    from inspect_kit.config.models import FindingsSettings

    assert FindingsSettings().review == "off"
    assert FindingsSettings(review="required").review == "required"
    with pytest.raises(ValidationError):
        FindingsSettings(review="yes")


def test_cli_review_is_a_thin_wrapper(field):
    """`inspect findings review submit|approve|return`: the same steps; a refused step is one line, exit 1."""
    from tests.test_findings_cli import run_main

    engine, (no, _) = field
    record(engine, no)
    r = run_main(engine, "findings", "review", "submit", "--task", no, "--by", "钱晓桂")
    assert r.returncode == 0 and "submitted 待审核" in r.stdout, r.stderr
    r = run_main(engine, "findings", "review", "return", "--task", no, "--by", "审核员")
    assert r.returncode == 1 and "needs a reason" in r.stderr and "Traceback" not in r.stderr
    r = run_main(engine, "findings", "review", "return", "--task", no, "--reason", "补充照片", "--by", "审核员")
    assert r.returncode == 0 and "returned 退回" in r.stdout
    assert rv.review_state(engine, no).return_reason == "补充照片"
    r = run_main(engine, "findings", "review", "approve", "--task", no, "--by", "审核员")
    assert r.returncode == 1 and "not submitted" in r.stderr
