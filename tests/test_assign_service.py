"""Team assignment against the database: every rule on the demo county, reproducibility,
re-assignments, substitutes, infeasibility, verification and tampering, the CLI.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import subprocess
import sys
import zlib
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from inspect_kit.assign import Fractional, instance_sha256, sample_assignment, service
from inspect_kit.assign.core.eligibility import (
    History,
    InspectorRow,
    Rules,
    TaskRow,
    build_eligibility,
    inputs_document,
    inputs_sha256,
    instance_from_inputs,
)
from inspect_kit.cli import app, main
from inspect_kit.draw import service as draws
from inspect_kit.draw.core.seeds import SeedSource
from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.periods import parse_period
from inspect_kit.storage.models import Assignment, Conflict, Entity, Inspector, InspectorQualification, Task, TeamMember
from tests.conftest import CONFIGS
from tests.factories import make_draw

SEED = "20417 88351 09926 47713"
SEED2 = "99120 31877 46502 11839"
DRAW_SEED = "48213 90577 16342 75018"
DRAWN = dt.datetime(2026, 1, 5, 10, 0)
AT = dt.datetime(2026, 1, 6, 10, 0)
runner = CliRunner()


def _draw(engine, config, period: str) -> None:
    p = parse_period(period)
    for m in config.matters:
        if m.period == p.kind:
            draws.prepare_frame(
                engine,
                config,
                m.code,
                p,
                as_of=DRAWN.date(),
                now=DRAWN - dt.timedelta(hours=1),
                source=SeedSource.witnessed("test dice", ["tester"]),
            )
            draws.run_draw(engine, config, m.code, p, seed=DRAW_SEED, now=DRAWN)


@pytest.fixture
def q1(demo_db, config):
    """The demo county with the 2026Q1 draws of the quarterly matters (7 STHJ tasks)."""
    _draw(demo_db, config, "2026Q1")
    return demo_db


@pytest.fixture
def drawn(q1, config):
    """... and the 2026 draws of the yearly matters (JYTY-01, JYTY-02, SCJG-01 with ~283 tasks, joint LH-01)."""
    _draw(q1, config, "2026")
    return q1


def assign(engine, config, period, seed=SEED, **kw):
    return service.assign_teams(engine, config, period, seed=seed, seed_source="test", now=kw.pop("now", AT), **kw)


# -- independent reading of the database (not through the service) ------------------------------------


def registry(engine):
    with engine.connect() as c:
        people = {r.id: r for r in c.execute(select(Inspector.__table__))}
        quals = defaultdict(set)
        for iid, q in c.execute(select(InspectorQualification.inspector_id, InspectorQualification.qualification)):
            quals[iid].add(q)
        conflicts = set(c.execute(select(Conflict.inspector_id, Conflict.entity_id)).all())
    return people, quals, conflicts


def stored_teams(engine, assignment_id):
    """task id → (entity id, township, [(inspector id, role, member id, replaces id)]) of one assignment."""
    with engine.connect() as c:
        rows = c.execute(
            select(
                TeamMember.task_id,
                TeamMember.inspector_id,
                TeamMember.role,
                TeamMember.id,
                TeamMember.replaces_id,
                Task.entity_id,
                Entity.township,
            )
            .join(Task, Task.id == TeamMember.task_id)
            .join(Entity, Entity.id == Task.entity_id)
            .where(TeamMember.assignment_id == assignment_id)
            .order_by(TeamMember.id)
        ).all()
    out = {}
    for r in rows:
        out.setdefault(r.task_id, (r.entity_id, r.township, []))[2].append(
            (r.inspector_id, r.role, r.id, r.replaces_id)
        )
    return out


def officer_teams(engine, assignment_id):
    """task id → inspector ids with role 'officer' (before substitutes)."""
    return {
        t: sorted(i for i, role, _, _ in ms if role == "officer")
        for t, (_, _, ms) in stored_teams(engine, assignment_id).items()
    }


def record(engine, assignment_id):
    with engine.connect() as c:
        return c.execute(select(Assignment.__table__).where(Assignment.id == assignment_id)).one()


# -- every rule on the demo county ----------------------------------------------------------------------


def test_every_rule_holds_on_the_demo_county(drawn, config):
    done = assign(drawn, config, "2026Q1") + assign(drawn, config, "2026")
    assert sorted(a.matter for a in done) == ["JYTY-01", "JYTY-02", "LH-01", "SCJG-01", "STHJ-01", "STHJ-02"]
    people, quals, conflicts = registry(drawn)
    assigned: set[str] = set()
    for a in done:
        matter = config.matter(a.matter)
        period = parse_period(a.period)
        qualifying = set(matter.qualification) | {matter.code}
        demand = matter.team_demand()
        rec = record(drawn, a.id)
        fractional = Fractional.from_canonical(zlib.decompress(rec.fractional_blob))
        teams = stored_teams(drawn, a.id)
        with drawn.connect() as c:
            n_tasks = c.execute(select(Task.id).where(Task.draw_id == a.draw_id)).all()
        assert len(teams) == len(n_tasks) == len(a.teams) > 0
        loads: Counter[str] = Counter()
        for entity_id, township, members in teams.values():
            officers = [people[i] for i, role, _, _ in members if role == "officer"]
            assert len({o.id for o in officers}) == len(officers)  # distinct
            assert Counter(o.department for o in officers) == Counter(demand)  # size, and joint shares
            for o in officers:
                assert o.kind == "officer" and o.status == "active"
                assert quals[o.id] & qualifying
                assert o.cert_valid_from <= period.start and o.cert_valid_to >= period.end
                assert (o.id, entity_id) not in conflicts
                assert o.home_township != township  # same_township = true in the demo settings
                loads[o.cert_no] += 1
            assert len(officers) >= 2
        assigned.update(loads)
        expected = fractional.expected_loads()
        for c_no, e in expected.items():
            assert e.numerator // e.denominator <= loads.get(c_no, 0) <= -(-e.numerator // e.denominator), c_no
        assert (
            max(
                float(fractional.probability(t, o))
                for t in fractional.graph.task_slots
                for o in fractional.graph.officer_ids
            )
            <= 0.5
        )
    assert "360199ST0012" not in assigned  # on leave
    assert "360199SC0038" not in assigned  # certificate expired 2025-12-31
    lh = next(a for a in done if a.matter == "LH-01")
    for t in lh.teams:
        assert sorted(m.department for m in t.officers) == ["SCJG", "STHJ"]
    assert all(ok for _, ok, _ in service.verify_assignments(drawn))


def test_previous_period_and_repeat_pair_rules(q1, config):
    first = assign(q1, config, "2026Q1")
    people, _, _ = registry(q1)
    q1_team_of_entity = defaultdict(set)
    q1_pairs = set()
    for a in first:
        for entity_id, _, members in stored_teams(q1, a.id).values():
            ids = sorted(i for i, role, _, _ in members if role == "officer")
            q1_team_of_entity[entity_id].update(ids)
            q1_pairs.add(tuple(ids))
    idents = [t.identifier for a in first for t in a.teams]
    make_draw(q1, "STHJ-02", "2026Q2", idents)  # the same entities again next quarter
    (second,) = assign(q1, config, "2026Q2", seed=SEED2, now=dt.datetime(2026, 4, 6, 10))
    inputs = record(q1, second.id).inputs
    assert len(inputs["forbidden_pairs"]) == len(q1_pairs)
    assert inputs["rules"]["previous_periods"] == 1 and inputs["rules"]["repeat_pair"] is True
    for entity_id, _, members in stored_teams(q1, second.id).values():
        ids = sorted(i for i, role, _, _ in members if role == "officer")
        assert not set(ids) & q1_team_of_entity[entity_id]  # inspected it last period
        assert tuple(ids) not in q1_pairs  # paired last period
    assert service.verify_assignment(q1, second.id).ok


def test_caps_per_period_are_shared_by_the_matters_and_per_matter_caps(q1, config):
    with q1.begin() as c:
        c.execute(update(Inspector).where(Inspector.department == "STHJ").values(max_tasks_per_period=2))
    done = assign(q1, config, "2026Q1")
    loads = Counter(m.cert_no for a in done for t in a.teams for m in t.officers)
    assert sum(loads.values()) == 14 and max(loads.values()) <= 2
    second = record(q1, done[1].id).inputs  # STHJ-02: caps reduced by the STHJ-01 loads
    first_loads = Counter(m.cert_no for t in done[0].teams for m in t.officers)
    assert {o["id"]: o["cap"] for o in second["officers"]} == {
        o["id"]: 2 - first_loads[o["id"]] for o in record(q1, done[0].id).inputs["officers"] if first_loads[o["id"]] < 2
    }

    capped = dataclasses.replace(
        config,
        matters=[
            m.model_copy(update={"max_tasks_per_inspector": 1}) if m.code == "STHJ-01" else m for m in config.matters
        ],
    )
    (again,) = assign(q1, capped, "2026Q1", seed=SEED2, matters=["STHJ-01"], reassign=True, reason="caps")
    assert max(Counter(m.cert_no for t in again.teams for m in t.officers).values()) == 1
    assert all(o["cap"] is not None and o["cap"] <= 1 for o in record(q1, again.id).inputs["officers"])


# -- reproducibility, history ---------------------------------------------------------------------------


def test_same_seed_same_teams_other_seed_other_teams_fractional_independent_of_seed(drawn, config):
    (a,) = assign(drawn, config, "2026", matters=["SCJG-01"])
    with pytest.raises(InspectError, match="already has teams"):
        assign(drawn, config, "2026", matters=["SCJG-01"], seed=SEED2)
    with pytest.raises(InspectError, match="needs --reason"):
        assign(drawn, config, "2026", matters=["SCJG-01"], seed=SEED2, reassign=True)
    with pytest.raises(InspectError, match="same seed on the same inputs"):
        assign(drawn, config, "2026", matters=["SCJG-01"], reassign=True, reason="again")
    (b,) = assign(drawn, config, "2026", matters=["SCJG-01"], seed=SEED2, reassign=True, reason="会议改期")
    (c,) = assign(drawn, config, "2026", matters=["SCJG-01"], reassign=True, reason="回到原种子")
    ra, rb, rc = record(drawn, a.id), record(drawn, b.id), record(drawn, c.id)
    assert ra.fractional_sha256 == rb.fractional_sha256 == rc.fractional_sha256  # the LP never sees the seed
    assert ra.fractional_blob == rc.fractional_blob and ra.inputs_sha256 == rb.inputs_sha256
    assert officer_teams(drawn, a.id) == officer_teams(drawn, c.id)
    assert officer_teams(drawn, a.id) != officer_teams(drawn, b.id)
    fr = Fractional.from_canonical(zlib.decompress(ra.fractional_blob))
    assert sample_assignment(fr, SEED).canonical_bytes() == sample_assignment(fr, SEED).canonical_bytes()

    # history: every record stays, the latest is current, and the later stages read the latest
    assert (rb.reassignment_of, rb.reason, rc.reassignment_of) == (a.id, "会议改期", b.id)
    assert [x.id for x in service.list_assignments(drawn, "2026", "SCJG-01")] == [a.id, b.id, c.id]
    assert [x.id for x in service.current_assignments(drawn, "2026", "SCJG-01")] == [c.id]
    from inspect_kit.findings.records import current_teams as _teams

    with drawn.connect() as conn:
        names = _teams(conn, [c.teams[0].task_id])[c.teams[0].task_id]
    assert names == "、".join(m.name for m in c.teams[0].officers)
    with pytest.raises(DBAPIError):  # append-only: triggers refuse UPDATE
        with drawn.begin() as conn:
            conn.execute(update(Assignment).where(Assignment.id == a.id).values(seed="x" * 20))
    assert all(ok for _, ok, _ in service.verify_assignments(drawn))


def test_infeasible_instances_are_reported_per_task_and_nothing_is_stored(q1, config):
    # only 钱晓桂 and 吴春 (石桥乡) and 熊海 (白沙乡) stay on duty
    with q1.begin() as c:
        c.execute(
            update(Inspector)
            .where(
                Inspector.department == "STHJ",
                Inspector.kind == "officer",
                Inspector.cert_no.not_in(["360199ST0001", "360199ST0002", "360199ST0004"]),
            )
            .values(status="on_leave")
        )
    with pytest.raises(ValidationFailed) as exc:
        assign(q1, config, "2026Q1")
    msg = str(exc.value)
    assert "nothing was written" in msg
    shiqiao = [t for t in current_task_list(q1, "STHJ-01") if t.township == "石桥乡"]
    assert shiqiao
    t = shiqiao[0]
    assert (
        f"task {t.task_no} (entity {t.entity_name}, township 石桥乡) has 1 eligible officer(s) of department STHJ; "
        "team size 2 with pair cap 0.5 needs at least 4"
    ) in msg
    assert "9 not on duty" in msg and "2 home township is the entity's township" in msg
    assert "2026Q1 (STHJ-01, STHJ-02): teams cannot be assigned" in msg and "task STHJ-02-2026Q1-00" in msg
    with q1.connect() as c:
        assert c.execute(select(Assignment.id)).all() == [] and c.execute(select(TeamMember.id)).all() == []
    with pytest.raises(InspectError, match="has been drawn for 2026Q3"):
        assign(q1, config, "2026Q3")


def current_task_list(engine, matter):
    from inspect_kit.draw.store.tasks import current_tasks

    with engine.connect() as c:
        return current_tasks(c, matter=matter)


def test_experts_are_drawn_on_top_and_never_count(q1, config):
    done = assign(q1, config, "2026Q1", experts=1)
    for a in done:
        for t in a.teams:
            assert [m.cert_no for m in t.experts] == ["ZJ360199039"]  # the only expert qualified for 生态环境执法
            assert len(t.officers) == 2
    with pytest.raises(InspectError, match="no other eligible expert"):
        service.substitute(
            q1, config, done[0].teams[0].task_no, "ZJ360199039", reason="病假", now=dt.datetime(2026, 2, 1)
        )
    with pytest.raises(ValidationFailed, match="has 1 eligible expert"):
        assign(q1, config, "2026Q1", experts=2, seed=SEED2, reassign=True, reason="more experts")
    assert all(ok for _, ok, _ in service.verify_assignments(q1))


# -- substitutes ---------------------------------------------------------------------------------------------


def test_substitute_is_drawn_from_the_eligible_and_recorded(q1, config):
    (a, _) = assign(q1, config, "2026Q1")
    t = a.teams[0]
    leaving = t.officers[0]
    s = service.substitute(q1, config, t.task_no, leaving.cert_no, reason="病假", now=dt.datetime(2026, 2, 1, 9))
    assert s.seed == f"{SEED}:substitute:{t.task_no}:{leaving.cert_no}"
    inputs = record(q1, a.id).inputs
    eligible = next(x["eligible"] for x in inputs["tasks"] if x["id"] == t.task_no)
    assert s.substitute in eligible and s.substitute not in [m.cert_no for m in t.officers]
    assert abs(sum(s.candidates.values()) - 1) < 1e-9 and set(s.candidates) <= set(eligible)
    with q1.connect() as c:
        row = c.execute(select(TeamMember.__table__).where(TeamMember.role == "substitute")).one()
    assert (row.assignment_id, row.replaces_id, row.reason) == (a.id, leaving.member_id, "病假")
    assert row.probability == pytest.approx(s.probability)
    shown = service.get_assignment(q1, a.id).teams[0]
    assert sorted(m.cert_no for m in shown.officers) == s.team and shown.replaced[0].cert_no == leaving.cert_no

    # someone goes on leave; a custom seed; the one who left does not come back
    people, _, _ = registry(q1)
    on_team = set(s.team)
    other = next(c for c in s.candidates if c not in on_team)
    with q1.begin() as c:
        c.execute(update(Inspector).where(Inspector.cert_no == other).values(status="on_leave"))
    s2 = service.substitute(
        q1, config, t.task_no, s.substitute, reason="出差", seed="会议现场掷骰 31 41 59", now=dt.datetime(2026, 2, 2, 9)
    )
    assert other in s2.excluded and leaving.cert_no in s2.excluded
    assert s2.substitute not in (other, leaving.cert_no, s.substitute)
    assert service.verify_assignment(q1, a.id).ok
    bundle = service.export_bundle(q1, a.id)
    assert [x["seed"] for x in bundle["substitutions"]] == [s.seed, "会议现场掷骰 31 41 59"]

    with pytest.raises(InspectError, match="is not on the team"):
        service.substitute(q1, config, t.task_no, leaving.cert_no, reason="x", now=dt.datetime(2026, 2, 3))
    with pytest.raises(InspectError, match="needs --reason"):
        service.substitute(q1, config, t.task_no, s2.substitute, reason=" ", now=dt.datetime(2026, 2, 3))


# -- verification and tampering ------------------------------------------------------------------------------


def test_verify_detects_a_changed_seed_inputs_or_teams(q1, config):
    (a, _) = assign(q1, config, "2026Q1")
    bundle = service.export_bundle(q1, a.id)
    assert service.verify_bundle(bundle, resolve=True).ok

    b = copy.deepcopy(bundle)
    b["seed"] = SEED2
    rep = service.verify_bundle(b)
    assert not rep.ok and any("not those the seed gives" in p for p in rep.problems)

    b = copy.deepcopy(bundle)
    b["inputs"]["tasks"][0]["eligible"].pop()
    rep = service.verify_bundle(b)
    assert any("do not match their SHA-256" in p for p in rep.problems)
    b["inputs_sha256"] = inputs_sha256(b["inputs"])  # a consistent lie: the fractional solution gives it away
    rep = service.verify_bundle(b)
    assert "the fractional solution was not computed from these inputs (instance SHA-256 differs)" in rep.problems

    b = copy.deepcopy(bundle)
    b["teams"][0]["officers"], b["teams"][1]["officers"] = b["teams"][1]["officers"], b["teams"][0]["officers"]
    assert not service.verify_bundle(b).ok

    b = copy.deepcopy(bundle)
    b["fractional"] = b["fractional"].replace("\t5000\n", "\t4999\n", 1)
    assert not service.verify_bundle(b).ok

    # a record whose seed does not give its teams (triggers forbid UPDATE, so a new record is made)
    rec = record(q1, a.id)
    with q1.begin() as c:
        values = {k: v for k, v in rec._mapping.items() if k != "id"}
        forged = c.execute(insert(Assignment.__table__).values(**{**values, "seed": SEED2})).inserted_primary_key[0]
        for r in c.execute(select(TeamMember.__table__).where(TeamMember.assignment_id == a.id)).all():
            c.execute(
                insert(TeamMember.__table__).values(
                    **{**{k: v for k, v in r._mapping.items() if k != "id"}, "assignment_id": forged}
                )
            )
    results = {what: ok for what, ok, _ in service.verify_assignments(q1)}
    assert results[f"assignment #{a.id} (STHJ-01 2026Q1)"] is True
    assert results[f"assignment #{forged} (STHJ-01 2026Q1)"] is False


def test_verify_detects_a_record_with_changed_inputs(q1, config):
    (a, _) = assign(q1, config, "2026Q1")
    rec = record(q1, a.id)
    inputs = copy.deepcopy(rec.inputs)
    inputs["pair_cap"] = 0.6
    with q1.begin() as c:
        values = {k: v for k, v in rec._mapping.items() if k != "id"}
        c.execute(insert(Assignment.__table__).values(**{**values, "inputs": inputs}))
    bad = [(what, problems) for what, ok, problems in service.verify_assignments(q1) if not ok]
    assert len(bad) == 1 and any("do not match their SHA-256" in p for p in bad[0][1])


# -- pure: eligibility and the core, on random registries ---------------------------------------------------

TOWNS = ["城关镇", "清水镇", "白沙乡"]


@st.composite
def registries(draw):
    n_off = draw(st.integers(6, 14))
    people = []
    for i in range(n_off):
        dept = draw(st.sampled_from(["A", "A", "B"]))
        people.append(
            InspectorRow(
                id=i + 1,
                cert_no=f"C{i:03d}",
                name=f"n{i}",
                department=dept,
                kind=draw(st.sampled_from(["officer"] * 5 + ["expert"])),
                status=draw(st.sampled_from(["active"] * 6 + ["on_leave"])),
                home_township=draw(st.sampled_from(TOWNS + [None])),
                cert_valid_from=dt.date(2025, 1, 1),
                cert_valid_to=draw(st.sampled_from([dt.date(2028, 1, 1)] * 6 + [dt.date(2026, 2, 1)])),
                qualifications=frozenset(draw(st.sampled_from([["q"], ["q", "x"], ["x"], ["M-1"]]))),
                max_tasks_per_period=draw(st.sampled_from([None, None, 2, 3])),
            )
        )
    tasks = [
        TaskRow(100 + j, f"T-{j:03d}", 500 + j, f"E{j}", f"e{j}", draw(st.sampled_from(TOWNS)))
        for j in range(draw(st.integers(1, 6)))
    ]
    conflicts = frozenset(
        draw(st.sets(st.tuples(st.integers(1, n_off), st.sampled_from([t.entity_id for t in tasks])), max_size=4))
    )
    previous = {t.entity_id: frozenset(draw(st.sets(st.integers(1, n_off), max_size=2))) for t in tasks}
    last = tuple(frozenset(draw(st.sets(st.integers(1, n_off), min_size=2, max_size=2))) for _ in range(2))
    joint = draw(st.booleans())
    rules = Rules(
        qualifications=frozenset({"q", "M-1"}),
        demand={"A": 1, "B": 1} if joint else {"A": 2},
        window=(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        pair_cap=draw(st.sampled_from([0.5, 0.8, 1.0])),
        same_township=draw(st.booleans()),
        previous_periods=1,
        repeat_pair=draw(st.booleans()),
        max_tasks_per_inspector=draw(st.sampled_from([None, 2])),
    )
    other = {i: draw(st.integers(0, 2)) for i in range(1, n_off + 1)}
    return people, tasks, rules, History(conflicts, previous, last, other)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries(), st.text("0123456789 ", min_size=20, max_size=24))
def test_eligibility_rules_and_teams_on_random_registries(reg, seed):
    from inspect_kit.assign import AssignmentInfeasible, ForbiddenPairsUnresolved, solve_fractional

    people, tasks, rules, history = reg
    el = build_eligibility(people, tasks, rules, history)
    by_cert = {p.cert_no: p for p in people}
    for t in tasks:
        for c in el.eligible[t.task_no]:
            p = by_cert[c]
            assert p.kind == "officer" and p.status == "active" and p.department in rules.demand
            assert p.qualifications & rules.qualifications and p.cert_valid_to >= rules.window[1]
            assert (p.id, t.entity_id) not in history.conflicts and p.id not in history.previous_teams[t.entity_id]
            assert not (rules.same_township and p.home_township and p.home_township == t.township)
            assert el.caps[c] != 0
        for p in people:  # every officer of a needed department is eligible or has a reason
            if p.kind == "officer" and p.department in rules.demand:
                assert (p.cert_no in el.eligible[t.task_no]) != (
                    p.cert_no in el.officer_excluded or p.cert_no in el.task_excluded[t.task_no]
                )
    doc = inputs_document(el, rules, matter="M-1", period="2026Q1", draw_id=1)
    # the inputs hash does not depend on the order of the registry rows
    assert inputs_sha256(doc) == inputs_sha256(
        inputs_document(
            build_eligibility(people[::-1], tasks[::-1], rules, history),
            rules,
            matter="M-1",
            period="2026Q1",
            draw_id=1,
        )
    )
    try:
        fractional = solve_fractional(instance_from_inputs(doc))
        sampled = sample_assignment(fractional, seed.strip() or "0" * 20)
    except (AssignmentInfeasible, ForbiddenPairsUnresolved):
        return
    assert instance_sha256(instance_from_inputs(doc)) == fractional.instance_sha256
    teams = {t: sorted(c) for t, c in sampled.teams.items()}
    assert service._rule_problems(doc, teams, {}, fractional, check_loads=True) == []


# -- the CLI ------------------------------------------------------------------------------------------------


def url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cli(engine, *args):
    return runner.invoke(app, ["--config", str(CONFIGS), "--db", url(engine), *map(str, args)], catch_exceptions=False)


def exit_code(engine, monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["inspect", "--config", str(CONFIGS), "--db", url(engine), *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    return exc.value.code or 0, out.out + out.err


def test_cli_assign_show_export_substitute_verify(q1, monkeypatch, capsys, tmp_path):
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "--quarter", "2026Q1")
    assert code == 1 and "--seed is required" in out
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "--quarter", "2026Q1", "--seed", "12345")
    assert code == 1 and "at least 20 characters" in out
    r = cli(q1, "assign", "check", "--quarter", "2026Q1", "--json")
    checked = json.loads(r.output)
    assert [c["matter"] for c in checked] == ["STHJ-01", "STHJ-02"]

    r = cli(q1, "assign", "--quarter", "2026Q1", "--seed", SEED, "--seed-source", "dice", "--json")
    assert r.exit_code == 0
    done = json.loads(r.output[r.output.index("[") :])
    assert [d["inputs_sha256"] for d in done] == [c["inputs_sha256"] for c in checked]  # committed before the seed
    assert "confidential" in r.output
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "--quarter", "2026Q1", "--seed", SEED2)
    assert code == 1 and "--reassign" in out

    r = cli(q1, "assign", "show", "--quarter", "2026Q1", "--public", "--json")
    public = json.loads(r.output)
    assert all(set(p) == {"assignment", "matter", "period", "inputs_sha256", "seed", "seed_source"} for p in public)
    r = cli(q1, "assign", "show", "--quarter", "2026Q1", "--public")
    assert "inputs SHA-256" in r.output and "360199" not in r.output  # no certificate numbers, no names
    r = cli(q1, "assign", "show", "--quarter", "2026Q1")
    assert "confidential" in r.output and "STHJ-01-2026Q1-001" in r.output

    r = cli(q1, "assign", "export", "--quarter", "2026Q1", "--json", "-o", tmp_path / "teams.json")
    rows = json.loads((tmp_path / "teams.json").read_text(encoding="utf-8"))
    assert len(rows) == 7 and {"task_no", "identifier", "officers"} <= set(rows[0])
    assert all(
        len(row["officers"]) == 2
        and row["officers"][0]["cert_no"].startswith("360199ST")
        and row["officers"][0]["name"]
        for row in rows
    )
    r = cli(q1, "assign", "export", "--quarter", "2026Q1", "--csv")
    import csv

    lines = list(csv.reader(r.output[r.output.index('"assignment",') :].splitlines()))  # every cell quoted
    assert lines[0][3:9] == ["task_no", "统一社会信用代码", "名称", "乡镇", "执法证号", "执法人员"]
    assert len(lines) == 8

    task, cert = rows[0]["task_no"], rows[0]["officers"][0]["cert_no"]
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "substitute", task, cert, "--reason", "病假", "--json")
    assert code == 0 and json.loads(out[out.index("{") :])["leaving"] == cert
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "substitute", task, cert, "--reason", "again")
    assert code == 1 and "is not on the team" in out

    r = cli(q1, "assign", "export-bundle", 1, "-o", tmp_path / "b.json")
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "verify", "--bundle", tmp_path / "b.json")
    assert code == 0 and "OK" in out
    bundle = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    bundle["seed"] = SEED2
    (tmp_path / "bad.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "verify", "--bundle", tmp_path / "bad.json")
    assert code == 1 and "FAIL" in out
    code, out = exit_code(q1, monkeypatch, capsys, "verify")
    assert code == 0 and "OK  assignment #1 (STHJ-01 2026Q1)" in out and "OK  assignment #2" in out
    r = cli(q1, "assign", "list", "--json")
    assert [x["assignment"] for x in json.loads(r.output)] == [1, 2]
    r = cli(q1, "assign", "list", "--year", "2026", "--json")  # the year's quarters included
    assert [x["assignment"] for x in json.loads(r.output)] == [1, 2]


def test_cli_infeasible_exit_code_and_message(q1, monkeypatch, capsys):
    with q1.begin() as c:
        c.execute(update(Inspector).where(Inspector.department == "STHJ").values(status="retired"))
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "--quarter", "2026Q1", "--seed", SEED)
    assert code == 1 and "department STHJ has no officers" in out and "nothing was written" in out
    code, out = exit_code(q1, monkeypatch, capsys, "assign", "check", "--quarter", "2026Q1")
    assert code == 1 and "teams cannot be assigned" in out


def test_assign_help_does_not_import_heavy_modules():
    code = (
        "import sys; from typer.testing import CliRunner; from inspect_kit.cli import app; "
        "r = CliRunner().invoke(app, ['assign', '--help']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('numpy', 'scipy', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
