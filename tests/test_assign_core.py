"""The pure team-assignment core: LP marginals, grid, dependent rounding, repair, substitutes."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from inspect_kit.assign import (
    AssignmentInfeasible,
    AssignmentInputInvalid,
    ForbiddenPairsUnresolved,
    Fractional,
    Instance,
    NoSubstituteAvailable,
    Officer,
    TaskDemand,
    apply_substitution,
    assign,
    draw_substitute,
    instance_sha256,
    sample_assignment,
    solve_fractional,
)
from inspect_kit.assign.core.lp import PIECE_SLOPES
from inspect_kit.assign.core.randomness import HashStream
from inspect_kit.errors import InspectError

# ---------------------------------------------------------------- helpers


def check_rules(instance: Instance, fr: Fractional, a) -> None:
    """Every hard rule of a sampled assignment, against the caller's own instance."""
    g = fr.graph
    S, Q = g.scale, g.pair_cap_units
    officers = {o.id: o for o in instance.officers}
    task_index = {t.id: j for j, t in enumerate(instance.tasks)}
    officer_index = {o.id: i for i, o in enumerate(instance.officers)}
    eligible = instance.eligible.toarray() if sp.issparse(instance.eligible) else np.asarray(instance.eligible)
    forbidden = {frozenset(p) for p in instance.forbidden_pairs}

    assert set(a.teams) == {t.id for t in instance.tasks}
    for task in instance.tasks:
        team = a.teams[task.id]
        assert len(team) == len(set(team)) == sum(task.demand.values())
        assert list(team) == sorted(team)
        for dept, k in task.demand.items():
            members = a.by_department[task.id].get(dept, ())
            assert len(members) == k
            assert all(officers[o].department == dept for o in members)
        for o in team:
            assert eligible[officer_index[o], task_index[task.id]]
            assert fr.probability(task.id, o) > 0
        assert not any(frozenset((x, y)) in forbidden for x in team for y in team if x < y)

    expected = fr.expected_loads()
    for oid, officer in officers.items():
        load = a.loads[oid]
        assert load == sum(oid in team for team in a.teams.values())
        if officer.cap is not None:
            assert load <= officer.cap
        if not a.repairs:
            assert load in (math.floor(expected[oid]), math.ceil(expected[oid]))

    assert fr.units.max(initial=0) <= Q
    for s in range(g.n_slots):
        lo, hi = g.slot_start[s], g.slot_start[s + 1]
        assert fr.units[lo:hi].sum() == g.slot_sizes[s] * S


def full_lp_cost(fr: Fractional) -> tuple[float, float]:
    """(cost of fr's grid, optimum of the unpooled LP with every edge its own variable)."""
    g = fr.graph
    q = g.pair_cap_units / g.scale
    usable = np.array([g.officer_caps[o] != 0 for o in g.edge_officer])
    share = np.where(usable, g.slot_sizes[g.edge_slot] / np.maximum(g.eligible_count[g.edge_slot], 1), 0.0)
    widths = np.column_stack([share / 2, share / 2, (q - share) / 2, (q - share) / 2])

    def cost(x):
        left = x.copy()
        total = np.zeros_like(x)
        for i, slope in enumerate(PIECE_SLOPES):
            take = np.minimum(left, widths[:, i])
            total += slope * take
            left -= take
        return total.sum()

    n = g.n_edges
    var_edge = np.repeat(np.arange(n), 4)
    a_eq = sp.csr_matrix((np.ones(4 * n), (g.edge_slot[var_edge], np.arange(4 * n))), shape=(g.n_slots, 4 * n))
    capped = [o for o in range(g.n_officers) if g.officer_caps[o] is not None]
    row = {o: r for r, o in enumerate(capped)}
    pick = [v for v in range(4 * n) if g.edge_officer[var_edge[v]] in row]
    a_ub = sp.csr_matrix(
        (np.ones(len(pick)), ([row[g.edge_officer[var_edge[v]]] for v in pick], pick)), shape=(len(capped), 4 * n)
    )
    res = linprog(
        np.tile(PIECE_SLOPES, n),
        A_ub=a_ub,
        b_ub=[g.officer_caps[o] for o in capped],
        A_eq=a_eq,
        b_eq=g.slot_sizes.astype(float),
        bounds=np.column_stack([np.zeros(4 * n), widths.ravel()]),
        method="highs",
    )
    assert res.status == 0
    return cost(fr.units / g.scale), res.fun


