"""Caps and coordinated draws against the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from inspect_kit.config.models import BurdenSettings, CoordinationYear
from inspect_kit.draw import service
from inspect_kit.draw.core.bundle import verify_bundle
from inspect_kit.draw.core.caps import CAP_REASON, cap_detail_problems
from inspect_kit.draw.store.caps import recount
from inspect_kit.storage.models import Frame, Task
from tests.test_draw_service import DICE, T0, T1, draw

CAP1 = BurdenSettings(per_category={"重点排污单位": 1})
PLAN = {
    "2026": CoordinationYear(
        seed="yearly seed 2026 published", groups={"env": {"mode": "positive", "matters": ["STHJ-01", "LH-01"]}}
    )
}


def _with(config, **settings):
    return dataclasses.replace(config, settings=config.settings.model_copy(update=settings))


def test_cap_excludes_with_reason_and_is_never_exceeded(demo_db, config):
    cfg = _with(config, burden=CAP1)
    first = draw(demo_db, cfg, "LH-01", "2026")
    later = draw(demo_db, cfg, "STHJ-01", "2026Q1")
    drawn_first = {t["identifier"] for t in first.tasks}
    assert drawn_first and not drawn_first & {t["identifier"] for t in later.tasks}
    with demo_db.connect() as c:
        frame = c.execute(select(Frame.__table__).where(Frame.matter_code == "STHJ-01")).one()
        assert frame.excluded[CAP_REASON] == len(drawn_first)
        detail = frame.cap_excluded
        assert {e["identifier"] for e in detail} == drawn_first
        assert all(e["sources"] == [f"draw #{first.id}"] and e["cap"] == 1 for e in detail)
        # a citizen's re-count from the logged tasks agrees; a forged entry does not
        assert cap_detail_problems(detail, recount(c, {f"draw #{first.id}"})) == []
        forged = [{**detail[0], "identifier": "91360199NOTDRAWN"}]
        assert cap_detail_problems(forged, recount(c, {f"draw #{first.id}"}))
        per_entity = Counter(c.execute(select(Task.identifier)).scalars())
    assert max(per_entity.values()) == 1
    bundle = service.export_bundle(demo_db, later.id)
    assert bundle["record"]["cap_excluded"] == detail and verify_bundle(bundle).ok


def test_frames_frozen_together_reserve_their_places(demo_db, config):
    """Two matters committed at one meeting: the second frame already counts the first's members,
    so an entity under a cap of one can be in only one of them."""
    cfg = _with(config, burden=CAP1)
    frames = service.prepare(demo_db, cfg, "2026", ["LH-01"], source=DICE, as_of=T0.date(), now=T0)
    members = frames[0].n_rows
    q1 = service.prepare(
        demo_db,
        _with(cfg, burden=BurdenSettings(total=2, per_category={"重点排污单位": 1})),
        "2026Q1",
        ["STHJ-02"],
        source=DICE,
        as_of=T0.date(),
        now=T0,
    )
    assert CAP_REASON not in q1[0].excluded  # another category: untouched
    import pytest

    from inspect_kit.errors import InspectError

    with pytest.raises(InspectError, match="empty"):
        service.prepare(demo_db, cfg, "2026Q1", ["STHJ-01"], source=DICE, as_of=T0.date(), now=T0)
    assert members > 0


def test_positive_coordination_overlaps_and_verifies(demo_db, config):
    cfg = _with(config, coordination=PLAN)
    year = draw(demo_db, cfg, "LH-01", "2026")
    q1 = draw(demo_db, cfg, "STHJ-01", "2026Q1")
    small, large = {t["identifier"] for t in year.tasks}, {t["identifier"] for t in q1.tasks}
    assert len(small) <= len(large) and small <= large  # the smaller sample inside the larger
    for d in (year, q1):
        bundle = service.export_bundle(demo_db, d.id)
        assert bundle["coordination"]["group"] == "env" and verify_bundle(bundle).ok
        tampered = {**bundle, "coordination": {**bundle["coordination"], "mode": "negative", "slot": 1}}
        assert not verify_bundle(tampered).ok
        assert service.verify_draw(demo_db, d.id).ok


def test_the_notices_standard_library_snippet_re_runs_a_coordinated_draw(demo_db, config, tmp_path):
    """The draw notice prints, for a coordinated draw, Python lines (standard library only) that
    re-derive it from its bundle: run them and compare with the stored sample."""
    import json
    import subprocess
    import sys

    from inspect_kit.publish import notices as nt

    d = draw(demo_db, _with(config, coordination=PLAN), "STHJ-01", "2026Q1")
    bundle = service.export_bundle(demo_db, d.id)
    name = "draw-STHJ-01-2026Q1.json"
    (tmp_path / name).write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    code = "\n".join(nt.coordinated_snippet(name))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == bundle["frame"]["sha256"]
    for line, s in zip(lines[1:], bundle["strata"]):
        got = [x["identifier"] for x in bundle["sample"] if x["stratum"] == s["stratum"]]
        assert line == f"{s['stratum']} {got}"


def test_negative_coordination_spreads(demo_db, config):
    plan = {
        "2026": CoordinationYear(
            seed="yearly seed 2026 published", groups={"env": {"mode": "negative", "matters": ["STHJ-01", "LH-01"]}}
        )
    }
    cfg = _with(config, coordination=plan)
    year = draw(demo_db, cfg, "LH-01", "2026")
    q1 = draw(demo_db, cfg, "STHJ-01", "2026Q1")
    assert not {t["identifier"] for t in year.tasks} & {t["identifier"] for t in q1.tasks}
    assert verify_bundle(service.export_bundle(demo_db, q1.id)).ok


def test_merge_makes_one_visit_per_entity_and_keeps_each_task(demo_db, config):
    import pytest
    from sqlalchemy import text

    from inspect_kit.joint import service as joint
    from inspect_kit.score.records import load_snapshot
    from inspect_kit.transparency.store import verify_log

    cfg = _with(config, coordination=PLAN, joint=config.settings.joint.model_copy(update={"lead_order": ["SCJG"]}))
    year = draw(demo_db, cfg, "LH-01", "2026")
    q1 = draw(demo_db, cfg, "STHJ-01", "2026Q1")
    common = {t["identifier"] for t in year.tasks} & {t["identifier"] for t in q1.tasks}
    assert common
    made = joint.merge(demo_db, cfg, "2026Q1", now=T1)
    assert {v.identifier for v in made} == common  # one visit per shared entity, no other
    for v in made:
        assert len(v.tasks) == 2 and {t["matter"] for t in v.tasks} == {"LH-01", "STHJ-01"}
        assert v.units == ["STHJ"] and v.lead_unit == "STHJ"  # SCJG is first in lead_order but not in the visit
    assert joint.merge(demo_db, cfg, "2026Q1", now=T1) == []  # nothing merged twice
    with demo_db.connect() as c:
        assert verify_log(c).ok
        snap = load_snapshot(c, 2026, dt.date(2026, 12, 31))
        n_tasks = c.execute(text("SELECT count(*) FROM tasks")).scalar_one()
        assert len(snap.joint) == 2 * len(made) and n_tasks == len(year.tasks) + len(q1.tasks)
    with demo_db.begin() as c, pytest.raises(DBAPIError):
        c.execute(text("DELETE FROM joint_visit_tasks"))


def test_joint_visit_plan_and_lead_rule():
    from inspect_kit.joint.core import VisitTask, joint_rate, plan_visits

    tasks = [
        VisitTask(1, "A-001", 10, "E1", "A", "U1"),
        VisitTask(2, "B-001", 10, "E1", "B", "U2"),
        VisitTask(3, "C-001", 10, "E1", "C", "U2"),
        VisitTask(4, "A-002", 11, "E2", "A", "U1"),
        VisitTask(5, "A-003", 12, "E3", "A", "U1"),
        VisitTask(6, "B-002", 12, "E3", "B", "U2"),
    ]
    plan = plan_visits("2026Q1", tasks, [], set())
    assert [(v.visit_no, v.identifier, v.lead_unit) for v in plan] == [
        ("JV-2026Q1-001", "E1", "U2"),
        ("JV-2026Q1-002", "E3", "U1"),
    ]
    assert plan_visits("2026Q1", tasks, ["U1"], set())[0].lead_unit == "U1"
    assert [v.identifier for v in plan_visits("2026Q1", tasks, [], {5}, 3)] == ["E1"]
    assert joint_rate([1, 2, 4], {1, 2}) == (2, 3)


def test_burden_and_merge_commands(demo_db, config, monkeypatch, capsys):
    """Draws coordinated (STHJ-01 with LH-01, positive), and the shipped cap of 2 county-level
    inspections: the burden and merge commands on what they drew."""
    import json

    from tests.test_assign_service import cli, exit_code

    cfg = _with(config, coordination=PLAN)
    year = draw(demo_db, cfg, "LH-01", "2026")
    q1 = draw(demo_db, cfg, "STHJ-01", "2026Q1")
    both = {t["identifier"] for t in year.tasks} & {t["identifier"] for t in q1.tasks}
    assert len(both) == len(year.tasks)  # positive coordination: all three inside the larger sample
    r = cli(demo_db, "burden", "--year", "2026", "--json")
    assert r.exit_code == 0, r.output
    b = json.loads(r.output)
    at_cap = {e["identifier"] for e in b["at_or_near_cap"] if e["status"] == "at cap"}
    assert at_cap == both  # two county-level inspections each: at the per-level cap of 2
    assert b["distribution"]["2"] == len(both)
    r = cli(demo_db, "merge", "--period", "2026Q1", "--json")
    assert r.exit_code == 0, r.output
    assert {v["identifier"] for v in json.loads(r.output)["visits"]} == both
    code, out = exit_code(demo_db, monkeypatch, capsys, "merge", "--period", "2026Q9")
    assert code == 1 and "Traceback" not in out


def test_a_sealed_draw_is_not_revealed_by_later_frames_caps(demo_db, config):
    """Attack: a sealed draw (保密抽查) keeps its list secret until it is unsealed, but a later
    frame's cap exclusions (public in its bundle) would name the entities it drew. Until it is
    unsealed, the sealed draw reserves its whole frame instead; after, its tasks count."""
    import pytest

    from inspect_kit.draw.store.caps import year_inspections
    from inspect_kit.errors import InspectError

    cfg = _with(config, burden=BurdenSettings(per_category={"一般排污单位": 1}))
    service.prepare(demo_db, cfg, "2026Q1", ["STHJ-02"], source=DICE, as_of=T0.date(), now=T0, sealed=True)
    sealed = service.run(demo_db, cfg, "2026Q1", ["STHJ-02"], now=T1, seed="48213 90577 16342 75018")[0]
    later = dt.datetime(2026, 4, 3, 9, 0)
    with demo_db.connect() as c:
        counted = year_inspections(c, cfg, 2026)
        drawn = set(c.execute(select(Task.identifier).where(Task.draw_id == sealed.id)).scalars())
        frame_blob = c.execute(select(Frame.frame_blob).where(Frame.matter_code == "STHJ-02")).scalar_one()
    assert drawn and all("sealed draw" in i.source and "frame #" in i.source for i in counted)
    assert len(counted) > len(drawn) and frame_blob  # every member of the frame, not the sample
    with pytest.raises(InspectError) as err:  # every general source is reserved: nothing to draw yet
        service.prepare(demo_db, cfg, "2026Q2", ["STHJ-02"], source=DICE, as_of=later.date(), now=later)
    assert not any(i in str(err.value) for i in drawn)
    service.unseal(demo_db, "STHJ-02", "2026Q1", now=later)
    frames = service.prepare(demo_db, cfg, "2026Q2", ["STHJ-02"], source=DICE, as_of=later.date(), now=later)
    assert frames[0].excluded[CAP_REASON] == len(drawn)
    with demo_db.connect() as c:
        detail = c.execute(select(Frame.cap_excluded).where(Frame.id == frames[0].id)).scalar_one()
    assert {e["identifier"] for e in detail} == drawn and {s for e in detail for s in e["sources"]} == {
        f"draw #{sealed.id}"
    }


def test_prepare_warns_when_coordinated_matters_will_not_share_their_numbers(demo_db, config):
    """Rule 2's numbers come from the public seed (and a sealed draw's salt): coordinated matters of
    one period committed to different sources, or sealed, are coordinated in name only. `prepare`
    says so, naming both matters and sources; committed together to one source, it says nothing."""
    from inspect_kit.draw.core.seeds import SeedSource

    plan = {
        "2026": CoordinationYear(
            seed="yearly seed 2026 published", groups={"env2": {"mode": "positive", "matters": ["STHJ-01", "STHJ-02"]}}
        )
    }
    cfg = _with(config, coordination=plan, burden=BurdenSettings())  # no cap: four quarters of STHJ-02
    lots = SeedSource.witnessed("抽签", ["公证员李明"])

    def prepare(matters, period, source, **kw):
        return service.prepare(demo_db, cfg, period, matters, source=source, as_of=T0.date(), now=T0, **kw)

    together = prepare(["STHJ-01", "STHJ-02"], "2026Q1", DICE)
    assert [f.warnings for f in together] == [[], []]
    apart = [prepare(["STHJ-01"], "2026Q2", DICE)[0], prepare(["STHJ-02"], "2026Q2", lots)[0]]
    assert apart[0].warnings == []
    (warning,) = apart[1].warnings
    assert "STHJ-02 and STHJ-01 2026Q2" in warning and "group env2" in warning
    assert DICE.describe() in warning and lots.describe() in warning
    sealed = prepare(["STHJ-01", "STHJ-02"], "2026Q3", DICE, sealed=True)
    assert sealed[0].warnings == [] and len(sealed[1].warnings) == 1 and "salt" in sealed[1].warnings[0]
    same_source_later = [prepare(["STHJ-01"], "2026Q4", DICE)[0], prepare(["STHJ-02"], "2026Q4", DICE)[0]]
    assert [f.warnings for f in same_source_later] == [[], []]
