"""The pure scoring core (inspect_kit.score): rules, weights, grades, presentation, rulebook checks."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_kit.errors import ValidationFailed
from inspect_kit.score import (
    JudgementEntry,
    ManualValue,
    MetricRecord,
    MetricValue,
    Missing,
    NotApplicable,
    UnitInputs,
    explain,
    explain_run,
    from_canonical,
    load,
    loads,
    score,
    to_canonical,
)
from inspect_kit.score.frontier import frontier_bounds, frontier_score
from inspect_kit.score.model import Frontier
from inspect_kit.score.numbers import apportion_cents, format_number
from inspect_kit.score.rules import linear_points, tier_points

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "assessment.toml"


# ───────────────────────────── builders ─────────────────────────────


def book(body: str, *, full: int = 100, head: str = "") -> str:
    return f'[rulebook]\nname = "测试细则"\nversion = "t1"\nfull_marks = {full}\n{head}\n{body}'


def base_category(max_: int = 100, key: str = "b") -> str:
    return f'[[category]]\nkey = "{key}"\nname = "基础{key}"\nmax = {max_}\n'


def indicator(key: str, rule: str, *, category: str = "b", max_: int | str = 100, extra: str = "") -> str:
    return f'[[indicator]]\nkey = "{key}"\nname = "指标{key}"\ncategory = "{category}"\nmax = {max_}\n{extra}\nrule = {rule}\n'


def unit(code: str = "A", kind: str = "department", **kw) -> UnitInputs:
    return UnitInputs(code, f"单位{code}", kind, **kw)


def manual(value, evidence: str = "台账") -> ManualValue:
    return ManualValue(value, evidence)


def one(rulebook_text: str, u: UnitInputs):
    return score(loads(rulebook_text), [u]).units[0]


def points_of(result, key: str) -> F:
    return next(i for i in result.indicators if i.key == key).exact_points


LINEAR = '{ kind = "linear", thresholds = [ { at = 0.6, points = 0 }, { at = 1.0, points = 15 } ] }'
TIERS = '{ kind = "tiers", tiers = [ { min = 1.0, points = 10 }, { min = 0.9, points = 7 }, { min = 0.8, points = 4 } ], otherwise = 1 }'


# ───────────────────────────── rule kinds, exactly ─────────────────────────────


class TestLinear:
    anchors = [(F(6, 10), F(0)), (F(1), F(15))]

    @pytest.mark.parametrize(
        "x, expected",
        [
            (F(6, 10), F(0)),  # at the lower threshold
            (F(599, 1000), F(0)),  # just below: clamped
            (F(601, 1000), F(15, 400)),  # just above: 15 × 0.001 / 0.4
            (F(8, 10), F(15, 2)),  # midway
            (F(999, 1000), F(15) - F(15, 400)),  # just below the upper threshold
            (F(1), F(15)),  # at the upper threshold
            (F(12, 10), F(15)),  # above: clamped
            (F(-1), F(0)),
        ],
    )
    def test_two_anchors(self, x, expected):
        assert linear_points(self.anchors, x) == expected

    def test_several_segments_and_decreasing(self):
        three = [(F(8, 10), F(0)), (F(95, 100), F(16)), (F(1), F(20))]
        assert linear_points(three, F(95, 100)) == 16
        assert linear_points(three, F(975, 1000)) == 18
        assert linear_points(three, F(88, 100)) == F(16) * F(8, 100) / F(15, 100)
        falling = [(F(0), F(10)), (F(10), F(0))]  # e.g. days late: lower is better
        assert linear_points(falling, F(3)) == 7
        assert linear_points(falling, F(11)) == 0

    def test_through_the_engine_with_a_float_input(self):
        text = book(base_category(15) + indicator("p", LINEAR, max_=15, extra='metric = "plan_completion"'), full=15)
        r = one(text, unit(metrics={"plan_completion": MetricValue(0.95)}))
        assert r.exact_total == F(105, 8)  # 15 × 0.35 / 0.4, from 0.95 read as 19/20
        assert r.total == Decimal("13.13")


class TestTiers:
    tiers = [(F(1), F(10)), (F(9, 10), F(7)), (F(8, 10), F(4))]

    @pytest.mark.parametrize(
        "x, expected",
        [
            (F(1), 10),
            (F(99999, 100000), 7),
            (F(9, 10), 7),
            (F(8999, 10000), 4),
            (F(8, 10), 4),
            (F(7999, 10000), 1),
            (F(0), 1),
            (F(2), 10),
        ],
    )
    def test_value_at_least_min(self, x, expected):
        assert tier_points(self.tiers, F(1), x) == expected

    def test_tiers_in_any_order(self):
        assert tier_points(list(reversed(self.tiers)), F(0), F(95, 100)) == 7


def _deduction_book(per: str = "1", floor: str = "0", max_: int = 10) -> str:
    rule = f'{{ kind = "deduction", per_occurrence = {per}, occurrences = "failures", floor = {floor} }}'
    return book(base_category(max_) + indicator("t", rule, max_=max_, extra='metric = "team_compliance"'), full=max_)


def _failures(n_fail: int, n_total: int = 20) -> MetricValue:
    records = tuple(
        MetricRecord(f"T{i:02d}", ok=i >= n_fail, note="仅1名执法人员" if i < n_fail else "") for i in range(n_total)
    )
    return MetricValue(numerator=n_total - n_fail, denominator=n_total, records=records)


class TestDeduction:
    @pytest.mark.parametrize("failures, expected", [(0, 10), (1, 9), (9, 1), (10, 0), (11, 0), (15, 0)])
    def test_per_occurrence_until_used_up(self, failures, expected):
        r = one(_deduction_book(), unit(metrics={"team_compliance": _failures(failures)}))
        assert r.exact_total == expected

    def test_records_behind_each_deduction(self):
        ind = one(_deduction_book(), unit(metrics={"team_compliance": _failures(12)})).indicators[0]
        assert [rec.ref for rec in ind.records] == [f"T{i:02d}" for i in range(12)]
        assert [rec.points for rec in ind.records] == [-1] * 10 + [0, 0]
        assert "已达上限" in ind.records[10].note
        assert sum(rec.points for rec in ind.records) == ind.raw_points - 10

    def test_floor_and_fractional_steps(self):
        text = _deduction_book(per="0.5", floor="2")  # capacity 10 − 2 = 8 = 16 half-points
        assert one(text, unit(metrics={"team_compliance": _failures(15)})).exact_total == F(5, 2)
        assert one(text, unit(metrics={"team_compliance": _failures(16)})).exact_total == 2
        ind = one(text, unit(metrics={"team_compliance": _failures(17)})).indicators[0]
        assert ind.raw_points == 2
        assert [r.points for r in ind.records] == [F(-1, 2)] * 16 + [F(0)]

    def test_summary_record_when_records_do_not_match_the_count(self):
        ind = one(
            _deduction_book(), unit(metrics={"team_compliance": MetricValue(numerator=17, denominator=20)})
        ).indicators[0]
        assert [(r.ref, r.note, r.points) for r in ind.records] == [(None, "共3件", F(-3))]

    def test_penalty_category_caps_the_deduction(self):
        text = book(
            base_category()
            + indicator("base", TIERS.replace("points = 10", "points = 100"), extra='metric = "plan_completion"')
            + '[[category]]\nkey = "p"\nname = "扣分项"\nkind = "penalty"\nmax = 10\n'
            + indicator("crit", '{ kind = "deduction", per_occurrence = 2 }', category="p", max_=6)
        )
        r = one(
            text, unit(metrics={"plan_completion": MetricValue(1)}, manual={"crit": manual(4, "市通报〔2025〕3号等")})
        )
        assert points_of(r, "crit") == -6
        assert r.exact_total == 94
        assert r.categories[1].points == Decimal("-6.00")


class TestBonus:
    text = book(
        base_category()
        + indicator("base", '{ kind = "tiers", tiers = [ { min = 0, points = 80 } ] }')
        + '[[category]]\nkey = "plus"\nname = "加分项"\nkind = "bonus"\nmax = 5\n'
        + indicator("joint", '{ kind = "bonus", per_occurrence = 1 }', category="plus", max_=3)
        + indicator("promo", '{ kind = "bonus", per_occurrence = 2 }', category="plus", max_=4)
    )

    def test_per_item_cap(self):
        r = one(self.text, unit(manual={"base": manual(1), "joint": manual(5), "promo": manual(0)}))
        ind = next(i for i in r.indicators if i.key == "joint")
        assert ind.raw_points == 3 and ind.weight == 1
        assert [rec.points for rec in ind.records] == [F(3)]

    def test_total_cap_scales_in_proportion(self):
        r = one(self.text, unit(manual={"base": manual(1), "joint": manual(3), "promo": manual(2)}))
        joint, promo = (next(i for i in r.indicators if i.key == k) for k in ("joint", "promo"))
        assert (joint.raw_points, promo.raw_points) == (3, 4)
        assert joint.weight == promo.weight == F(5, 7)
        assert (joint.exact_points, promo.exact_points) == (F(15, 7), F(20, 7))
        assert r.categories[1].points == Decimal("5.00")
        assert (joint.points, promo.points) == (Decimal("2.14"), Decimal("2.86"))
        assert r.total == Decimal("85.00")

    def test_under_the_cap_nothing_is_scaled(self):
        r = one(self.text, unit(manual={"base": manual(1), "joint": manual(1), "promo": manual(1)}))
        assert r.categories[1].exact_points == 3


class TestJudgement:
    text = book(
        base_category(95)
        + indicator("q", '{ kind = "judgement" }', max_=5)
        + indicator("rest", '{ kind = "tiers", tiers = [ { min = 0, points = 90 } ] }', max_=90)
        + '[[category]]\nkey = "p"\nname = "扣分项"\nkind = "penalty"\nmax = 5\n'
        + indicator("review", '{ kind = "judgement" }', category="p", max_=5),
        full=95,
    )

    def test_entries_with_reasons_and_limit(self):
        r = one(
            self.text,
            unit(
                manual={"rest": manual(1)},
                judgements={
                    "q": [JudgementEntry(2, "案卷缺复查记录"), JudgementEntry("4", "线索未移送")],
                    "review": [JudgementEntry(F(3, 2), "台账不规范")],
                },
            ),
        )
        q = next(i for i in r.indicators if i.key == "q")
        assert q.raw_points == 0
        assert [(rec.note, rec.points) for rec in q.records] == [
            ("案卷缺复查记录", F(-2)),
            ("线索未移送（已达上限，不再扣分）", F(-3)),
        ]
        assert points_of(r, "review") == F(-3, 2)
        assert r.exact_total == F(90) - F(3, 2)

    def test_no_entries_means_no_deduction(self):
        r = one(self.text, unit(manual={"rest": manual(1)}))
        assert r.exact_total == 95

    def test_reason_is_required(self):
        with pytest.raises(ValidationFailed) as exc:
            one(self.text, unit(manual={"rest": manual(1)}, judgements={"review": [JudgementEntry(1, "  ")]}))
        assert [p.key for p in exc.value.problems] == ["units[A].judgements.review[0].reason"]


# ───────────────────────────── vetoes and grades ─────────────────────────────


def _scored_book(effect: str, grades: str = "") -> str:
    # one manual base indicator worth exactly its value (linear 0→0, 100→100), plus one veto
    return book(
        base_category()
        + indicator("s", '{ kind = "linear", thresholds = [ { at = 0, points = 0 }, { at = 100, points = 100 } ] }')
        + '[[category]]\nkey = "v"\nname = "一票否决"\nkind = "veto"\n'
        + f'[[indicator]]\nkey = "fraud"\nname = "弄虚作假"\ncategory = "v"\nrule = {effect}\n',
        head=grades,
    )


def scored(code: str, total, veto=None, kind: str = "department") -> UnitInputs:
    m = {"s": manual(total)}
    if veto is not None:
        m["fraud"] = manual(veto, "纪检通报")
    return unit(code, kind, manual=m)


class TestVeto:
    force = _scored_book('{ kind = "veto", effect = "force_grade", grade = "不合格" }')
    bar = _scored_book('{ kind = "veto", effect = "bar_top_grade" }')

    def test_force_grade(self):
        r = one(self.force, scored("A", 95, True))
        assert (r.total, r.score_grade, r.grade) == (Decimal("95.00"), "优秀", "不合格")
        assert "veto" in r.indicators[1].flags and "一票否决" in r.notes[0]
        assert r.indicators[1].records[0].note == "纪检通报"

    def test_not_triggered_below_trigger_and_when_missing(self):
        assert one(self.force, scored("A", 95, False)).grade == "优秀"
        r = one(self.force, scored("A", 95))
        assert r.grade == "优秀" and r.indicators[1].flags == ("missing",)

    def test_force_grade_never_raises(self):
        text = _scored_book('{ kind = "veto", effect = "force_grade", grade = "良好" }')
        assert one(text, scored("A", 70, 1)).grade == "合格"
        assert one(text, scored("A", 95, 1)).grade == "良好"

    def test_bar_top_grade(self):
        assert one(self.bar, scored("A", 95, 1)).grade == "良好"
        assert one(self.bar, scored("A", 85, 1)).grade == "良好"
        assert one(self.bar, scored("A", 95, 0)).grade == "优秀"

    def test_trigger_at(self):
        text = _scored_book('{ kind = "veto", effect = "bar_top_grade", trigger_at = 3 }')
        assert one(text, scored("A", 95, 2)).grade == "优秀"
        assert one(text, scored("A", 95, 3)).grade == "良好"


class TestGradesAndRanks:
    plain = _scored_book('{ kind = "veto", effect = "bar_top_grade" }')

    @pytest.mark.parametrize(
        "total, grade",
        [
            (90, "优秀"),
            ("89.99", "良好"),
            (80, "良好"),
            ("79.99", "合格"),
            (60, "合格"),
            ("59.99", "不合格"),
            (0, "不合格"),
        ],
    )
    def test_default_bands_at_and_beside_boundaries(self, total, grade):
        assert one(self.plain, scored("A", total)).grade == grade

    def test_grade_uses_the_presented_total(self):
        # 89.995 is presented as 90.00, so it is 优秀: the published number decides.
        r = one(self.plain, scored("A", "89.995"))
        assert r.total == Decimal("90.00") and r.exact_total == F("89.995") and r.grade == "优秀"

    def test_ranks_share_on_equal_totals_and_list_by_code(self):
        run = score(loads(self.plain), [scored("D", 80), scored("C", 90), scored("B", 80), scored("A", 70)])
        assert [(u.code, u.rank) for u in run.units] == [("C", 1), ("B", 2), ("D", 2), ("A", 4)]

    def test_vetoed_unit_keeps_the_rank_of_its_total(self):
        run = score(loads(self.plain), [scored("A", 95, 1), scored("B", 92)])
        assert [(u.code, u.rank, u.grade) for u in run.units] == [("A", 1, "良好"), ("B", 2, "优秀")]


def _capped(cap: str) -> str:
    return _scored_book('{ kind = "veto", effect = "bar_top_grade" }', grades=f"[grades.top_cap]\n{cap}\n")


class TestTopGradeCap:
    def grades(self, cap: str, totals: dict[str, object], vetoed: tuple[str, ...] = ()) -> dict[str, str]:
        run = score(loads(_capped(cap)), [scored(c, t, 1 if c in vetoed else None) for c, t in totals.items()])
        return {u.code: u.grade for u in run.units}

    def test_count(self):
        g = self.grades("count = 2", {"A": 95, "B": 93, "C": 91, "D": 85})
        assert g == {"A": "优秀", "B": "优秀", "C": "良好", "D": "良好"}

    def test_under_the_cap_nothing_changes(self):
        assert self.grades("count = 3", {"A": 95, "B": 93, "C": 85})["B"] == "优秀"

    def test_tie_at_the_boundary_drops_all_by_default(self):
        g = self.grades("count = 2", {"A": 95, "B": 93, "C": 93, "D": 91})
        assert g == {"A": "优秀", "B": "良好", "C": "良好", "D": "良好"}

    def test_tie_at_the_boundary_keep_all(self):
        g = self.grades('count = 2\nties = "keep_all"', {"A": 95, "B": 93, "C": 93, "D": 91})
        assert g == {"A": "优秀", "B": "优秀", "C": "优秀", "D": "良好"}

    def test_tie_inside_the_cap_is_no_boundary(self):
        g = self.grades("count = 2", {"A": 93, "B": 93, "C": 91})
        assert g == {"A": "优秀", "B": "优秀", "C": "良好"}

    @pytest.mark.parametrize("rounding, allowed", [("floor", 2), ("ceil", 3), ("half_up", 2)])
    def test_fraction_of_units(self, rounding, allowed):
        totals = {c: 99 - i for i, c in enumerate("ABCDEFGH")}  # 8 units, all ≥ 90; 0.3 × 8 = 2.4
        g = self.grades(f'fraction = 0.3\nrounding = "{rounding}"', totals)
        assert sum(v == "优秀" for v in g.values()) == allowed

    def test_vetoed_units_use_no_place(self):
        g = self.grades("count = 1", {"A": 99, "B": 95, "C": 94}, vetoed=("A",))
        assert g == {"A": "良好", "B": "优秀", "C": "良好"}

    def test_notes_say_why(self):
        run = score(loads(_capped("count = 1")), [scored("A", 95), scored("B", 94)])
        assert "限1名" in run.unit("B").notes[0] and run.unit("B").score_grade == "优秀"

    def test_per_kind_groups(self):
        text = _capped("count = 1").replace(
            "full_marks = 100\n", 'full_marks = 100\n[scoring]\ncompare_within = "kind"\n'
        )
        run = score(loads(text), [scored("A", 95), scored("B", 94), scored("T1", 93, kind="township")])
        assert {u.code: (u.grade, u.rank, u.group) for u in run.units} == {
            "A": ("优秀", 1, "department"),
            "B": ("良好", 2, "department"),
            "T1": ("优秀", 1, "township"),
        }


# ───────────────────────────── frontier normalisation ─────────────────────────────


class TestFrontier:
    def scores(self, f: Frontier, values: list[F]) -> list[F]:
        b = frontier_bounds(f, values)
        assert b is not None
        return [frontier_score(b, v) for v in values]

    def test_observed_both_directions(self):
        assert self.scores(Frontier(), [F(10), F(20), F(30)]) == [0, 50, 100]
        assert self.scores(Frontier(higher_is_better=False), [F(10), F(20), F(30)]) == [100, 50, 0]

    def test_all_equal_is_the_frontier(self):
        assert self.scores(Frontier(), [F(7), F(7)]) == [100, 100]

    def test_fixed_bounds_clip(self):
        f = Frontier(best=Decimal(20), worst=Decimal(10))
        assert self.scores(f, [F(5), F(10), F(15), F(20), F(25)]) == [0, 0, 50, 100, 100]

    def test_fixed_worst_observed_best_is_share_of_the_best(self):
        assert self.scores(Frontier(worst=Decimal(0)), [F(24), F(10), F(0)]) == [100, F(125, 3), 0]
        assert self.scores(Frontier(worst=Decimal(0)), [F(0), F(0)]) == [0, 0]  # nobody above the worst

    def test_fixed_best_reached_by_everyone(self):
        assert self.scores(Frontier(best=Decimal(10)), [F(12), F(15)]) == [100, 100]

    def test_no_observed_values(self):
        assert frontier_bounds(Frontier(), []) is None

    def test_in_the_engine_missing_units_are_not_observed(self):
        rule = '{ kind = "linear", thresholds = [ { at = 0, points = 0 }, { at = 100, points = 10 } ] }'
        text = book(base_category(10) + indicator("info", rule, max_=10, extra="normalise = { worst = 0 }"), full=10)
        run = score(
            loads(text),
            [
                unit("A", manual={"info": manual(24)}),
                unit("B", manual={"info": manual(6)}),
                unit("C", manual={"info": Missing("未报送")}),
            ],
        )
        assert {u.code: u.exact_total for u in run.units} == {"A": 10, "B": F(5, 2), "C": 0}
        assert run.unit("B").indicators[0].normalised == 25


# ───────────────────────────── not applicable, missing ─────────────────────────────


def na_book(*, c: str = "", d: str = "", head: str = "") -> str:
    """c1 (80) = a 50 + b 30; c2 (20) = c 10 + d 10; each scores its max for value 1, else 0."""

    def full(key: str, category: str, max_: int, extra: str = "") -> str:
        return indicator(
            key,
            f'{{ kind = "tiers", tiers = [ {{ min = 1, points = {max_} }} ] }}',
            category=category,
            max_=max_,
            extra=extra,
        )

    return book(
        base_category(80, "c1")
        + base_category(20, "c2")
        + full("a", "c1", 50)
        + full("b", "c1", 30)
        + full("c", "c2", 10, c)
        + full("d", "c2", 10, d),
        head=head,
    )


NA_BOOK = na_book()


def _all_full(**override) -> UnitInputs:
    values = {k: manual(1) for k in "abcd"}
    values.update(override)
    return unit(manual=values)


class TestNotApplicable:
    def test_total_reweighting(self):
        r = one(NA_BOOK, _all_full(d=NotApplicable("本年度无整改事项")))
        w = {i.key: i.weight for i in r.indicators}
        assert w == {"a": F(10, 9), "b": F(10, 9), "c": F(10, 9), "d": 0}
        assert r.exact_total == 100 and r.total == Decimal("100.00")
        assert r.indicators[3].flags == ("not_applicable",) and "本年度无整改事项" in r.indicators[3].note

    def test_partial_unit_keeps_its_share(self):
        r = one(NA_BOOK, _all_full(a=manual(0), d=NotApplicable("无")))
        assert r.exact_total == F(40) * F(10, 9)

    def test_category_reweighting(self):
        text = na_book(head='[scoring]\nreweight = "category"')
        r = one(text, _all_full(d=NotApplicable("无")))
        assert {i.key: i.weight for i in r.indicators} == {"a": 1, "b": 1, "c": 2, "d": 0}
        assert [c.effective_max for c in r.categories] == [80, 20]
        whole = one(text, _all_full(c=NotApplicable("无"), d=NotApplicable("无")))
        assert {i.key: i.weight for i in whole.indicators} == {"a": F(5, 4), "b": F(5, 4), "c": 0, "d": 0}
        assert whole.exact_total == 100

    def test_applies_to_by_code_and_kind(self):
        text = na_book(c='applies_to = ["STHJ", "township"]')
        values = _all_full().manual
        run = score(
            loads(text),
            [
                UnitInputs("STHJ", "生态环境局", "department", manual=values),
                UnitInputs("JYTY", "教育体育局", "department", manual=values),
                UnitInputs("CHENGGUAN", "城关镇", "township", manual=values),
            ],
        )
        flags = {u.code: u.indicators[2].flags for u in run.units}
        assert flags == {"STHJ": (), "JYTY": ("not_applicable",), "CHENGGUAN": ()}
        assert all(u.exact_total == 100 for u in run.units)

    def test_applies_to_matching_no_unit_is_a_warning(self):
        run = score(loads(na_book(c='applies_to = ["STJH"]')), [_all_full()])
        assert run.warnings == ("indicator[2] 'c': applies_to 'STJH' matches no unit code or unit kind in this run",)
        assert "注意：indicator[2]" in "\n".join(explain_run(run))

    def test_nothing_applicable(self):
        r = one(NA_BOOK, unit(manual={k: NotApplicable("无") for k in "abcd"}))
        assert r.exact_total == 0 and "不适用" in r.notes[0]


class TestMissing:
    def with_on_missing(self, how: str) -> str:
        return na_book(d=f'on_missing = "{how}"')

    @pytest.mark.parametrize(
        "how, total, flags",
        [
            ("zero", 90, ("missing",)),
            ("full", 100, ("missing",)),
            ("not_applicable", 100, ("missing", "not_applicable")),
        ],
    )
    def test_on_missing(self, how, total, flags):
        r = one(self.with_on_missing(how), _all_full(d=Missing("未报送")))
        assert r.exact_total == total and r.indicators[3].flags == flags
        assert "未报送" in r.indicators[3].note

    def test_absent_key_is_missing(self):
        values = _all_full().manual
        r = one(NA_BOOK, unit(manual={k: v for k, v in values.items() if k != "d"}))
        assert r.indicators[3].flags == ("missing",) and r.exact_total == 90


# ───────────────────────────── presentation ─────────────────────────────


class TestPresentation:
    def test_apportion_examples(self):
        assert apportion_cents([F(1, 3)] * 3) == ([34, 33, 33], 100)
        assert apportion_cents([F(50, 3), F(50, 9), F(125, 54), F(50, 9)]) == (
            [1667, 556, 231, 555],
            3009,
        )  # tie: earlier part
        assert apportion_cents([F(-3, 2), F(1, 200)]) == ([-150, 0], -150)  # −1.495 → −1.50, half away from 0
        assert apportion_cents([]) == ([], 0)
        assert apportion_cents([F(2, 3), F(2, 3)], 133) == ([67, 66], 133)

    @given(st.lists(st.fractions(min_value=-50, max_value=50, max_denominator=1000), max_size=20))
    def test_apportioned_parts_add_up_and_stay_close(self, parts):
        cents, total = apportion_cents(parts)
        assert sum(cents) == total
        assert all(abs(F(c, 100) - p) < F(1, 100) for c, p in zip(cents, parts))
        assert abs(F(total, 100) - sum(parts, F(0))) <= F(1, 200)

    def test_format_number(self):
        assert format_number(F(19, 20), percent=True) == "95%"
        assert format_number(F(10, 9)) == "≈1.1111"
        assert format_number(F(15)) == "15"
        assert format_number(F(-1, 2)) == "-0.5"


# ───────────────────────────── the shipped rulebook, end to end ─────────────────────────────


def demo_units() -> list[UnitInputs]:
    def rate(num: int, den: int, late: str = "逾期") -> MetricValue:
        return MetricValue(
            numerator=num,
            denominator=den,
            records=tuple(MetricRecord(f"RW-2025-{i:03d}", i < num, "" if i < num else late) for i in range(den)),
        )

    no_plan = NotApplicable("本年度无随机抽查事项")
    return [
        UnitInputs(
            "STHJ",
            "青山县生态环境局",
            "department",
            metrics={
                "plan_completion": rate(38, 40),
                "sample_adequacy": rate(19, 20),
                "key_coverage": rate(11, 12),
                "team_compliance": rate(38, 40, "仅1名执法人员"),
                "finding_recorded": rate(40, 40),
                "publicity_on_time": rate(37, 40, "逾期3个工作日"),
                "rectification_on_time": rate(5, 6),
            },
            manual={
                "training": manual(3, "培训签到表"),
                "info_disclosure": manual(24, "门户网站统计"),
                "joint_lead": manual(2, "联合抽查方案"),
                "promoted_practice": manual(1, "市文件"),
                "falsified_results": manual(False, "无"),
                "selective_enforcement": manual(0, "无"),
            },
            judgements={"overall_review": [JudgementEntry(1, "台账不规范")]},
        ),
        UnitInputs(
            "JYTY",
            "青山县教育体育局",
            "department",
            metrics={
                "plan_completion": rate(20, 20),
                "sample_adequacy": rate(8, 8),
                "team_compliance": rate(20, 20),
                "finding_recorded": rate(20, 20),
                "publicity_on_time": rate(20, 20),
                "rectification_on_time": NotApplicable("未发现问题，无整改事项"),
            },
            manual={
                "training": manual(4, "培训通知"),
                "info_disclosure": manual(12, "门户网站统计"),
                "joint_lead": manual(3, "方案"),
                "promoted_practice": manual(2, "省厅简报"),
            },
        ),
        UnitInputs(
            "SCJG",
            "青山县市场监督管理局",
            "department",
            metrics={
                "plan_completion": rate(30, 30),
                "sample_adequacy": rate(12, 12),
                "team_compliance": rate(30, 30),
                "finding_recorded": rate(30, 30),
                "publicity_on_time": rate(30, 30),
                "rectification_on_time": rate(4, 4),
            },
            manual={
                "training": manual(5, "培训通知"),
                "info_disclosure": manual(20, "门户网站统计"),
                "falsified_results": manual(True, "县纪委通报〔2025〕7号"),
            },
        ),
        UnitInputs(
            "CHENGGUAN",
            "城关镇人民政府",
            "township",
            metrics={
                k: no_plan
                for k in (
                    "plan_completion",
                    "sample_adequacy",
                    "team_compliance",
                    "finding_recorded",
                    "publicity_on_time",
                    "rectification_on_time",
                )
            },
            manual={"training": manual(2, "签到表"), "info_disclosure": manual(6, "政务公开栏")},
            judgements={"case_quality": [JudgementEntry("0.5", "移送线索未登记")]},
        ),
        UnitInputs(
            "QINGSHUI",
            "清水镇人民政府",
            "township",
            metrics={
                k: no_plan
                for k in (
                    "plan_completion",
                    "sample_adequacy",
                    "team_compliance",
                    "finding_recorded",
                    "publicity_on_time",
                    "rectification_on_time",
                )
            },
            manual={"training": manual(4, "签到表"), "info_disclosure": manual(9, "政务公开栏")},
        ),
    ]


class TestShippedRulebook:
    def test_validates(self):
        rb = load(SHIPPED)
        assert rb.version and rb.name and len(rb.source_sha256) == 64
        assert rb.file == str(SHIPPED)

    def test_scores_the_demo_county(self):
        run = score(load(SHIPPED), demo_units())
        assert [(u.group, u.code, u.rank, u.grade) for u in run.units] == [
            ("department", "JYTY", 1, "优秀"),
            ("department", "SCJG", 2, "不合格"),
            ("department", "STHJ", 3, "合格"),
            ("township", "QINGSHUI", 1, "优秀"),
            ("township", "CHENGGUAN", 2, "合格"),
        ]
        sthj, scjg = run.unit("STHJ"), run.unit("SCJG")
        assert scjg.grade == "不合格" and scjg.score_grade == "优秀"  # 一票否决
        assert next(i for i in sthj.indicators if i.key == "key_coverage").exact_points == F(
            35, 6
        )  # (11/12 − 0.8) / 0.2 × 10
        assert "not_applicable" in next(i for i in run.unit("JYTY").indicators if i.key == "key_coverage").flags
        assert run.unit("QINGSHUI").rank == 1  # townships are ranked among themselves
        for u in run.units:
            assert sum(i.points for i in u.indicators) == u.total
            assert sum(c.points for c in u.categories) == u.total
            assert sum(i.exact_points for i in u.indicators) == u.exact_total
            assert -10 <= u.exact_total <= 105

    def test_explanation_adds_up(self):
        run = score(load(SHIPPED), demo_units())
        for u in run.units:
            lines = explain(u)
            assert lines[0].startswith(f"{u.name}（{u.code}）：总分 {u.total}")
            parts, total = lines[-1].removeprefix("合计：").split(" = ")
            numbers = [Decimal(p.strip("()")) for p in parts.split(" + ")]
            assert sum(numbers) == Decimal(total) == u.total
            shown = [Decimal(m) for m in re.findall(r"）：(-?\d+\.\d\d) 分", "\n".join(lines))]
            assert shown == numbers
        text = "\n".join(explain_run(run))
        assert run.rulebook_sha256 in text and "仅1名执法人员" in text and "一票否决" in text

    def test_past_run_reproduced_from_stored_text(self):
        rb = load(SHIPPED)
        original = score(rb, demo_units())
        stored_text, stored_inputs = rb.source_text, json.dumps(to_canonical(demo_units()), ensure_ascii=False)
        again_rb = loads(stored_text)
        again = score(again_rb, from_canonical(json.loads(stored_inputs)))
        assert again_rb.source_sha256 == rb.source_sha256 == original.rulebook_sha256
        assert again_rb.model_sha256 == rb.model_sha256
        assert again == original
        json.dumps(again.as_dict(), ensure_ascii=False)  # serialisable for storage / --json

    def test_comments_change_the_text_hash_not_the_model_hash(self):
        rb = load(SHIPPED)
        edited = loads(rb.source_text + "\n# 备注：2025年12月修订\n")
        assert edited.source_sha256 != rb.source_sha256 and edited.model_sha256 == rb.model_sha256
        renumbered = loads(rb.source_text.replace("full_marks = 100 ", "full_marks = 100.0 "))
        assert renumbered.model_sha256 == rb.model_sha256
        changed = loads(rb.source_text.replace("per_occurrence = 0.5", "per_occurrence = 1"))
        assert changed.model_sha256 != rb.model_sha256

    def test_bom_is_ignored(self, tmp_path):
        path = tmp_path / "assessment.toml"
        path.write_bytes(b"\xef\xbb\xbf" + SHIPPED.read_bytes())
        assert load(path).source_sha256 == load(SHIPPED).source_sha256

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.tuples(st.integers(0, 40), st.integers(1, 40)), min_size=7, max_size=7),
        st.integers(0, 6),
        st.integers(0, 30),
        st.integers(0, 9),
        st.integers(0, 4),
    )
    def test_any_inputs_add_up_and_stay_in_range(self, rates, training, info, bonus, criticised):
        keys = [
            "plan_completion",
            "sample_adequacy",
            "key_coverage",
            "publicity_on_time",
            "rectification_on_time",
            "finding_recorded",
            "team_compliance",
        ]
        metrics = {k: MetricValue(numerator=min(n, d), denominator=d) for k, (n, d) in zip(keys, rates)}
        u = UnitInputs(
            "STHJ",
            "生态环境局",
            "department",
            metrics=metrics,
            manual={
                "training": manual(training),
                "info_disclosure": manual(info),
                "joint_lead": manual(bonus),
                "promoted_practice": manual(bonus),
                "criticised": manual(criticised),
            },
            judgements={"overall_review": [JudgementEntry(3, "a"), JudgementEntry(3, "b")]},
        )
        other = UnitInputs("CHENGGUAN", "城关镇", "township", manual={"info_disclosure": manual(info + 1)})
        for r in score(load(SHIPPED), [u, other]).units:
            assert sum(i.points for i in r.indicators) == r.total
            assert all(abs(F(i.points) - i.exact_points) < F(1, 100) for i in r.indicators)
            assert -10 <= r.exact_total <= 105


# ───────────────────────────── validation ─────────────────────────────


def problems_of(text: str, tmp_path: Path) -> list[tuple[str | None, str]]:
    path = tmp_path / "assessment.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        load(path)
    assert all(p.file == str(path) for p in exc.value.problems)
    return [(p.key, p.reason) for p in exc.value.problems]


class TestRulebookValidation:
    ok = book(base_category(15) + indicator("p", LINEAR, max_=15, extra='metric = "plan_completion"'), full=15)

    def test_the_fixture_itself_is_valid(self):
        loads(self.ok)

    def test_thresholds_not_increasing(self, tmp_path):
        text = book(
            base_category(20)
            + indicator("x", '{ kind = "tiers", tiers = [ { min = 1, points = 5 } ] }', max_=5)
            + indicator("p", LINEAR.replace("at = 1.0", "at = 0.5"), max_=15, extra='metric = "plan_completion"'),
            full=20,
        )
        [(key, reason)] = problems_of(text, tmp_path)
        assert key == "indicator[1].rule.thresholds"
        assert "strictly increasing" in reason and "'p'" in reason

    def test_points_outside_max(self, tmp_path):
        [(key, reason)] = problems_of(self.ok.replace("points = 15", "points = 16"), tmp_path)
        assert key == "indicator[0].rule.thresholds[1].points" and "outside" in reason

    def test_unknown_category_metric_and_extra_key(self, tmp_path):
        text = self.ok.replace('category = "b"', 'category = "nope"')
        assert problems_of(text, tmp_path)[0][0] == "indicator[0].category"
        text = self.ok.replace('"plan_completion"', '"plan_complete"')
        [(key, reason)] = problems_of(text, tmp_path)
        assert key == "indicator[0].metric" and "unknown metric" in reason
        text = self.ok.replace('metric = "plan_completion"', 'maxx = 3\nmetric = "plan_completion"')
        assert problems_of(text, tmp_path)[0][0] == "indicator[0].maxx"

    def test_sums_must_match(self, tmp_path):
        keys = [k for k, _ in problems_of(self.ok.replace("full_marks = 15", "full_marks = 100"), tmp_path)]
        assert keys == ["rulebook.full_marks"]
        text = self.ok.replace('key = "b"\nname = "基础b"\nmax = 15', 'key = "b"\nname = "基础b"\nmax = 20')
        assert "category[0].max" in [k for k, _ in problems_of(text, tmp_path)]

    def test_rule_kind_must_fit_category(self, tmp_path):
        text = (
            self.ok
            + '[[category]]\nkey = "v"\nname = "否决"\nkind = "veto"\n'
            + indicator("v1", '{ kind = "bonus", per_occurrence = 1 }', category="v", max_=0)
        )
        assert problems_of(text, tmp_path)[0][0] == "indicator[1].rule.kind"

    def test_force_grade_names_a_band(self, tmp_path):
        text = (
            self.ok
            + '[[category]]\nkey = "v"\nname = "否决"\nkind = "veto"\n'
            + '[[indicator]]\nkey = "f"\nname = "造假"\ncategory = "v"\nrule = { kind = "veto", effect = "force_grade", grade = "差" }\n'
        )
        assert problems_of(text, tmp_path)[0][0] == "indicator[1].rule.grade"

    def test_missing_rule_kind_and_bad_number(self, tmp_path):
        assert problems_of(self.ok.replace('kind = "linear", ', ""), tmp_path)[0][0] == "indicator[0].rule"
        text = self.ok.replace("at = 0.6", 'at = "sixty"')
        key, reason = problems_of(text, tmp_path)[0]
        assert key == "indicator[0].rule.thresholds[0].at" and "sixty" in reason

    def test_bands_and_cap(self, tmp_path):
        text = self.ok.replace(
            "full_marks = 15\n",
            'full_marks = 15\n[grades]\nbands = [ { grade = "好", min = 60 }, { grade = "差", min = 80 } ]\n',
        )
        assert problems_of(text, tmp_path)[0][0] == "grades.bands"
        text = self.ok.replace("full_marks = 15\n", "full_marks = 15\n[grades.top_cap]\ncount = 1\nfraction = 0.3\n")
        assert problems_of(text, tmp_path)[0][0] == "grades.top_cap"

    def test_toml_syntax_error(self, tmp_path):
        [(key, reason)] = problems_of(self.ok + "\n[[indicator]\n", tmp_path)
        assert key is None and "line" in reason

    def test_message_names_file_and_key(self, tmp_path):
        path = tmp_path / "assessment.toml"
        path.write_text(self.ok.replace("points = 15", "points = 16"), encoding="utf-8")
        with pytest.raises(ValidationFailed) as exc:
            load(path)
        assert f"{path}, key 'indicator[0].rule.thresholds[1].points'" in str(exc.value)


class TestInputValidation:
    rb_text = book(
        base_category(15)
        + indicator("p", LINEAR, max_=10, extra='metric = "plan_completion"')
        + indicator(
            "t",
            TIERS.replace("points = 10", "points = 5")
            .replace("points = 7", "points = 3")
            .replace("points = 4", "points = 2"),
            max_=5,
        ),
        full=15,
    )

    def refused(self, units: list[UnitInputs]) -> list[str | None]:
        with pytest.raises(ValidationFailed) as exc:
            score(loads(self.rb_text.replace("points = 15 }", "points = 10 }")), units)
        return [p.key for p in exc.value.problems]

    def test_collects_every_problem(self):
        keys = self.refused(
            [
                unit(
                    "A",
                    metrics={
                        "plan_completion": MetricValue(numerator=0, denominator=0),
                        "plan_complete": MetricValue(1),
                    },
                    manual={"t": ManualValue(1, ""), "p": manual(1)},
                ),
                unit("A"),
            ]
        )
        assert set(keys) == {
            "units[A]",
            "units[A].metrics.plan_complete",
            "units[A].manual.p",
            "units[A].metrics.plan_completion.denominator",
            "units[A].manual.t.evidence",
        }

    def test_bad_values(self):
        keys = self.refused([unit("B", metrics={"plan_completion": MetricValue("95%")}, manual={"t": 1})])  # type: ignore[dict-item]
        assert keys == ["units[B].metrics.plan_completion.value", "units[B].manual.t"]

    def test_occurrence_counts_must_be_whole(self):
        text = _deduction_book()
        with pytest.raises(ValidationFailed) as exc:
            score(loads(text), [unit(metrics={"team_compliance": MetricValue(numerator=21, denominator=20)})])
        assert "whole number" in exc.value.problems[0].reason
