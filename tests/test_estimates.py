"""Estimates of the share of entities with problems, against hand-computed and textbook values."""

import random

import pytest

from inspect_kit.findings.estimates import exact, percent, stratified, stratum_estimate, wilson


def test_wilson_interval_matches_hand_computation():
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)  # the textbook 0/10 upper bound
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(10, 10)[1] == pytest.approx(1.0)


def test_exact_interval_matches_the_closed_forms():
    assert exact(0, 10) == pytest.approx((0.0, 1 - 0.025 ** (1 / 10)), abs=1e-9)
    assert exact(10, 10) == pytest.approx((0.025 ** (1 / 10), 1.0), abs=1e-9)
    low, high = exact(3, 20)
    assert low < 3 / 20 < high and high - low > wilson(3, 20)[1] - wilson(3, 20)[0]  # exact is the wider


def test_a_stratum_inspected_in_full_is_known_exactly_and_an_empty_one_says_nothing():
    full = stratum_estimate("A", 16, 16, 4)
    assert (full.share, full.low, full.high) == (0.25, 0.25, 0.25)
    none = stratum_estimate("B", 16, 0, 0)
    assert none.share is None and none.low is None
    with pytest.raises(ValueError, match="problems"):
        stratum_estimate("C", 10, 3, 4)


def test_stratified_estimate_with_finite_population_correction():
    est = stratified([("A", 100, 10, 2), ("B", 300, 30, 3)])
    assert est.share == pytest.approx(0.125)  # 0.25 × 0.2 + 0.75 × 0.1
    # Var = 0.0025711 (by hand); n_eff = 0.125 × 0.875 / Var = 42.54; Wilson around 0.125 with it:
    assert (est.low, est.high) == pytest.approx((0.0559, 0.2562), abs=1e-4)
    assert (est.N, est.n, est.x, est.covered) == (400, 40, 5, 400)
    partial = stratified([("A", 100, 10, 2), ("B", 300, 0, 0)])
    assert partial.covered == 100 and partial.share == pytest.approx(0.2)  # speaks for stratum A only
    assert stratified([("A", 10, 0, 0)]).share is None
    assert percent(0.125) == "12.5%" and percent(None) == "—"


def test_the_interval_covers_the_truth_about_95_percent_of_the_time():
    """Draw many random samples from a known population: the stratified interval holds the true
    share in roughly 95% of them (a check of the estimator, not of a constant)."""
    rng = random.Random(5)
    population = {"A": [1] * 30 + [0] * 170, "B": [1] * 12 + [0] * 388}
    truth = (30 + 12) / 600
    hits = 0
    for _ in range(400):
        strata = []
        for label, units in population.items():
            sample = rng.sample(units, 60)
            strata.append((label, len(units), len(sample), sum(sample)))
        est = stratified(strata)
        hits += est.low <= truth <= est.high
    assert 0.9 <= hits / 400 <= 0.99


def test_the_results_notice_estimates_each_matter_from_its_inspected_tasks():
    import datetime as dt

    from inspect_kit.periods import parse_period
    from inspect_kit.publish import notices as nt

    def task(k: int, stratum: str, recorded: bool = True, problem: bool = False) -> nt.TaskOutcome:
        return nt.TaskOutcome(
            f"M-{k:03d}",
            f"ID{k}",
            f"单位{k}",
            recorded=recorded,
            problem_found=problem,
            stratum=stratum,
            inspection_start=dt.date(2026, 3, 2),
            inspection_end=dt.date(2026, 3, 2),
            results=["未发现问题"],
            follow_ups=["无需后续处置"],
        )

    tasks = (
        [task(k, "A", problem=k < 2) for k in range(10)]
        + [task(10 + k, "B", problem=k < 3) for k in range(30)]
        + [task(99, "B", recorded=False)]
    )  # a pending task is not evidence
    m = nt.MatterResults("M", "事项", "机关", tasks, {"A": 100, "B": 300})
    est = m.estimate()
    assert est is not None and est.share == pytest.approx(0.125) and (est.n, est.x) == (40, 5)
    assert nt.MatterResults("M", "事项", "机关", tasks).estimate() is None  # frame sizes unknown: no claim
    notice = nt.results_notice("机关", parse_period("2026Q1"), [m], dt.date(2026, 4, 15))
    section = next(s for s in notice.sections if s.heading.endswith("抽查结果推断"))
    rows = {r[1]: r for r in section.table.rows}
    assert rows["A"][2:6] == ["100", "10", "2", "20.0%"] and rows["全部（分层估计）"][5] == "12.5%"
