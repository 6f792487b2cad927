"""Quotas, rounding, allocation across strata, and annual coverage sizes."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_kit.draw import (
    CoverageRule,
    Quota,
    QuotaKind,
    QuotaRule,
    Rounding,
    allocate_largest_remainder,
    coverage_size,
    explain_coverage,
    period_sizes,
    sample_size,
    select,
    size_strata,
)


@pytest.mark.parametrize(
    "spec,kind,value,text",
    [
        ("25%", QuotaKind.FRACTION, Fraction(1, 4), "25%"),
        (" 12.5 % ", QuotaKind.FRACTION, Fraction(1, 8), "12.5%"),
        ("２５％", QuotaKind.FRACTION, Fraction(1, 4), "25%"),
        ("0.25", QuotaKind.FRACTION, Fraction(1, 4), "0.25"),
        (0.25, QuotaKind.FRACTION, Fraction(1, 4), "0.25"),
        ("1:10", QuotaKind.RATIO, Fraction(1, 10), "1:10"),
        ("1：10", QuotaKind.RATIO, Fraction(1, 10), "1:10"),
        ("2 : 10", QuotaKind.RATIO, Fraction(1, 5), "2:10"),
        (12, QuotaKind.FIXED, Fraction(12), "12"),
        ("12", QuotaKind.FIXED, Fraction(12), "12"),
        ("5×inspectors", QuotaKind.PER_INSPECTOR, Fraction(5), "5×inspectors"),
        ("5*inspectors", QuotaKind.PER_INSPECTOR, Fraction(5), "5×inspectors"),
        ("5x", QuotaKind.PER_INSPECTOR, Fraction(5), "5×inspectors"),
        ("1.5 × 在岗执法人员", QuotaKind.PER_INSPECTOR, Fraction(3, 2), "1.5×inspectors"),
    ],
)
def test_quota_parsing(spec, kind: QuotaKind, value: Fraction, text: str) -> None:
    quota = Quota.parse(spec)
    assert (quota.kind, quota.value, quota.text) == (kind, value, text)
    assert Quota.parse(quota.text) == quota  # the normal form parses back to the same quota


@pytest.mark.parametrize(
    "spec,message",
    [
        ("150%", "cannot exceed 100%"),
        ("1.5", "must lie between 0 and 1"),
        ("1:0", "must be positive"),
        ("11:10", "more than all of N"),
        ("-3", "not understood"),
        (-3, "cannot be negative"),
        ("about ten", "not understood; use a fraction"),
        (True, "expected text or a number"),
        (float("nan"), "is not a number"),
    ],
)
def test_bad_quotas_say_why(spec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Quota.parse(spec)


def test_rounding_words() -> None:
    assert Rounding.parse("不低于") is Rounding.CEIL
    assert Rounding.parse("FLOOR") is Rounding.FLOOR
    assert Rounding.parse("四舍五入") is Rounding.ROUND
    with pytest.raises(ValueError, match="ceil, floor, round"):
        Rounding.parse("bankers")


# N, quota, on-duty inspectors -> expected n for ceil, floor, round (half up)
SIZE_TABLE = [
    (16, "25%", None, (4, 4, 4)),  # exact: never 4.000000001 -> 5
    (17, "25%", None, (5, 4, 4)),  # 4.25
    (18, "25%", None, (5, 4, 5)),  # 4.5: half up, not half to even
    (10, "25%", None, (3, 2, 3)),  # 2.5: round(2.5) would be 2 in Python
    (30, "0.1", None, (3, 3, 3)),  # 0.1 * 30 is 3.0000000000000004 in floats
    (50, "1:10", None, (5, 5, 5)),
    (55, "1:10", None, (6, 5, 6)),  # 5.5
    (54, "1:10", None, (6, 5, 5)),  # 5.4
    (10, "1:3", None, (4, 3, 3)),  # 10/3
    (3, "12", None, (3, 3, 3)),  # capped at N
    (40, "12", None, (12, 12, 12)),
    (100, "5×inspectors", 7, (35, 35, 35)),
    (100, "1.5×inspectors", 7, (11, 10, 11)),  # 10.5
    (8, "5×inspectors", 7, (8, 8, 8)),  # capped at N
    (0, "25%", None, (0, 0, 0)),
    (1, "1:10", None, (1, 0, 0)),  # 不低于: one in ten of one entity is one
]


@pytest.mark.parametrize("N,spec,inspectors,expected", SIZE_TABLE)
def test_sample_sizes_for_every_kind_and_rounding(N: int, spec: str, inspectors, expected) -> None:
    got = tuple(sample_size(N, spec, r, inspectors).n for r in ("ceil", "floor", "round"))
    assert got == expected


def test_explanation_lines() -> None:
    assert sample_size(50, "1:10").line == "N=50, quota 1:10, ceil(5.0)=5"
    assert sample_size(17, "25%", "round").line == "N=17, quota 25%, round(4.25)=4"
    assert sample_size(10, "1:3").line == "N=10, quota 1:3, ceil(10/3≈3.3333)=4"
    assert sample_size(3, "12").line == "N=3, quota 12, ceil(12.0)=12, capped at N=3"
    assert (
        sample_size(100, "5x", on_duty_inspectors=7).line == "N=100, quota 5×inspectors with 7 on duty, ceil(35.0)=35"
    )
    size = sample_size(18, "25%", "round")
    assert (size.N, size.quota_text, size.rounding, size.raw, size.n) == (18, "25%", Rounding.ROUND, Fraction(9, 2), 5)
    with pytest.raises(ValueError, match="on-duty inspectors"):
        sample_size(100, "5×inspectors")


@settings(max_examples=300)
@given(N=st.integers(0, 10_000), percent=st.integers(0, 100), rounding=st.sampled_from("cfr"))
def test_sizes_are_exact_and_bounded(N: int, percent: int, rounding: str) -> None:
    r = {"c": "ceil", "f": "floor", "r": "round"}[rounding]
    n = sample_size(N, f"{percent}%", r).n
    exact = N * percent  # n is N*percent/100 rounded; check with integer arithmetic only
    expected = {"ceil": -(-exact // 100), "floor": exact // 100, "round": (exact + 50) // 100}[r]
    assert n == expected and 0 <= n <= N


def test_largest_remainder_allocation() -> None:
    assert allocate_largest_remainder(10, {"A": 50, "B": 30, "C": 20}) == {"A": 5, "B": 3, "C": 2}
    # shares 3.5 / 3.5 / 3.0 with 10 to give: the tie goes to the smaller label
    assert allocate_largest_remainder(10, {"B": 35, "A": 35, "C": 30}) == {"A": 4, "B": 3, "C": 3}
    assert allocate_largest_remainder(0, {"A": 0}) == {"A": 0}
    with pytest.raises(ValueError, match="cannot allocate 11"):
        allocate_largest_remainder(11, {"A": 5, "B": 5})


@settings(max_examples=200)
@given(
    sizes=st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 500), min_size=1, max_size=6), data=st.data()
)
def test_allocation_sums_and_stays_within_quota_bounds(sizes: dict, data: st.DataObject) -> None:
    total = data.draw(st.integers(0, sum(sizes.values())))
    allocation = allocate_largest_remainder(total, sizes)
    assert sum(allocation.values()) == total
    for label, size in sizes.items():
        share = Fraction(total * size, sum(sizes.values()) or 1)
        assert share - 1 < allocation[label] < share + 1 and allocation[label] <= size


def test_size_strata_mixes_kinds() -> None:
    per = QuotaRule.of("5×inspectors")
    sizes = size_strata(
        {"A": 30, "B": 10, "C": 50, "D": 50},
        {"A": per, "B": per, "C": QuotaRule.of("1:10"), "D": CoverageRule(period=3, periods=4, drawn_before=10)},
        on_duty_inspectors=2,
    )
    assert {label: s.n for label, s in sizes.items()} == {"A": 8, "B": 2, "C": 5, "D": 50}
    assert sizes["A"].line.startswith("N=30 of 40 in 2 strata; matter total: N=40, quota")
    with pytest.raises(ValueError, match="no quota for strata \\['E'\\]"):
        size_strata({"E": 1}, {})
    with pytest.raises(ValueError, match="share one quota"):
        size_strata({"A": 1, "B": 1}, {"A": per, "B": QuotaRule.of("6×inspectors")}, 1)


# --- coverage ----------------------------------------------------------------------------------


def test_period_sizes_examples() -> None:
    assert period_sizes(10, 4) == [2, 3, 2, 3]
    assert period_sizes(5, 4) == [1, 1, 1, 2]
    assert period_sizes(5, 12) == [0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
    assert period_sizes(0, 4) == [0, 0, 0, 0]


@settings(max_examples=100, deadline=None)
@given(N=st.integers(0, 300), periods=st.sampled_from([4, 12]), seed=st.integers(0, 10**6))
def test_coverage_cycle_is_disjoint_and_complete(N: int, periods: int, seed: int) -> None:
    """Drawing each period from the remaining pool covers everyone exactly once."""
    population = [f"E{k}" for k in range(N)]
    drawn: list[str] = []
    for q in range(periods):
        already = set(drawn)
        remaining = [e for e in population if e not in already]
        n = coverage_size(q, periods, len(drawn), len(remaining))
        assert n == period_sizes(N, periods)[q]  # unchanged population: the floor formula
        drawn += [s.id for s in select(f"{seed}/{q}", remaining, n)]
    assert sorted(drawn) == sorted(population) and len(set(drawn)) == len(drawn)


@settings(max_examples=100, deadline=None)
@given(N=st.integers(0, 200), periods=st.sampled_from([4, 12]), seed=st.integers(0, 10**6))
def test_coverage_with_joiners_and_leavers(N: int, periods: int, seed: int) -> None:
    """Joiners are covered by the end, leavers vanish, nobody is drawn twice."""
    rng = random.Random(seed)
    members = {f"E{k}" for k in range(N)}
    next_id, drawn = N, []
    for q in range(periods):
        for _ in range(rng.randrange(4)):  # joiners
            members.add(f"E{next_id}")
            next_id += 1
        for leaver in rng.sample(sorted(members), min(len(members), rng.randrange(3))):
            members.discard(leaver)
        remaining = sorted(members - set(drawn))
        n = coverage_size(q, periods, len(drawn), len(remaining))
        assert 0 <= n <= len(remaining)
        drawn += [s.id for s in select(f"{seed}/{q}", remaining, n)]
    assert len(set(drawn)) == len(drawn)
    assert members <= set(drawn)  # everyone still present at year end was drawn


def test_coverage_rule_checks_and_explains() -> None:
    assert coverage_size(1, 4, 25, 75) == 25  # unchanged
    assert coverage_size(1, 4, 25, 95) == 35  # 20 joined: floor(2×120/4) − 25
    assert coverage_size(1, 4, 25, 20) == 0  # 55 undrawn left: ahead of pace
    assert coverage_size(3, 4, 40, 7) == 7  # last period takes the rest
    assert (
        explain_coverage(20, CoverageRule(1, 4, 25)).line
        == "N=20 remaining, annual coverage period 2 of 4, 25 drawn before: "
        "floor(2×45/4)−25=-3, ahead of pace, so n=0"
    )
    with pytest.raises(ValueError, match="outside 0..3"):
        CoverageRule(4, 4, 0)
