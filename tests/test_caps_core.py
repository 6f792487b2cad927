"""Caps and the burden summary, pure: hand-computed cases and hostile ones."""

from __future__ import annotations

from inspect_kit.draw.core.caps import CapRules, Inspection, burden, cap_detail_problems, capped

RULES = CapRules(
    total=4,
    per_level={"县级": 2},
    per_category={"重点排污单位": 3},
    per_credit_class={"D": 5},
    levels={"CITY": "市级"},
    outside_cap=frozenset({"TS-01"}),
    near=1,
)


def _i(ident: str, matter: str, unit: str, source: str = "draw #1") -> Inspection:
    return Inspection(ident, matter, unit, source)


def test_effective_cap_is_the_smallest_that_binds():
    assert RULES.cap_of("企业", "A") == 4
    assert RULES.cap_of("重点排污单位", "D") == 3  # the class's 5 does not loosen the category's 3
    assert CapRules().cap_of("企业", None) is None


def test_total_level_and_outside_cap():
    done = [
        _i("E1", "M1", "STHJ", "draw #1"),
        _i("E1", "M2", "SCJG", "draw #2"),  # E1: two county-level inspections: at the level cap
        _i("E2", "M1", "STHJ"),
        _i("E2", "TS-01", "STHJ", "draw #9"),  # a complaint: not counted
        _i("E2", "TS-01", "STHJ", "draw #9"),
        _i("E3", "M3", "CITY"),
        _i("E3", "M4", "CITY"),
        _i("E3", "M5", "CITY"),  # E3: three city-level: at the 重点排污单位 cap of 3 in all
    ]
    ents = [("E1", "企业", "A"), ("E2", "企业", "A"), ("E3", "重点排污单位", None), ("E4", "企业", "A")]
    county = capped(RULES, ents, done, "STHJ")
    assert set(county) == {"E1", "E3"}
    assert county["E1"].scope == "县级" and county["E1"].sources == ("draw #1", "draw #2")
    assert county["E3"].scope == "category 重点排污单位" and county["E3"].cap == 3
    city = capped(RULES, ents, done, "CITY")  # no level cap for 市级: only E3's total binds
    assert set(city) == {"E3"}


def test_forged_detail_is_caught():
    detail = [{"identifier": "E1", "cap": 2, "sources": ["draw #1", "draw #2"]}]
    assert cap_detail_problems(detail, {"E1": {"draw #1": 1, "draw #2": 1}}) == []
    assert cap_detail_problems(detail, {"E1": {"draw #1": 1}})  # one record does not hold it
    # a count may only come from the sources the frame named
    assert cap_detail_problems(detail, {"E1": {"draw #1": 1, "draw #7": 5}})


def test_burden_summary_by_hand():
    done = [
        _i("E1", "M1", "STHJ"),
        _i("E1", "M2", "SCJG"),
        _i("E2", "M1", "STHJ"),
        _i("E2", "TS-01", "STHJ"),
    ]
    b = burden(2026, RULES, done, {"E1": ("甲", "企业", "A"), "E2": ("乙", "企业", "A")}, 10)
    assert [(r.identifier, r.counted, r.outside, r.headroom) for r in b.rows] == [("E1", 2, 0, 0), ("E2", 1, 1, 1)]
    assert [(r.identifier, s) for r, s in b.at_or_near()] == [("E1", "at cap"), ("E2", "near cap")]
    assert b.distribution == {2: 1, 1: 1, 0: 8}
    assert b.to_dict()["entities"][0]["by_unit"] == {"SCJG": 1, "STHJ": 1}


def test_snapshot_estimates_by_hand():
    """Two strata of one draw: N = 100 and 50, n = 10 and 5 inspected, 2 and 5 with a problem:
    stratified share = (100·0.2 + 50·1.0) / 150 = 0.4667; a task inspected after as_of does not count."""
    import datetime as dt
    from types import SimpleNamespace as NS

    from inspect_kit.periods import parse_period
    from inspect_kit.score.estimates import snapshot_estimates

    day = dt.date(2026, 6, 30)
    tasks = [NS(id=k, stratum="A") for k in range(10)] + [NS(id=10 + k, stratum="B") for k in range(6)]
    findings = {k: NS(inspection_end=day, results=("R02",) if k < 2 else ("R01",)) for k in range(10)}
    findings |= {10 + k: NS(inspection_end=day, results=("R02",)) for k in range(5)}
    findings[15] = NS(inspection_end=day + dt.timedelta(days=1), results=("R02",))  # after as_of
    snap = NS(
        year=2026,
        as_of=day,
        draws={("M", "2026"): NS(id=1, period=parse_period("2026"), frame_id=7)},
        strata={7: [{"stratum": "A", "N": 100}, {"stratum": "B", "N": 50}]},
        tasks={1: tasks},
        findings=findings,
        matters={"M": NS(name="某事项")},
    )
    [e] = snapshot_estimates(snap, lambda results: "R02" in results)  # type: ignore[arg-type]
    assert (e.estimate.N, e.estimate.n, e.estimate.x) == (150, 15, 7)
    assert abs(e.estimate.share - (100 * 0.2 + 50 * 1.0) / 150) < 1e-12
    assert e.row()[:5] == ["某事项", "2026", "150", "15", "7"] and e.to_dict()["strata"][1]["n"] == 5
