"""Scoring against the database (inspect_kit.score.service / report): metrics from a small
hand-built database match hand-computed values; manual values are append-only with the latest
winning; imports are all or nothing; stored runs reproduce exactly and tampering is caught; the
explanation adds up; the PDF report embeds its fonts and extracts. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zlib
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.findings.calendar import WorkingCalendar
from inspect_kit.findings.deadlines import publicity_deadline
from inspect_kit.score import MetricValue, Missing, NotApplicable, load
from inspect_kit.score.service import (
    add_manual_value,
    collect_inputs,
    compute_metrics,
    explain_unit,
    import_manual_values,
    list_runs,
    load_run,
    manual_history,
    policy_from_config,
    run_scoring,
    verify_run,
)
from inspect_kit.storage.models import (
    Assignment,
    Conflict,
    Draw,
    Entity,
    Finding,
    Frame,
    Inspector,
    InspectorQualification,
    ManualValue,
    Notice,
    ScoringRun,
    Task,
    TeamMember,
)
from tests.conftest import CONFIGS, write_csv, write_xlsx
from tests.factories import make_draw
from tests.helpers import make_uscc

D = dt.date
YEAR = 2026
AS_OF = D(2026, 6, 30)
NOW = dt.datetime(2026, 6, 30, 17, 0)
LOADED = dt.datetime(2026, 1, 2, 9, 0)
RULES = CONFIGS / "assessment.toml"
CAL = WorkingCalendar()

# Entities: K* key sources (重点排污单位), G* general (一般排污单位), by number for make_uscc.
ENTITIES = {
    "K1": (1, "重点排污单位", "清水镇"),
    "K2": (2, "重点排污单位", "清水镇"),
    "K3": (3, "重点排污单位", "城关镇"),
    "K4": (4, "重点排污单位", "城关镇"),
    "G1": (11, "一般排污单位", "龙潭镇"),
    "G2": (12, "一般排污单位", "白沙乡"),
}
# Inspectors: (department, kind, qualification, valid_to, home township)
INSPECTORS = {
    "A1": ("STHJ", "officer", "生态环境执法", D(2028, 12, 31), "石桥乡"),
    "A2": ("STHJ", "officer", "生态环境执法", D(2028, 12, 31), "白沙乡"),
    "A3": ("STHJ", "officer", "生态环境执法", D(2026, 1, 31), "石桥乡"),  # certificate expired in January
    "A4": ("STHJ", "officer", "教育督导", D(2028, 12, 31), "石桥乡"),  # not qualified for 生态环境 matters
    "E1": ("STHJ", "expert", "生态环境执法", None, None),
    "S1": ("SCJG", "officer", "市场监管执法", D(2028, 12, 31), "龙潭镇"),
}


def uscc(name: str) -> str:
    return make_uscc(ENTITIES[name][0])


def frame_draw(
    engine, matter: str, period: str, members: list[str], drawn: list[str], n: int, stratum: str, at: dt.datetime
) -> dict[str, str]:
    """A frame with its quota per stratum (like the draw service writes) and a draw of `drawn`."""
    idents = sorted(uscc(m) for m in members)
    blob = "".join(f"{i}\t{stratum}\n" for i in idents).encode()
    with engine.begin() as c:
        ids = dict(c.execute(select(Entity.identifier, Entity.id)).all())
        frame = c.execute(
            insert(Frame.__table__).values(
                matter_code=matter,
                period=period,
                as_of=at.date(),
                prepared_at=at,
                frame_sha256=hashlib.sha256(blob).hexdigest(),
                n_rows=len(idents),
                strata=[
                    {
                        "stratum": stratum,
                        "N": len(idents),
                        "quota": "25%",
                        "rounding": "ceil",
                        "n": n,
                        "explanation": "test",
                    }
                ],
                excluded={},
                matter_spec={},
                matter_spec_sha256="0" * 64,
                frame_blob=zlib.compress(blob),
            )
        ).inserted_primary_key[0]
        draw = c.execute(
            insert(Draw.__table__).values(
                frame_id=frame,
                matter_code=matter,
                period=period,
                seed="0" * 20,
                seed_source="test",
                algorithm="test",
                algorithm_version="0",
                drawn_at=at,
                n_selected=len(drawn),
                sample_sha256="0" * 64,
            )
        ).inserted_primary_key[0]
        out = {}
        for k, m in enumerate(drawn, 1):
            no = f"{matter}-{period}-{k:03d}"
            c.execute(
                insert(Task.__table__).values(
                    draw_id=draw,
                    task_no=no,
                    entity_id=ids[uscc(m)],
                    identifier=uscc(m),
                    stratum=stratum,
                    ticket=f"0.{k:018d}",
                    rank=k,
                )
            )
            out[m] = no
    return out


def task_id(engine, no: str) -> int:
    with engine.connect() as c:
        return c.execute(select(Task.id).where(Task.task_no == no)).scalar_one()


def finding(engine, no: str, start: D, end: D, results=("R01",), follow_ups=("F01",), deadline=None, recheck=None):
    with engine.begin() as c:
        c.execute(
            insert(Finding.__table__).values(
                task_id=task_id(engine, no),
                inspection_start=start,
                inspection_end=end,
                results=list(results),
                follow_ups=list(follow_ups),
                rectification_deadline=deadline,
                recheck_date=recheck,
                rectification_status="closed" if recheck else ("open" if deadline else None),
                recorded_by="测试",
                created_at=NOW,
                updated_at=NOW,
            )
        )


def team(
    engine,
    no: str,
    members: list[str],
    at: dt.datetime = dt.datetime(2026, 1, 6, 9, 0),
    substitutes: dict[str, str] | None = None,
) -> None:
    """An assignment of the task's draw with `members` (experts by kind); substitutes: new → replaced."""
    with engine.begin() as c:
        tid, draw_id, matter, period = c.execute(
            select(Task.id, Task.draw_id, Draw.matter_code, Draw.period)
            .join(Draw, Draw.id == Task.draw_id)
            .where(Task.task_no == no)
        ).one()
        certs = dict(c.execute(select(Inspector.cert_no, Inspector.id)).all())
        aid = c.execute(
            insert(Assignment.__table__).values(
                matter_code=matter,
                period=period,
                draw_id=draw_id,
                seed="s" * 20,
                seed_source="test",
                algorithm="test",
                algorithm_version="0",
                created_at=at,
                pair_cap=0.5,
                inputs_sha256="0" * 64,
                fractional_sha256="0" * 64,
                fractional_blob=b"",
                inputs={},
            )
        ).inserted_primary_key[0]
        rows = {}
        for m in members:
            role = "expert" if INSPECTORS[m][1] == "expert" else "officer"
            rows[m] = c.execute(
                insert(TeamMember.__table__).values(
                    assignment_id=aid, task_id=tid, inspector_id=certs[f"C-{m}"], role=role, added_at=at
                )
            ).inserted_primary_key[0]
        for new, old in (substitutes or {}).items():
            c.execute(
                insert(TeamMember.__table__).values(
                    assignment_id=aid,
                    task_id=tid,
                    inspector_id=certs[f"C-{new}"],
                    role="substitute",
                    replaces_id=rows[old],
                    reason="资格不符，替换",
                    added_at=at + dt.timedelta(days=1),
                )
            )