@st.composite
def instances(draw, with_forbidden: bool = False, tight_caps: bool = False):
    """Small random instances, mostly feasible: 1-2 departments, optional joint tasks and caps.

    With tight_caps most officers get a cap of 1-2 and there are more tasks, so caps bind and the
    LP (not the uniform shortcut) decides the marginals."""
    n_depts = draw(st.integers(1, 2))
    depts = [f"d{i}" for i in range(n_depts)]
    pair_cap = draw(st.sampled_from([0.5, 0.5, 0.4, 1.0]))
    officers = []
    for d in depts:
        for i in range(draw(st.integers(4, 8))):
            cap = draw(st.sampled_from([1, 2, 2, None]) if tight_caps else st.one_of(st.none(), st.integers(0, 4)))
            officers.append(Officer(f"{d}-o{i}", d, cap))
    tasks = []
    for j in range(draw(st.integers(3, 8) if tight_caps else st.integers(1, 6))):
        if n_depts == 2 and draw(st.booleans()):
            demand = {"d0": 1, "d1": 1}
        else:
            demand = {draw(st.sampled_from(depts)): draw(st.integers(1, 2))}
        tasks.append(TaskDemand(f"t{j}", demand, label=f"entity E{j}"))
    rows = len(officers), len(tasks)
    dens = draw(st.sampled_from([0.75, 0.9, 1.0]))
    seed = draw(st.integers(0, 2**31))
    eligible = np.random.default_rng(seed).random(rows) < dens
    forbidden = []
    if with_forbidden:
        ids = [o.id for o in officers]
        forbidden = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=6))
    return Instance(officers, tasks, eligible, pair_cap=pair_cap, forbidden_pairs=forbidden)


def solve_or_skip(instance):
    try:
        return solve_fractional(instance)
    except AssignmentInfeasible:
        assume(False)


def grid_instance(n_officers=8, n_tasks=6, k=2, pair_cap=0.5, caps=None, dept="env", **kw):
    officers = [Officer(f"o{i}", dept, None if caps is None else caps[i]) for i in range(n_officers)]
    tasks = [TaskDemand.of(f"t{j}", dept, k) for j in range(n_tasks)]
    return Instance(officers, tasks, np.ones((n_officers, n_tasks), bool), pair_cap=pair_cap, **kw)


KNOWN_DIGITS = [5, 9, 7, 4, 8, 1, 9, 1, 3, 9]  # HashStream("20260105", "team").below(10), ten times

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow]
)


# ---------------------------------------------------------------- rules on random instances


@FAST
@given(st.one_of(instances(), instances(tight_caps=True)))
def test_every_rule_holds_on_random_instances(instance):
    fr = solve_or_skip(instance)
    for seed in ("1", "2", "dice 6-3-1"):
        check_rules(instance, fr, sample_assignment(fr, seed))


@FAST
@given(instances())
def test_ineligible_pairs_get_zero_probability_and_grid_is_exact(instance):
    fr = solve_or_skip(instance)
    eligible = np.asarray(instance.eligible)
    for i, o in enumerate(instance.officers):
        for j, t in enumerate(instance.tasks):
            p = fr.probability(t.id, o.id)
            assert 0 <= p <= instance.pair_cap
            if not eligible[i, j] or o.department not in t.demand or o.cap == 0:
                assert p == 0
    for oid, load in fr.expected_loads().items():
        cap = next(o.cap for o in instance.officers if o.id == oid)
        assert cap is None or load <= cap


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(instances(tight_caps=True))
def test_pooled_lp_reaches_the_full_lp_optimum(instance):
    fr = solve_or_skip(instance)
    got, optimum = full_lp_cost(fr)
    # The grid moves each edge by < 1/scale; every slope is <= 6.
    assert got <= optimum + 6 * fr.graph.n_edges / fr.scale + 1e-6


