"""Coordinated draws (PRN): each matter still an exact SRS, the joint law as the theory says,
and every coordinated draw re-derivable from its coordination entry alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inspect_kit.draw.core.coordination import (
    Coordination,
    coordinated_select,
    coordination_for,
    draw_rows_coordinated,
    prn_tickets,
    ticket_of,
)
from inspect_kit.draw.core.sampler import select, ticket_key

N = 40
IDS = [f"E{i:03d}" for i in range(N)]
SEEDS = 600


def _coord(seed: int, mode: str, slot: int, slots: int = 2, group: str = "g") -> Coordination:
    """Rule 2: yearly seed fixed per run, the start from the draw's public seed."""
    plain = Coordination(f"yearly-{seed}", group, mode, slot, slots)  # type: ignore[arg-type]
    return plain.at_draw(f"lottery {seed}")


def _rule1(seed: int, mode: str, slot: int, rotation: str = "2026", group: str = "g") -> Coordination:
    return Coordination(f"yearly-{seed}", group, mode, slot, 2, rotation)  # type: ignore[arg-type]


def _samples(mode: str, n1: int, n2: int, seeds: int = SEEDS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indicator matrices of the two matters' samples over many yearly seeds, and the overlaps."""
    a = np.zeros((seeds, N), dtype=bool)
    b = np.zeros((seeds, N), dtype=bool)
    index = {e: k for k, e in enumerate(IDS)}
    for s in range(seeds):
        if mode == "independent":
            first = [c.id for c in select(f"A-{s}", IDS, n1)]
            second = [c.id for c in select(f"B-{s}", IDS, n2)]
        else:
            first = [c.id for c in coordinated_select(_coord(s, mode, 0), IDS, n1)]
            second = [c.id for c in coordinated_select(_coord(s, mode, 1), IDS, n2)]
        a[s, [index[i] for i in first]] = True
        b[s, [index[i] for i in second]] = True
    return a, b, (a & b).sum(axis=1)


def _uniform_inclusion(x: np.ndarray, n: int) -> None:
    """Every entity drawn in n/N of the seeds: each within 5 binomial standard errors, and the
    chi-square of the counts plausible for N-1 degrees of freedom."""
    p, seeds = n / N, x.shape[0]
    freq = x.mean(axis=0)
    assert (x.sum(axis=1) == n).all()
    assert np.abs(freq - p).max() < 5 * math.sqrt(p * (1 - p) / seeds)
    counts = x.sum(axis=0)
    expected = seeds * p
    chi2 = ((counts - expected) ** 2).sum() / (seeds * p * (1 - p))  # about N - 1 degrees of freedom
    assert chi2 < (N - 1) + 6 * math.sqrt(2 * (N - 1))


@pytest.mark.parametrize("mode", ["positive", "negative", "independent"])
def test_each_matter_keeps_inclusion_n_over_N(mode):
    a, b, _ = _samples(mode, 10, 8)
    _uniform_inclusion(a, 10)
    _uniform_inclusion(b, 8)


def test_overlap_against_theory():
    n1, n2 = 10, 8
    _, _, positive = _samples("positive", n1, n2)
    _, _, negative = _samples("negative", n1, n2)
    _, _, independent = _samples("independent", n1, n2)
    # positive: the smaller sample lies inside the larger one, always
    assert (positive == min(n1, n2)).all()
    # independent: hypergeometric mean n1·n2/N, within 5 standard errors
    mean = n1 * n2 / N
    var = n2 * (n1 / N) * (1 - n1 / N) * (N - n2) / (N - 1)
    assert abs(independent.mean() - mean) < 5 * math.sqrt(var / SEEDS)
    assert independent.min() == 0 and independent.max() >= 4  # it varies, as it should
    # negative: arcs half a circle apart do not meet when both fractions stay below 1/2
    assert negative.mean() < 0.02


def test_negative_when_quotas_force_overlap():
    n1 = n2 = 30  # 30 + 30 > 40: at least 20 in common whatever is done
    _, _, negative = _samples("negative", n1, n2, seeds=200)
    _, _, independent = _samples("independent", n1, n2, seeds=200)
    assert negative.min() >= n1 + n2 - N
    assert negative.mean() < independent.mean() - 1


def test_the_numbers_come_from_the_draws_public_seed():
    """Rule 2: the public seed (and a sealed draw's salt) renews the numbers; the period does not
    enter them, so the draws of one meeting (a yearly matter and a quarterly one) share them."""
    plain = Coordination("S", "g", "positive", 0, 2)
    a, b = plain.at_draw("03 09 14 21 27 30 + 11"), plain.at_draw("84402 13395 67721 90548")
    assert prn_tickets(a, IDS) != prn_tickets(b, IDS)
    assert prn_tickets(a, IDS) != prn_tickets(plain.at_draw(a.public_seed or "", "salt"), IDS)
    assert prn_tickets(a, IDS) == prn_tickets(
        Coordination("S", "g", "positive", 1, 2).at_draw(a.public_seed or ""), IDS
    )
    assert prn_tickets(a, IDS) != prn_tickets(
        Coordination("S", "h", "positive", 0, 2).at_draw(a.public_seed or ""), IDS
    )
    with pytest.raises(ValueError, match="public seed"):
        prn_tickets(plain, IDS)  # committed, not drawn: no numbers yet


def test_knowing_the_yearly_seed_does_not_tell_who_is_drawn():
    """The attack on permanent numbers: the yearly seed is published with the annual plan, so an
    operator who knows it knows the numbers before the draw's seed exists. Under rule 2, with the
    yearly seed FIXED and known, every entity's chance over the unknown public seeds is n/N, and
    the samples vary."""
    n, seeds = 10, SEEDS
    x = np.zeros((seeds, N), dtype=bool)
    index = {e: k for k, e in enumerate(IDS)}
    known = Coordination("published yearly seed", "g", "positive", 0, 2)
    for s in range(seeds):
        chosen = coordinated_select(known.at_draw(f"drand round {s}"), IDS, n)
        x[s, [index[c.id] for c in chosen]] = True
    _uniform_inclusion(x, n)
    assert len({tuple(np.flatnonzero(row)) for row in x}) > seeds // 2


def test_permanent_numbers_with_a_fresh_start_would_favour_some_entities():
    """Why rule 2 renews the numbers instead of keeping them and drawing only a fresh start point:
    with the numbers known, the chance of an entity is the arc before it, which varies from one
    entity to another far beyond sampling noise."""
    n, seeds = 10, SEEDS
    known = Coordination("published yearly seed", "g", "positive", 0, 2, "2026")
    x = np.zeros((seeds, N), dtype=bool)
    index = {e: k for k, e in enumerate(IDS)}
    for s in range(seeds):
        start = Coordination(known.yearly_seed, "g", "positive", 0, 2, f"start {s}")
        ps = known.prn_seed  # the same permanent numbers, a fresh start each time
        assert start.prn_seed == ps
        chosen = coordinated_select(start, IDS, n)
        x[s, [index[c.id] for c in chosen]] = True
    freq = x.mean(axis=0)
    assert np.abs(freq - n / N).max() > 5 * math.sqrt((n / N) * (1 - n / N) / seeds)


def test_rule_1_is_still_verified():
    """Commitments made under rule 1 keep their entry (with its rotation key) and their tickets."""
    base = _rule1(1, "positive", 0)
    entry = base.to_dict()
    assert entry["rule"] == "inspect-kit/prn/1" and entry["rotation"] == "2026"
    again = Coordination.of_bundle(entry, None)
    assert again == base and prn_tickets(again, IDS) == prn_tickets(base, IDS)
    assert prn_tickets(base, IDS) != prn_tickets(_rule1(1, "positive", 0, "2026Q2"), IDS)
    assert prn_tickets(_rule1(1, "negative", 0), IDS) != prn_tickets(_rule1(1, "negative", 1), IDS)


def test_tickets_are_wellformed_and_ordered():
    coord = _coord(3, "negative", 1)
    chosen = coordinated_select(coord, IDS, 12)
    keys = [ticket_key(c.ticket) for c in chosen]
    assert keys == sorted(keys) and len({c.ticket for c in chosen}) == 12
    assert all(len(c.ticket) == 80 for c in chosen)
    assert ticket_of(0) == "0." + "0" * 78 and ticket_of((1 << 256) - 1).startswith("0.999")
    # order-independent, and the stratified form equals the per-stratum selection
    assert coordinated_select(coord, list(reversed(IDS)), 12) == chosen
    rows = [(i, "A" if k % 2 else "B") for k, i in enumerate(IDS)]
    result = draw_rows_coordinated(coord, rows, {"A": 3, "B": 2}, "seed")
    assert [c.id for c in result.stratum("A").selected] == [
        c.id for c in coordinated_select(coord, [i for i, s in rows if s == "A"], 3)
    ]


def test_hostile_coordination_entries_are_refused():
    with pytest.raises(ValueError, match="mode"):
        Coordination("s", "g", "sideways", 0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="slot"):
        Coordination("s", "g", "negative", 2, 2)
    with pytest.raises(ValueError, match="rule"):
        Coordination.from_dict({"rule": "other", "yearly_seed": "s"})
    with pytest.raises(ValueError, match="duplicate"):
        coordinated_select(_coord(1, "positive", 0), ["A", "A"], 1)
    c = _coord(2, "negative", 1)
    entry = c.to_dict()
    assert entry == {"rule": "inspect-kit/prn/2", "yearly_seed": "yearly-2", "group": "g", "mode": "negative"} | {
        "slot": 1,
        "slots": 2,
    }  # the public seed is not part of the committed entry: it does not exist yet
    derivation = {"public_seed": c.public_seed, "period": "2026Q1"}
    assert Coordination.of_bundle(entry, derivation) == c
    assert Coordination.of_bundle(entry, derivation | {"salt": "x"}) == c.at_draw(c.public_seed or "", "x")
    for broken in (None, {}, {"public_seed": 7}):
        with pytest.raises(ValueError, match="seed derivation"):
            Coordination.of_bundle(entry, broken)


def test_plan_lookup():
    plan = {"seed": "S", "groups": {"env": {"mode": "positive", "matters": ["STHJ-01", "LH-01"]}}}
    c = coordination_for(plan, "LH-01", "2026", True)
    assert c is not None and (c.slot, c.slots, c.rotation, c.group, c.rule) == (1, 2, None, "env", "inspect-kit/prn/2")
    assert coordination_for(plan, "SCJG-01", "2026", True) is None
    assert coordination_for(None, "LH-01", "2026", True) is None
    yearly = plan | {"numbers": "yearly"}
    c = coordination_for(yearly, "LH-01", "2026", True)
    assert c is not None and (c.rotation, c.rule) == ("2026", "inspect-kit/prn/1")
    q = coordination_for(yearly, "STHJ-01", "2026Q3", False)
    assert q is not None and q.rotation == "2026Q3"