def notice(engine, task_nos: list[str], issued: D, pending: list[str] = ()) -> None:
    with engine.begin() as c:
        c.execute(
            insert(Notice.__table__).values(
                kind="results",
                period="2026Q1",
                matter_codes=[],
                task_ids=[task_id(engine, n) for n in task_nos],
                pending_task_ids=[task_id(engine, n) for n in pending],
                path="x.pdf",
                file_sha256="0" * 64,
                pages=1,
                issued_on=issued,
                created_at=NOW,
            )
        )


@pytest.fixture
def world(configured):
    """The hand-built county: see the expected values in test_metrics_match_hand_computed_values."""
    eng = configured
    with eng.begin() as c:
        for name, (i, cat, town) in ENTITIES.items():
            c.execute(
                insert(Entity.__table__).values(
                    identifier=make_uscc(i),
                    name=f"{name}公司",
                    category=cat,
                    department="STHJ",
                    township=town,
                    updated_at=LOADED,
                )
            )
        for name, (dept, kind, qual, valid_to, home) in INSPECTORS.items():
            iid = c.execute(
                insert(Inspector.__table__).values(
                    cert_no=f"C-{name}",
                    name=f"检查员{name}",
                    department=dept,
                    kind=kind,
                    home_township=home,
                    cert_valid_from=D(2023, 1, 1) if valid_to else None,
                    cert_valid_to=valid_to,
                    updated_at=LOADED,
                )
            ).inserted_primary_key[0]
            c.execute(insert(InspectorQualification.__table__).values(inspector_id=iid, qualification=qual))
        a1 = c.execute(select(Inspector.id).where(Inspector.cert_no == "C-A1")).scalar_one()
        g2 = c.execute(select(Entity.id).where(Entity.identifier == uscc("G2"))).scalar_one()
        c.execute(
            insert(Conflict.__table__).values(
                inspector_id=a1, entity_id=g2, reason="近亲属在该单位任职", updated_at=LOADED
            )
        )
    q1 = dt.datetime(2026, 1, 5, 10, 0)
    # STHJ-01 2026Q1: a first draw of K3, superseded by a re-draw of K1 (the current draw).
    old = make_draw(eng, "STHJ-01", "2026Q1", [uscc("K3")], now=q1)
    t1 = frame_draw(
        eng, "STHJ-01", "2026Q1", ["K1", "K2", "K3", "K4"], ["K1"], 1, "重点排污单位", q1 + dt.timedelta(hours=1)
    )["K1"]
    # 2026Q2 (annual coverage: K1 left the frame); n = 2 planned but only K2 drawn.
    t2 = frame_draw(
        eng, "STHJ-01", "2026Q2", ["K2", "K3", "K4"], ["K2"], 2, "重点排污单位", dt.datetime(2026, 4, 1, 10)
    )["K2"]
    # STHJ-02: 2025Q4 (last year), 2026Q1 drawn in full; 2026Q2 never drawn.
    t0 = frame_draw(eng, "STHJ-02", "2025Q4", ["G1", "G2"], ["G1"], 1, "一般排污单位", dt.datetime(2025, 10, 8, 10))[
        "G1"
    ]
    q = frame_draw(eng, "STHJ-02", "2026Q1", ["G1", "G2"], ["G1", "G2"], 2, "一般排污单位", q1)
    t3, t3b = q["G1"], q["G2"]
    # LH-01 (joint STHJ + SCJG, yearly), through the test factory: no quota record in its frame.
    (t4,) = make_draw(eng, "LH-01", "2026", [uscc("K3")], now=q1)

    finding(eng, old[0], D(2026, 1, 20), D(2026, 1, 21))  # a superseded task: never counted
    finding(
        eng, t1, D(2026, 2, 10), D(2026, 2, 12), ("R05",), ("F02",), deadline=D(2026, 3, 15), recheck=D(2026, 3, 16)
    )
    finding(eng, t2, D(2026, 4, 20), D(2026, 4, 21))
    finding(eng, t3, D(2026, 3, 2), D(2026, 3, 3), ("R05",), ("F02",), deadline=D(2026, 4, 30))
    notice(eng, [t1, old[0]], publicity_deadline(D(2026, 2, 12), CAL))  # on the last day
    notice(eng, [t2], D(2026, 5, 25))  # late
    notice(eng, [t3], D(2026, 3, 20), pending=[t3])  # listed as pending: not published

    team(eng, t0, ["A1", "A2"], at=dt.datetime(2025, 10, 9))
    team(eng, t1, ["A1", "A4", "E1"], substitutes={"A2": "A4"})  # A4 unqualified, replaced by A2
    team(eng, t2, ["A1", "A3"], at=dt.datetime(2026, 4, 2))
    team(eng, t3, ["A1", "A4"])
    team(eng, t3b, ["A1", "A2"])
    team(eng, t4, ["A2", "S1"])
    return eng, {"T0": t0, "T1": t1, "T2": t2, "T3": t3, "T3b": t3b, "T4": t4, "old": old[0]}