@FAST
@given(instances(with_forbidden=True))
def test_forbidden_pairs_never_share_a_team_and_loads_are_untouched(instance):
    fr = solve_or_skip(instance)
    plain = Fractional(graph=replace(fr.graph, forbidden_pairs=()), units=fr.units, instance_sha256=fr.instance_sha256)
    for seed in ("1", "2"):
        try:
            a = sample_assignment(fr, seed)
        except ForbiddenPairsUnresolved:
            continue
        check_rules(instance, fr, a)
        # Same "team" stream, so the same rounding before repair: swaps keep every load.
        assert a.loads == sample_assignment(plain, seed).loads


# ---------------------------------------------------------------- determinism and hashes


def test_same_seed_gives_byte_identical_teams_and_different_seeds_differ():
    instance = grid_instance(n_officers=20, n_tasks=15)
    fr = solve_fractional(instance)
    a1, a2 = sample_assignment(fr, "20260105-lottery-07"), sample_assignment(fr, "20260105-lottery-07")
    assert a1.canonical_bytes() == a2.canonical_bytes() and a1.sha256 == a2.sha256
    others = {sample_assignment(fr, f"seed-{i}").canonical_bytes() for i in range(5)}
    assert len(others) == 5 and a1.canonical_bytes() not in others


def test_fractional_does_not_depend_on_seed_or_input_order():
    instance = grid_instance(n_officers=10, n_tasks=8, caps=[1, 2, None, None, 3, None, 1, None, None, 2])
    f1, a1 = assign(instance, "seed-A")
    f2, a2 = assign(instance, "seed-B")
    assert f1.sha256 == f2.sha256 == a1.fractional_sha256 == a2.fractional_sha256
    assert np.array_equal(f1.units, f2.units)

    rng = np.random.default_rng(0)
    po, pt = rng.permutation(10), rng.permutation(8)
    shuffled = Instance(
        [instance.officers[i] for i in po],
        [instance.tasks[j] for j in pt],
        np.asarray(instance.eligible)[np.ix_(po, pt)],
        pair_cap=0.5,
    )
    f3, a3 = assign(shuffled, "seed-A")
    assert f3.sha256 == f1.sha256 and instance_sha256(shuffled) == instance_sha256(instance)
    assert a3.canonical_bytes() == a1.canonical_bytes()


def test_sparse_eligibility_gives_the_same_result():
    instance = grid_instance(n_officers=9, n_tasks=5)
    dense = np.random.default_rng(3).random((9, 5)) < 0.9
    a = solve_fractional(replace(instance, eligible=dense))
    b = solve_fractional(replace(instance, eligible=sp.csr_matrix(dense)))
    assert a.sha256 == b.sha256


def test_instance_hash_covers_what_matters_and_only_that():
    instance = grid_instance(n_officers=6, n_tasks=3)
    base = instance_sha256(instance)
    relabelled = replace(instance, tasks=[replace(t, label="entity X") for t in instance.tasks])
    assert instance_sha256(relabelled) == base
    eligible = np.asarray(instance.eligible).copy()
    eligible[0, 0] = False
    assert instance_sha256(replace(instance, eligible=eligible)) != base
    assert instance_sha256(replace(instance, forbidden_pairs=[("o1", "o0")])) != base
    assert instance_sha256(replace(instance, pair_cap=0.4)) != base
    once = replace(instance, forbidden_pairs=(p for p in [("o1", "o0")]))  # a generator is frozen, not used up
    assert (
        instance_sha256(once)
        == instance_sha256(once)
        == instance_sha256(replace(instance, forbidden_pairs=[("o0", "o1")]))
    )


