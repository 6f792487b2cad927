"""The assignment bundle checked offline: `verify_bundle` re-derives an exported assignment from the
bundle alone (hashes, teams and experts from the fractional solution and the seed, every rule, every
substitute). Pure: no database, files or clock; store/verify.py exports bundles and checks stored
assignments with it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from inspect_kit.assign.core.eligibility import inputs_sha256, instance_from_inputs
from inspect_kit.assign.core.experts import draw_expert_substitute, draw_experts
from inspect_kit.assign.core.record import (
    core_assignment,
    short_list,
)
from inspect_kit.errors import InspectError

BUNDLE_FORMAT = "inspect-kit/assign-bundle"
BUNDLE_VERSION = 1


@dataclass
class AssignmentVerifyReport:
    what: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_bundle(bundle: Mapping[str, Any], resolve: bool = False) -> AssignmentVerifyReport:
    """Re-derive an exported assignment: hashes, teams from (fractional, seed), every rule, substitutes.

    With resolve=True the fractional solution is also solved again from the inputs and compared.
    """
    rep = AssignmentVerifyReport(f"assignment {bundle.get('matter')} {bundle.get('period')}")
    try:
        _verify_bundle(bundle, rep, resolve)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        rep.fail(f"the record is malformed: {type(exc).__name__}: {exc}")
    return rep


def _verify_bundle(bundle: Mapping[str, Any], rep: AssignmentVerifyReport, resolve: bool) -> None:  # noqa: C901 - one check after another, each one line
    from inspect_kit.assign import (
        AssignmentInputInvalid,
        ForbiddenPairsUnresolved,
        Fractional,
        NoSubstituteAvailable,
        apply_substitution,
        draw_substitute,
        instance_sha256,
        sample_assignment,
        solve_fractional,
    )

    if bundle.get("format") != BUNDLE_FORMAT:
        rep.fail(f"not an assignment bundle (format {bundle.get('format')!r})")
        return
    inputs, seed = bundle["inputs"], bundle["seed"]
    if inputs_sha256(inputs) != bundle["inputs_sha256"]:
        rep.fail(
            f"the inputs do not match their SHA-256: stored {bundle['inputs_sha256']}, computed {inputs_sha256(inputs)}"
        )
    text = bundle["fractional"].encode("utf-8")
    if hashlib.sha256(text).hexdigest() != bundle["fractional_sha256"]:
        rep.fail(f"the fractional solution does not match its SHA-256 {bundle['fractional_sha256']}")
    try:
        fractional = Fractional.from_canonical(text)
    except AssignmentInputInvalid as exc:
        rep.fail(f"the fractional solution is not valid: {exc}")
        return
    try:
        instance = instance_from_inputs(inputs)
        if instance_sha256(instance) != fractional.instance_sha256:
            rep.fail("the fractional solution was not computed from these inputs (instance SHA-256 differs)")
    except AssignmentInputInvalid as exc:
        rep.fail(f"the inputs are not a valid instance: {exc}")
        return
    if resolve and solve_fractional(instance).sha256 != fractional.sha256:
        rep.fail("solving the inputs again gives a different fractional solution")

    # the teams, re-derived from the fractional solution and the seed
    stored = {t["task"]: sorted(t["officers"]) for t in bundle["teams"]}
    stored_experts = {t["task"]: sorted(t.get("experts", [])) for t in bundle["teams"]}
    try:
        sampled = sample_assignment(fractional, seed)
    except (ValueError, ForbiddenPairsUnresolved) as exc:
        rep.fail(f"the teams cannot be re-derived with seed {seed!r}: {exc}")
        return
    derived = {t: sorted(c) for t, c in sampled.teams.items()}
    if derived != stored:
        diff = [
            f"{t}: stored {'、'.join(stored.get(t, [])) or '-'}, re-derived {'、'.join(derived.get(t, [])) or '-'}"
            for t in sorted(set(stored) | set(derived))
            if stored.get(t) != derived.get(t)
        ]
        rep.fail(f"the stored teams are not those the seed gives: {short_list(diff, 5)}")
    per_task = int(inputs["experts"]["per_task"])
    expert_pool = inputs["experts"].get("eligible", {})
    if per_task:
        derived_experts = {t: sorted(c) for t, c in draw_experts(expert_pool, per_task, seed).items()}
        if {t: c for t, c in derived_experts.items() if c} != {t: c for t, c in stored_experts.items() if c}:
            rep.fail("the stored experts are not those the seed gives")
    elif any(stored_experts.values()):
        rep.fail("experts are stored but the inputs ask for none")
    for t in bundle["teams"]:
        for cert, p in zip(t["officers"], t.get("probabilities", [])):
            if p is None or abs(float(fractional.probability(t["task"], cert)) - p) > 1e-9:
                rep.fail(f"{t['task']}: the stored probability of {cert} is not the fractional solution's")

    # every rule, on the stored teams (before and after substitutes)
    for problem in _rule_problems(inputs, stored, stored_experts, fractional, check_loads=True):
        rep.fail(problem)

    teams = {t: list(c) for t, c in stored.items()}
    experts = {t: set(c) for t, c in stored_experts.items()}
    state = core_assignment(fractional, teams)
    for s in bundle["substitutions"]:
        task, leaving = s["task"], s["leaving"]
        where = f"substitute {s['substitute']} for {leaving} on {task}"
        if leaving is None:
            rep.fail(f"{where}: replaces a member of another assignment")
            continue
        try:
            if s["kind"] == "expert":
                pool = set(expert_pool.get(task, ())) - experts.get(task, set()) - set(s["unavailable"])
                chosen, p = draw_expert_substitute(pool, s["seed"], task, leaving)
                experts[task] = experts.get(task, set()) - {leaving} | {chosen}
            else:
                sub = draw_substitute(fractional, state, task, leaving, s["seed"], s["unavailable"])
                chosen, p = sub.substitute, sub.probabilities[sub.substitute]
                state = apply_substitution(state, sub)
        except (InspectError, NoSubstituteAvailable, ValueError) as exc:
            rep.fail(f"{where}: cannot be re-derived ({exc})")
            continue
        if chosen != s["substitute"]:
            rep.fail(f"{where}: the seed gives {chosen}")
        elif s["probability"] is None or abs(float(p) - s["probability"]) > 1e-9:
            rep.fail(f"{where}: stored probability {s['probability']}, re-derived {float(p)}")
    if bundle["substitutions"]:
        final = {t: sorted(c) for t, c in state.teams.items()}
        for problem in _rule_problems(
            inputs, final, {t: sorted(c) for t, c in experts.items()}, fractional, check_loads=False
        ):
            rep.fail(f"after substitutes: {problem}")


def _rule_problems(
    inputs: Mapping[str, Any],
    teams: Mapping[str, Sequence[str]],
    experts: Mapping[str, Sequence[str]],
    fractional: Any,
    check_loads: bool,
) -> list[str]:
    """Team sizes per department, distinct members, eligibility, forbidden pairs, caps, floor/ceil loads."""
    problems = []
    dept = {o["id"]: o["department"] for o in inputs["officers"]}
    caps = {o["id"]: o["cap"] for o in inputs["officers"]}
    forbidden = {tuple(p) for p in inputs["forbidden_pairs"]}
    expert_pool = inputs["experts"].get("eligible", {})
    per_task = int(inputs["experts"]["per_task"])
    task_ids = [t["id"] for t in inputs["tasks"]]
    if set(teams) != set(task_ids):
        problems.append(
            f"teams are stored for {len(teams)} task(s) but the inputs have {len(task_ids)}: "
            f"{short_list(sorted(set(teams) ^ set(task_ids)))}"
        )
    for t in inputs["tasks"]:
        team = list(teams.get(t["id"], []))
        if len(set(team)) != len(team):
            problems.append(f"{t['id']}: an officer appears twice on the team")
        outside = sorted(set(team) - set(t["eligible"]))
        if outside:
            problems.append(f"{t['id']}: {'、'.join(outside)} not eligible for the task")
        got = Counter(dept.get(c) for c in set(team))
        if dict(got) != {d: n for d, n in t["demand"].items() if n}:
            problems.append(f"{t['id']}: team {dict(got)} does not meet the demand {t['demand']}")
        pairs = {(a, b) for a in team for b in team if a < b} & forbidden
        if pairs:
            problems.append(f"{t['id']}: {'; '.join(f'{a}+{b}' for a, b in sorted(pairs))} were a team last period")
        ex = list(experts.get(t["id"], []))
        if sorted(set(ex) - set(expert_pool.get(t["id"], ()))):
            problems.append(
                f"{t['id']}: expert(s) {'、'.join(sorted(set(ex) - set(expert_pool.get(t['id'], ()))))} "
                "not eligible for the task"
            )
        if per_task and len(set(ex)) != min(per_task, len(expert_pool.get(t["id"], ()))):
            problems.append(f"{t['id']}: {len(set(ex))} expert(s), {per_task} asked for")
    loads = Counter(c for team in teams.values() for c in team)
    for cert, n in sorted(loads.items()):
        if caps.get(cert) is not None and n > caps[cert]:
            problems.append(f"{cert} has {n} tasks, above the cap {caps[cert]}")
    if check_loads:
        for cert, expected in fractional.expected_loads().items():
            n = loads.get(cert, 0)
            if not (expected.numerator // expected.denominator <= n <= -(-expected.numerator // expected.denominator)):
                problems.append(
                    f"{cert} has {n} tasks; the fractional solution expects {float(expected):g} (floor or ceiling)"
                )
    return problems