@pytest.fixture
def policy(config):
    return policy_from_config(config)


def ratio(value) -> tuple[int, int]:
    assert isinstance(value, MetricValue), value
    assert value.numerator == sum(r.ok for r in value.records) and value.denominator == len(value.records)
    return value.numerator, value.denominator


def failing(value) -> dict[str, str]:
    return {r.ref: r.note for r in value.records if not r.ok}


def test_every_registered_metric_computes(world, policy):
    """A metric is one decorated function: every key of the vocabulary has one, and it gives a
    value (or says why not) for every unit, never an error."""
    from inspect_kit.score.inputs import MetricValue, Missing, NotApplicable
    from inspect_kit.score.metrics import COMPUTE, KNOWN_METRICS, METRICS

    assert set(COMPUTE) == set(METRICS) == set(KNOWN_METRICS) and len(METRICS) >= 7
    assert all(name and len(definition) > 40 for name, definition in METRICS.values())
    eng, _ = world
    metrics, _ = compute_metrics(eng, YEAR, as_of=AS_OF, policy=policy)
    for unit, values in metrics.items():
        assert set(values) == set(METRICS), unit
        assert all(isinstance(v, (MetricValue, NotApplicable, Missing)) for v in values.values())
    assert any(isinstance(v, MetricValue) for values in metrics.values() for v in values.values())