def test_stored_fractional_alone_rederives_the_teams():
    instance = grid_instance(n_officers=9, n_tasks=6, caps=[1] + [None] * 8, forbidden_pairs=[("o2", "o3")])
    fr, a = assign(instance, "314159")
    stored = fr.canonical_bytes()
    assert hashlib.sha256(stored).hexdigest() == fr.sha256
    again = Fractional.from_canonical(stored)
    assert again.sha256 == fr.sha256
    assert sample_assignment(again, "314159").canonical_bytes() == a.canonical_bytes()

    lines = stored.split(b"\n")
    first_x = next(i for i, line in enumerate(lines) if line.startswith(b"x\t"))
    head, units = lines[first_x].rsplit(b"\t", 1)
    lines[first_x] = head + b"\t" + str(int(units) + 1).encode()  # the slot no longer sums to 2
    with pytest.raises(AssignmentInputInvalid, match="sums to 20001"):
        Fractional.from_canonical(b"\n".join(lines))
    with pytest.raises(AssignmentInputInvalid, match="sorted"):
        Fractional.from_canonical(stored.replace(b"forbidden\to2\to3", b"forbidden\to3\to2"))


def test_hash_stream_follows_its_published_definition():
    def reference(seed, domain, n, count):
        out, counter = [], 0
        m = n.bit_length() // 256 + 1
        while len(out) < count:
            v = int.from_bytes(
                b"".join(hashlib.sha256(f"{seed}:{domain}:{counter + i}".encode()).digest() for i in range(m)), "big"
            )
            counter += m
            if v < 2 ** (256 * m) // n * n:
                out.append(v % n)
        return out

    big = 3**300  # needs several blocks per draw
    for n in (1, 2, 3, 7, 10_000, 20_001, 2**256 - 5, big):
        stream = HashStream("20260105", "team")
        assert [stream.below(n) for _ in range(20)] == reference("20260105", "team", n, 20)
    # Known answer, so that an independent implementation can check itself against this one.
    stream = HashStream("20260105", "team")
    assert [stream.below(10) for _ in range(10)] == KNOWN_DIGITS
    values = [HashStream(f"s{i}", "substitute").below(big) for i in range(200)]
    assert all(0 <= v < big for v in values) and len(set(values)) == 200


# ---------------------------------------------------------------- hand-solved instances


def test_four_officers_one_task_each_gets_one_half():
    fr = solve_fractional(grid_instance(n_officers=4, n_tasks=1))
    assert fr.units.tolist() == [5000] * 4
    assert all(p == Fraction(1, 2) for p in (fr.probability("t0", f"o{i}") for i in range(4)))


def test_four_officers_two_tasks_everyone_inspects_exactly_once():
    fr = solve_fractional(grid_instance(n_officers=4, n_tasks=2))
    assert fr.units.tolist() == [5000] * 8
    for seed in range(50):
        a = sample_assignment(fr, str(seed))
        assert set(a.loads.values()) == {1}  # expected load 1 => floor = ceil = 1


def test_binding_cap_is_solved_exactly():
    # 5 officers, 5 tasks of 2, Q = 0.5: uniform share 0.4, load 2. o0's cap of 1 forces it down by
    # exactly the cheap piece (0.2) on every task; the other four then take (2 - 0.2) / 4 = 0.45 each.
    fr = solve_fractional(grid_instance(n_officers=5, n_tasks=5, caps=[1, None, None, None, None]))
    for t in range(5):
        assert fr.probability(f"t{t}", "o0") == Fraction(1, 5)
        assert all(fr.probability(f"t{t}", f"o{i}") == Fraction(9, 20) for i in range(1, 5))
    for seed in range(30):
        assert sample_assignment(fr, str(seed)).loads["o0"] == 1


def test_cap_zero_and_pair_cap_force_the_rest():
    fr = solve_fractional(grid_instance(n_officers=5, n_tasks=2, caps=[0, None, None, None, None]))
    assert all(fr.probability(f"t{t}", "o0") == 0 for t in range(2))
    assert all(fr.probability(f"t{t}", f"o{i}") == Fraction(1, 2) for t in range(2) for i in range(1, 5))


def test_joint_task_draws_from_each_department():
    officers = [Officer(f"env{i}", "环保") for i in range(4)] + [Officer(f"mkt{i}", "市场监管") for i in range(6)]
    tasks = [TaskDemand("J1", {"环保": 1, "市场监管": 2}, "联合检查"), TaskDemand.of("S1", "市场监管")]
    instance = Instance(officers, tasks, np.ones((10, 2), bool))
    fr = solve_fractional(instance)
    assert fr.probability("J1", "env0") == Fraction(1, 4)
    assert abs(fr.probability("J1", "mkt0") - Fraction(1, 3)) <= Fraction(1, 10_000)  # 3333 or 3334 units
    assert fr.probability("S1", "env0") == 0
    for seed in range(20):
        a = sample_assignment(fr, str(seed))
        check_rules(instance, fr, a)
        assert len(a.by_department["J1"]["环保"]) == 1 and len(a.by_department["J1"]["市场监管"]) == 2


# ---------------------------------------------------------------- infeasibility


def test_too_few_eligible_officers_is_reported_per_task():
    officers = [Officer(f"o{i}", "env") for i in range(5)]
    tasks = [TaskDemand.of("T1", "env", label="entity 某某化工厂, township 城关镇"), TaskDemand.of("T2", "env")]
    eligible = np.ones((5, 2), bool)
    eligible[1:, 0] = False
    with pytest.raises(AssignmentInfeasible) as info:
        solve_fractional(Instance(officers, tasks, eligible))
    problems = [p for p in info.value.problems if p.task_id]
    assert [p.task_id for p in problems] == ["T1"]
    assert problems[0].reason == (
        "task T1 (entity 某某化工厂, township 城关镇) has 1 eligible officer(s) of "
        "department env; team size 2 with pair cap 0.5 needs at least 4"
    )
    assert isinstance(info.value, InspectError)


def test_missing_department_and_short_capacity_are_reported():
    officers = [Officer(f"o{i}", "env", cap=1) for i in range(4)]
    tasks = [TaskDemand.of(f"T{j}", "env") for j in range(3)] + [TaskDemand.of("M1", "market")]
    with pytest.raises(AssignmentInfeasible) as info:
        solve_fractional(Instance(officers, tasks, np.ones((4, 4), bool)))
    text = str(info.value)
    assert "department market has no officers, but 1 task(s) need its officers" in text
    assert "department env: tasks need 6 officer-places but its officers can take at most 4" in text
    assert "in total, tasks need 8 officer-places but officers can take at most 4" in text


def test_lp_infeasible_after_prechecks_reports_totals():
    # T1-T3 may only take o0-o3 (cap 1 each: 4 places for 6); o4-o11 serve T4, T5 and lift the
    # department total, so every precheck passes and only the LP can tell.
    officers = [Officer(f"o{i:02d}", "env", cap=1 if i < 4 else None) for i in range(12)]
    tasks = [TaskDemand.of(f"T{j}", "env") for j in range(1, 6)]
    eligible = np.zeros((12, 5), bool)
    eligible[:4, :3] = True
    eligible[4:, 3:] = True
    with pytest.raises(AssignmentInfeasible) as info:
        solve_fractional(Instance(officers, tasks, eligible))
    reason = info.value.problems[0].reason
    assert reason.startswith("department env: no fractional assignment exists")
    assert "tasks need 10 officer-places over 5 slot(s)" in reason and "at most 12 in total" in reason