def test_metrics_match_hand_computed_values(world, policy):
    eng, t = world
    metrics, warnings = compute_metrics(eng, YEAR, as_of=AS_OF, policy=policy)
    sthj, scjg, jyty = metrics["STHJ"], metrics["SCJG"], metrics["JYTY"]

    # Planned cells by 30 June: STHJ-01 Q1 Q2, STHJ-02 Q1 Q2, LH-01 2026 → STHJ-02/2026Q2 never drawn.
    assert ratio(sthj["plan_completion"]) == (4, 5)
    assert set(failing(sthj["plan_completion"])) == {"STHJ-02/2026Q2"}
    # SCJG: SCJG-01/2026 not drawn, LH-01/2026 drawn; JYTY: neither of its yearly matters.
    assert ratio(scjg["plan_completion"]) == (1, 2) and ratio(jyty["plan_completion"]) == (0, 2)
    # Records carry the draw id.
    ok_notes = [r.note for r in sthj["plan_completion"].records if r.ok]
    assert all(n.startswith("抽取#") for n in ok_notes)

    # Quota cells: Q1 1≥1 ok; Q2 1<2 fails; STHJ-02 Q1 2≥2 ok; STHJ-02 Q2 undrawn fails; LH-01 has no quota record.
    assert ratio(sthj["sample_adequacy"]) == (2, 4)
    assert set(failing(sthj["sample_adequacy"])) == {"STHJ-01/2026Q2/重点排污单位", "STHJ-02/2026Q2"}
    assert "应抽2户，实抽1户" in failing(sthj["sample_adequacy"])["STHJ-01/2026Q2/重点排污单位"]
    assert any("LH-01" in w for w in warnings)

    # Key entities = the year's STHJ-01 frames: K1..K4; drawn by the current draws: K1 (Q1), K2 (Q2).
    # K3 was drawn only in the superseded draw (and by LH-01, which is not an annual matter).
    assert ratio(sthj["key_coverage"]) == (2, 4)
    assert set(failing(sthj["key_coverage"])) == {uscc("K3"), uscc("K4")}
    assert isinstance(jyty["key_coverage"], NotApplicable)

    # Publicity: T1 published on its deadline; T2 late; T3 only listed as pending, deadline passed.
    assert ratio(sthj["publicity_on_time"]) == (1, 3)
    assert set(failing(sthj["publicity_on_time"])) == {t["T2"], t["T3"]}
    assert "未公示" in failing(sthj["publicity_on_time"])[t["T3"]]

    # Rectification: T1 deadline Sunday 15 March rolls to Monday 16th, rechecked then: on time;
    # T3 deadline 30 April, never rechecked by 30 June.
    assert ratio(sthj["rectification_on_time"]) == (1, 2)
    assert set(failing(sthj["rectification_on_time"])) == {t["T3"]}

    # Findings: T1 T2 T3 recorded; T3b's quarter ended without one; T4's year has not ended.
    assert ratio(sthj["finding_recorded"]) == (3, 4)
    assert set(failing(sthj["finding_recorded"])) == {t["T3b"]}

    # Teams: T1 ok (A4 replaced by A2; the expert does not count); T4 ok (joint: STHJ 1 + SCJG 1);
    # T2: A3's certificate expired; T3: A4 unqualified and A1 inspected G1 in 2025Q4;
    # T3b: A1 declared a conflict with G2, A2's home township is G2's.
    assert ratio(sthj["team_compliance"]) == (2, 5)
    bad = failing(sthj["team_compliance"])
    assert set(bad) == {t["T2"], t["T3"], t["T3b"]}
    assert "执法证" in bad[t["T2"]] and "STHJ持有效执法证且具备资格的执法人员1名，少于2名" in bad[t["T2"]]
    assert "无本事项执法资格" in bad[t["T3"]] and "2025Q4检查过该对象" in bad[t["T3"]]
    assert "利害关系" in bad[t["T3b"]] and "户籍乡镇" in bad[t["T3b"]]
    assert ratio(scjg["team_compliance"]) == (1, 1)

    # SCJG has nothing to publish, rectify or record yet; townships have no matters.
    for key in ("publicity_on_time", "rectification_on_time", "finding_recorded"):
        assert isinstance(scjg[key], NotApplicable)
    assert all(isinstance(v, NotApplicable) and "无抽查事项" in v.reason for v in metrics["CHENGGUAN"].values())

    # As of an earlier date, only what had happened by then counts.
    metrics, _ = compute_metrics(eng, YEAR, as_of=D(2026, 3, 20), policy=policy)
    sthj = metrics["STHJ"]
    # Only Q1 cells and LH-01 are planned by 20 March: STHJ-01 Q1, STHJ-02 Q1, LH-01 2026.
    assert ratio(sthj["plan_completion"]) == (3, 3)
    # T1 published on time; T3's deadline (31 March) not yet passed: not counted.
    assert ratio(sthj["publicity_on_time"]) == (1, 1)
    # T1's rectification is done; T3's deadline is still ahead.
    assert ratio(sthj["rectification_on_time"]) == (1, 1)
    # The key sources drawn so far: only K1.
    assert ratio(sthj["key_coverage"]) == (1, 4)
    with pytest.raises(InspectError, match="before the year"):
        compute_metrics(eng, YEAR, as_of=D(2025, 12, 31), policy=policy)


def test_absent_stages_give_missing_or_not_applicable_and_the_demo_runs(configured, policy, config, tmp_path):
    metrics, _ = compute_metrics(configured, YEAR, as_of=AS_OF, policy=policy)
    sthj = metrics["STHJ"]
    assert ratio(sthj["plan_completion"]) == (0, 5)
    assert isinstance(sthj["key_coverage"], Missing)
    assert isinstance(sthj["team_compliance"], NotApplicable)
    # Inspected without any team recorded (no assignment stage): Missing, not a failure per task.
    with configured.begin() as c:
        c.execute(
            insert(Entity.__table__).values(
                identifier=uscc("G1"), name="G1公司", category="一般排污单位", township="龙潭镇", updated_at=LOADED
            )
        )
    (no,) = make_draw(configured, "STHJ-02", "2026Q1", [uscc("G1")])
    finding(configured, no, D(2026, 2, 2), D(2026, 2, 3))
    metrics, _ = compute_metrics(configured, YEAR, as_of=AS_OF, policy=policy)
    assert isinstance(metrics["STHJ"]["team_compliance"], Missing)
    assert ratio(metrics["STHJ"]["finding_recorded"]) == (1, 1)

    # The demo step runs on whatever stages exist, here almost none.
    from inspect_kit.demo import DemoContext
    from inspect_kit.score import demo

    lines = []
    ctx = DemoContext(
        configured, config, tmp_path, tmp_path, echo=lines.append, table=lambda *a, **k: lines.append(a[0])
    )
    demo.run(ctx)
    assert (tmp_path / "考评结果-2026.pdf").exists()
    assert any("report:" in str(x) for x in lines)
    assert verify_run(configured, ctx.results["score"]["run_id"]).ok


# ───────────────────────────── manual values ─────────────────────────────