def test_malformed_input_is_refused():
    officers = [Officer("o1", "env"), Officer("o1", "env"), Officer("o\t3", "env", cap=-1)]
    tasks = [TaskDemand.of("t", "env"), TaskDemand("u", {"env": "2"}), TaskDemand("v", {"env": 0})]
    with pytest.raises(AssignmentInputInvalid) as info:
        solve_fractional(Instance(officers, tasks, np.ones((2, 3), bool)))
    text = str(info.value)
    for expected in (
        "appears more than once",
        "without tabs",
        "cap must be a whole number",
        "'2' is not",
        "task v: needs no officers",
        "shape (2, 3)",
    ):
        assert expected in text


# ---------------------------------------------------------------- statistics over many seeds


def test_pair_frequencies_match_the_fractional_solution():
    # Caps bind (LP path), one joint task; 3,000 seeds. Per edge z = (freq - p) / sd; with ~70 edges a
    # threshold of 5 gives a false alarm about once in 30,000 runs.
    officers = [Officer(f"a{i}", "A", cap=[1, 2, None, None, 1, None, None, 3][i]) for i in range(8)] + [
        Officer(f"b{i}", "B") for i in range(4)
    ]
    tasks = [TaskDemand.of(f"t{j}", "A") for j in range(5)] + [TaskDemand("joint", {"A": 1, "B": 2})]
    eligible = np.ones((12, 6), bool)
    eligible[0, 0] = eligible[3, 1] = eligible[5, 2] = False
    instance = Instance(officers, tasks, eligible, pair_cap=0.5)
    fr = solve_fractional(instance)
    g = fr.graph
    n = 3000
    counts = np.zeros(g.n_edges)
    edge_of = {
        (g.slot_tasks[s], g.officer_ids[o]): e
        for e, (s, o) in enumerate(zip(g.edge_slot.tolist(), g.edge_officer.tolist()))
    }
    expected = fr.expected_loads()
    for seed in range(n):
        a = sample_assignment(fr, f"stat-{seed}")
        for task, team in a.teams.items():
            for o in team:
                counts[edge_of[(task, o)]] += 1
        for oid, load in a.loads.items():
            assert math.floor(expected[oid]) <= load <= math.ceil(expected[oid])
    p = fr.units / g.scale
    freq = counts / n
    assert np.all(freq[p == 0] == 0)
    sd = np.sqrt(p * (1 - p) / n)
    z = np.where(sd > 0, (freq - p) / np.where(sd > 0, sd, 1), 0)
    assert np.abs(z).max() < 5, (np.abs(z).max(), freq, p)
    q_sd = math.sqrt(0.25 / n)
    assert freq.max() <= 0.5 + 5 * q_sd


# ---------------------------------------------------------------- forbidden pairs


def test_forbidden_pair_is_separated_by_a_recorded_swap():
    instance = grid_instance(n_officers=8, n_tasks=4, forbidden_pairs=[("o0", "o1"), ("o2", "o3")])
    fr = solve_fractional(instance)
    plain = Fractional(graph=replace(fr.graph, forbidden_pairs=()), units=fr.units, instance_sha256=fr.instance_sha256)
    swapped = 0
    for seed in range(40):
        a = sample_assignment(fr, str(seed))
        check_rules(instance, fr, a)
        # Replaying the recorded swaps on the unrepaired draw gives the published teams.
        teams = {t: set(team) for t, team in sample_assignment(plain, str(seed)).teams.items()}
        for r in a.repairs:
            assert r.moved_out in teams[r.task_id] and r.moved_in in teams[r.other_task_id]
            teams[r.task_id] ^= {r.moved_out, r.moved_in}
            teams[r.other_task_id] ^= {r.moved_out, r.moved_in}
        assert {t: tuple(sorted(team)) for t, team in teams.items()} == a.teams
        swapped += bool(a.repairs)
    assert swapped > 0  # the rounding did pair them sometimes, and the repair fixed it