def test_manual_values_append_only_latest_wins_and_judgements_add_up(world, policy):
    eng, _ = world
    rb = load(RULES)
    add_manual_value(eng, rb, year=YEAR, unit="STHJ", indicator="training", value="2", note="签到表第1页", now=NOW)
    add_manual_value(
        eng,
        rb,
        year=YEAR,
        unit="青山县生态环境局",
        indicator="执法人员业务培训次数",
        value="4",
        note="签到表第1—4页",
        by="李四",
        now=NOW + dt.timedelta(minutes=1),
    )
    add_manual_value(
        eng, rb, year=YEAR, unit="SCJG", indicator="training", value="n/a", note="本年度由省局统一培训", now=NOW
    )
    add_manual_value(eng, rb, year=YEAR, unit="STHJ", indicator="falsified_results", value="否", note="无", now=NOW)
    for points, reason in (
        ("1", "案卷甲未移送线索"),
        ("2", "作废"),
        ("0", "考评组复核：前两项扣分撤回"),
        ("1.5", "案卷乙处置不到位"),
        ("0.5", "案卷丙文书不全"),
    ):
        add_manual_value(eng, rb, year=YEAR, unit="STHJ", indicator="case_quality", value=points, note=reason, now=NOW)
    assert len(manual_history(eng, YEAR, "STHJ", "training")) == 2
    units = {u.code: u for u in collect_inputs(eng, rb, YEAR, as_of=AS_OF, policy=policy).units}
    sthj = units["STHJ"]
    assert sthj.manual["training"].value == "4" and sthj.manual["training"].evidence == "签到表第1—4页"
    assert sthj.manual["falsified_results"].value == "0"
    assert isinstance(units["SCJG"].manual["training"], NotApplicable)
    assert [(e.points, e.reason) for e in sthj.judgements["case_quality"]] == [
        ("1.5", "案卷乙处置不到位"),
        ("0.5", "案卷丙文书不全"),
    ]
    # The rows are append-only in the database itself.
    with pytest.raises(DBAPIError, match="append-only"):
        with eng.begin() as c:
            c.execute(text("UPDATE manual_values SET value = '5'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with eng.begin() as c:
            c.execute(text("DELETE FROM manual_values"))

    # Refused values name the reason and write nothing.
    before = len(manual_history(eng, YEAR))
    cases = [
        ("NOPE", "training", "1", "x", "unknown unit"),
        ("STHJ", "plan_completion", "1", "x", "computed from the records"),
        ("STHJ", "nope", "1", "x", "not an indicator"),
        ("STHJ", "training", "abc", "x", "not a number"),
        ("STHJ", "training", "3", " ", "note is required"),
        ("STHJ", "joint_lead", "1.5", "x", "whole number"),
        ("STHJ", "case_quality", "9", "x", "exceeds"),
        ("STHJ", "case_quality", "n/a", "x", "not a number"),
    ]
    for unit, ind, value, note, reason in cases:
        with pytest.raises(ValidationFailed, match=reason):
            add_manual_value(eng, rb, year=YEAR, unit=unit, indicator=ind, value=value, note=note, now=NOW)
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(ManualValue)).scalar_one() == before


def test_import_all_or_nothing_with_row_and_column_report(world, tmp_path):
    eng, _ = world
    rb = load(RULES)
    bad = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["2026年度考评手工数据"],
            ["单位", "指标", "值", "说明", "备注列"],
            ["STHJ", "training", 4, "签到表", ""],
            ["SCJG", "training", "许多", "台账", ""],
            [None, None, None, None, None],
            ["JYTY", "training", 2, "", ""],
            ["STHJ", "training", 3, "重复", ""],
        ],
    )
    with pytest.raises(ValidationFailed) as exc:
        import_manual_values(eng, rb, bad, year=YEAR, now=NOW)
    where = {(p.row, p.column) for p in exc.value.problems}
    assert where == {(4, "值"), (6, "说明"), (7, "指标")}
    assert "nothing was written" in str(exc.value)
    assert manual_history(eng, YEAR) == []

    missing = write_csv(tmp_path / "missing.csv", [["unit", "indicator", "value"], ["STHJ", "training", "4"]])
    with pytest.raises(ValidationFailed, match="missing column"):
        import_manual_values(eng, rb, missing, year=YEAR, now=NOW)

    good = write_csv(
        tmp_path / "good.csv",
        [
            ["unit", "indicator", "value", "note", "录入人"],
            ["STHJ", "training", "4", "签到表", "王五"],
            ["SCJG", "info_disclosure", "20", "公示系统记录", ""],
            ["SCJG", "case_quality", "1", "线索未移送", ""],
            ["SCJG", "case_quality", "0.5", "文书不全", ""],
        ],
        encoding="gbk",
    )
    summary = import_manual_values(eng, rb, good, year=YEAR, now=NOW, by="考评组", dry_run=True)
    assert len(summary.entries) == 4 and manual_history(eng, YEAR) == []
    summary = import_manual_values(eng, rb, good, year=YEAR, now=NOW, by="考评组")
    rows = manual_history(eng, YEAR)
    assert [(r.unit_code, r.indicator, r.value, r.entered_by) for r in rows] == [
        ("STHJ", "training", "4", "王五"),
        ("SCJG", "info_disclosure", "20", "考评组"),
        ("SCJG", "case_quality", "1", "考评组"),
        ("SCJG", "case_quality", "0.5", "考评组"),
    ]


# ───────────────────────────── runs ─────────────────────────────


@pytest.fixture
def stored(world, policy):
    eng, _ = world
    rb = load(RULES)
    add_manual_value(eng, rb, year=YEAR, unit="STHJ", indicator="training", value="3", note="签到表", now=NOW)
    add_manual_value(eng, rb, year=YEAR, unit="SCJG", indicator="case_quality", value="1.5", note="线索未移送", now=NOW)
    return eng, run_scoring(eng, rb, YEAR, as_of=AS_OF, now=NOW, policy=policy)


def _copy_run(eng, **changes) -> int:
    """Append a copy of run 1 with some columns changed (rows cannot be updated)."""
    with eng.begin() as c:
        row = dict(c.execute(select(ScoringRun.__table__).order_by(ScoringRun.id)).mappings().first())
        row.pop("id")
        row.update(changes)
        return c.execute(insert(ScoringRun.__table__).values(**row)).inserted_primary_key[0]


def test_run_is_stored_reproduced_exactly_and_tampering_is_caught(stored):
    eng, run = stored
    with eng.connect() as c:
        row = c.execute(select(ScoringRun.__table__)).one()
    assert row.rulebook_text == RULES.read_text(encoding="utf-8")
    assert row.rulebook_sha256 == hashlib.sha256(RULES.read_bytes()).hexdigest()
    assert row.rulebook_version == load(RULES).version and row.year == YEAR
    assert row.inputs["as_of"] == "2026-06-30" and len(row.inputs["units"]) == 8
    assert row.results["units"][0]["code"] == run.run.units[0].code
    report = verify_run(eng, run.id)
    assert report.ok, report.lines()
    again = load_run(eng, year=YEAR)
    assert again.id == run.id and again.run == run.run
    assert [r.id for r in list_runs(eng, YEAR)] == [run.id]
    # The stored run explains with the records of each deduction; the indicator points add up.
    for unit in run.run.units:
        assert sum((i.points for i in unit.indicators), Decimal(0)) == unit.total
        lines = explain_unit(again, unit.code)
        assert lines[-1].endswith(f"= {unit.total}")
    lines = explain_unit(again, "STHJ")
    text_ = "\n".join(lines)
    assert "未达标记录（1项）" in text_ and "STHJ-02/2026Q2" in text_  # behind the plan completion rate
    assert "线索未移送" in "\n".join(explain_unit(again, "SCJG"))
    with pytest.raises(InspectError, match="not in scoring run"):
        explain_unit(again, "NOPE")

    # A tampered rulebook text fails verification.
    text_ = run.rulebook.source_text
    tampered = text_.replace("per_occurrence = 0.5", "per_occurrence = 0.1")
    assert tampered != text_
    bad = _copy_run(eng, rulebook_text=tampered)
    report = verify_run(eng, bad)
    assert not report.ok
    assert {c.name for c in report.checks if not c.ok} >= {"rulebook text SHA-256"}
    # Even with the hash recomputed, the results differ.
    sneaky = _copy_run(eng, rulebook_text=tampered, rulebook_sha256=hashlib.sha256(tampered.encode()).hexdigest())
    report = verify_run(eng, sneaky)
    assert [c.name for c in report.checks if not c.ok] == ["results identical"]
    with pytest.raises(InspectError, match="does not reproduce"):
        load_run(eng, sneaky)
    # Tampered inputs are caught by their hash.
    inputs = dict(run_row_inputs(eng))
    inputs["units"][0]["name"] = "改过的名称"
    assert not verify_run(eng, _copy_run(eng, inputs=inputs)).ok
    with pytest.raises(InspectError, match="no scoring run #999"):
        verify_run(eng, 999)
    # Stored runs cannot be rewritten in place.
    with pytest.raises(DBAPIError, match="append-only"):
        with eng.begin() as c:
            c.execute(text("UPDATE scoring_runs SET rulebook_version = 'x'"))