def test_unresolvable_forbidden_pairs_raise_or_are_listed():
    ids = [f"o{i}" for i in range(4)]
    instance = grid_instance(n_officers=4, n_tasks=1, forbidden_pairs=[(a, b) for a in ids for b in ids if a < b])
    with pytest.raises(ForbiddenPairsUnresolved) as info:
        assign(instance, "1")
    assert info.value.task_ids == ["t0"]
    _, lenient = assign(instance, "1", strict_forbidden_pairs=False)
    assert lenient.unresolved == ("t0",) and b"\nunresolved\tt0\n" in lenient.canonical_bytes()


def test_every_pair_of_officers_can_be_a_team():
    # Per-officer marginals alone would allow a sampler that never pairs o0 with o1; the shuffled
    # walk makes all 28 pairs occur, and about equally often (the instance is symmetric; the walk
    # starts from o0 every time, so exact equality is not promised, hence the loose bound).
    fr = solve_fractional(grid_instance(n_officers=8, n_tasks=4))
    counts = {}
    n = 1500
    for seed in range(n):
        for team in sample_assignment(fr, f"pairs-{seed}").teams.values():
            counts[team] = counts.get(team, 0) + 1
    assert len(counts) == 28
    p = 1 / 28
    for c in counts.values():
        assert abs(c / (4 * n) - p) < 5 * math.sqrt(p * (1 - p) / (4 * n))


# ---------------------------------------------------------------- substitutes


def test_substitute_probabilities_follow_the_cap_formula():
    instance = grid_instance(n_officers=8, n_tasks=4, caps=[1, None, None, None, None, None, None, 2])
    fr, a = assign(instance, "seed")
    team = a.teams["t0"]
    sub = draw_substitute(fr, a, "t0", team[0], "replacement-1")
    assert sub.substitute not in team and sub.leaving == team[0]
    assert sum(sub.probabilities.values()) == 1
    q = Fraction(1, 2)
    weights = {}
    for o in instance.officers:
        if o.id in team or (o.cap is not None and a.loads[o.id] >= o.cap):
            assert o.id not in sub.probabilities
            continue
        x = fr.probability("t0", o.id)
        weights[o.id] = (q - x) / (1 - x)
    total = sum(weights.values())
    assert sub.probabilities == {k: w / total for k, w in weights.items() if w > 0}
    assert draw_substitute(fr, a, "t0", team[0], "replacement-1") == sub

    after = apply_substitution(a, sub)
    assert after.loads[sub.substitute] == a.loads[sub.substitute] + 1 and after.teams["t0"] == sub.team

    # Empirically the draw follows the stated probabilities.
    n = 3000
    hits = {k: 0 for k in sub.probabilities}
    for i in range(n):
        hits[draw_substitute(fr, a, "t0", team[0], f"r{i}").substitute] += 1
    for k, p in sub.probabilities.items():
        p = float(p)
        assert abs(hits[k] / n - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_substitute_respects_forbidden_pairs_and_unavailability():
    instance = grid_instance(n_officers=10, n_tasks=2)
    fr, a = assign(instance, "x")
    stay, leave = a.teams["t0"]
    others = [o.id for o in instance.officers if o.id not in a.teams["t0"]]
    fr_forbid = Fractional(
        graph=replace(fr.graph, forbidden_pairs=tuple(sorted(tuple(sorted((stay, o))) for o in others[:3]))),
        units=fr.units,
        instance_sha256=fr.instance_sha256,
    )
    sub = draw_substitute(fr_forbid, a, "t0", leave, "s", unavailable=others[3:5])
    assert set(sub.probabilities) == set(others[5:])


def test_no_substitute_keeps_the_pair_cap():
    fr, a = assign(grid_instance(n_officers=4, n_tasks=1), "1")
    with pytest.raises(NoSubstituteAvailable) as info:
        draw_substitute(fr, a, "t0", a.teams["t0"][0], "2")
    assert "2 on the team, 2 already at the pair cap" in str(info.value)