def run_row_inputs(eng) -> dict:
    with eng.connect() as c:
        return c.execute(select(ScoringRun.inputs).order_by(ScoringRun.id).limit(1)).scalar_one()


# ───────────────────────────── report ─────────────────────────────


def test_report_pdf_embeds_fonts_extracts_text_and_is_recorded(stored, tmp_path, config):
    from pypdf import PdfReader

    from inspect_kit.publish import embedded_files
    from inspect_kit.score.report import default_issuer, fonts_from_config, write_report

    eng, run = stored
    out = tmp_path / "考评结果.pdf"
    result = write_report(
        eng,
        out,
        year=YEAR,
        issuer=default_issuer(config),
        issue_date=AS_OF,
        now=NOW,
        county="青山县",
        fonts=fonts_from_config(config),
    )
    data = out.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.run_id == run.id
    reader = PdfReader(io.BytesIO(data))
    assert result.pages == len(reader.pages) >= 3
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert font["/Subtype"] == "/TrueType" and "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]
    flat = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert "\x00" not in flat
    for u in run.run.units:
        assert u.name in flat and str(u.total) in flat
    for expected in (
        "青山县2026年度“双随机、一公开”监管工作考评结果",
        "一、考评结果",
        "图1",
        "年度抽查计划完成率",
        run.run.rulebook_sha256,
        "2026年6月30日",
    ):
        assert expected in flat, expected
    files = embedded_files(data)
    assert f"scoring-run-{run.id}.json" in files
    with eng.connect() as c:
        row = c.execute(select(Notice.__table__).where(Notice.kind == "score")).one()
    assert (row.period, row.file_sha256, row.pages, row.issued_on) == ("2026", result.sha256, result.pages, AS_OF)
    # Same run, fonts and date: the same bytes.
    # (the log excerpt as it was when written: the log has grown by the report's own entry since)
    from inspect_kit.publish.document import embedded_files
    from inspect_kit.publish.service import private_values
    from inspect_kit.score.report import build_report

    log = json.loads(embedded_files(data)["log-score-2026.json"])
    assert log["relies_on"] == [{"kind": "scoring_run", "record_id": run.id, "seq": log["relies_on"][0]["seq"]}]
    assert (
        build_report(
            load_run(eng, run.id),
            issuer=default_issuer(config),
            issue_date=AS_OF,
            county="青山县",
            fonts=fonts_from_config(config),
            private=private_values(eng),
            log=log,
        )
        == data
    )


def test_item_records_counts_findings_recorded_item_by_item(world, policy):
    """item_records: findings of matters with a checklist, ok once recorded item by item (through
    the findings write path, which refuses a partial record)."""
    from inspect_kit.findings import service as findings

    eng, t = world
    metrics, _ = compute_metrics(eng, YEAR, as_of=AS_OF, policy=policy)
    assert ratio(metrics["STHJ"]["item_records"]) == (0, 3)  # T1 T2 (STHJ-01), T3 (STHJ-02)
    assert "未逐项记录" in failing(metrics["STHJ"]["item_records"])[t["T1"]]
    items = {f"item:0{i}": "符合" for i in range(1, 6)} | {"item:02": "不符合：设施停运：R05"}
    items["problems"] = "设施停运"
    findings.add_finding(eng, t["T1"], items, as_of=AS_OF, now=dt.datetime(2026, 6, 1, 9), by="张三")
    metrics, _ = compute_metrics(eng, YEAR, as_of=AS_OF, policy=policy)
    value = metrics["STHJ"]["item_records"]
    assert ratio(value) == (1, 3) and set(failing(value)) == {t["T2"], t["T3"]}
    assert next(r.note for r in value.records if r.ok) == "逐项记录5项，其中不符合1项"
    assert isinstance(metrics["JYTY"]["item_records"], NotApplicable)
