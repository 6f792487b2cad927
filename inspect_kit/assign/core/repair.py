"""Enforce "officers who were a team last period are not paired again" after sampling, by swaps.

Why after, and why swaps: the LP and the rounding work with per-edge marginals, which cannot say
"not both a and b"; for a general graph of forbidden pairs no exact sampler with given marginals
is known, and rejecting whole samples is hopeless at scale (with a few thousand tasks almost every
sample contains some forbidden pair). So each team holding a forbidden pair, in task-ID order,
swaps one of the offending officers with an officer of the same department on another task:

    a leaves task t for task t', d leaves t' for t,

where both new pairs have positive probability in the fractional solution, neither officer is
already on its new team, and neither new team gains a forbidden pair. The swap is drawn uniformly
from all such swaps with the seed's "repair" stream (see _draw_swap), and repeated while t still
has a forbidden pair (each swap removes at least one, and adds none anywhere, so this ends).

What still holds exactly: team sizes, distinct members, eligibility (only pairs with positive
probability are used), every officer's load (a swap trades one task for another), hence caps and
the floor/ceil property. What does not: pair probabilities are no longer exactly the fractional
solution, and an officer's probability for a task can exceed the pair cap Q by the probability of
being swapped in. Every swap is returned and published with the teams, so the repair is visible.

When no swap helps (typically a small department whose officers were each paired with most
colleagues last period) the rule cannot be met; strict mode raises ForbiddenPairsUnresolved,
lenient mode keeps those teams and lists them as unresolved in the published record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ForbiddenPairsUnresolved
from .fractional import Fractional
from .randomness import HashStream

REJECTION_TRIES = 64


@dataclass(frozen=True)
class Repair:
    """Officer `moved_out` left `task_id` for `other_task_id`; `moved_in` took the opposite way."""

    task_id: str
    moved_out: str
    other_task_id: str
    moved_in: str


class _Teams:
    """Slot members as sets, with the lookups a swap needs."""

    def __init__(self, fractional: Fractional, members: list[set[int]]):
        g = fractional.graph
        self.graph, self.units, self.members = g, fractional.units, members
        self.partners: dict[int, set[int]] = {}
        for a, b in g.forbidden_pairs:
            ia, ib = g.officer_index[a], g.officer_index[b]
            self.partners.setdefault(ia, set()).add(ib)
            self.partners.setdefault(ib, set()).add(ia)
        # Officer -> its slots with positive probability, in slot order (built once, lazily).
        self._officer_slots: tuple[np.ndarray, np.ndarray] | None = None
        self._supported: dict[int, set[int]] = {}

    def team(self, task: str) -> set[int]:
        return set().union(*(self.members[s] for s in self.graph.task_slots[task]))

    def conflicts(self, officer: int, others: set[int]) -> bool:
        return bool(self.partners.get(officer, set()) & others)

    def offenders(self, task: str) -> list[int]:
        team = self.team(task)
        return sorted(o for o in team if self.conflicts(o, team - {o}))

    def supported_in(self, slot: int) -> set[int]:
        """Officers with positive probability for the slot (cached: the grid never changes)."""
        if slot not in self._supported:
            lo, hi = self.graph.slot_start[slot], self.graph.slot_start[slot + 1]
            officers = self.graph.edge_officer[lo:hi]
            self._supported[slot] = set(officers[self.units[lo:hi] > 0].tolist())
        return self._supported[slot]

    def slots_of(self, officer: int) -> np.ndarray:
        if self._officer_slots is None:
            g = self.graph
            positive = np.flatnonzero(self.units > 0)
            order = positive[np.argsort(g.edge_officer[positive], kind="stable")]
            starts = np.searchsorted(g.edge_officer[order], np.arange(g.n_officers + 1))
            self._officer_slots = (g.edge_slot[order], starts)
        slots, starts = self._officer_slots
        return slots[starts[officer] : starts[officer + 1]]


class _Proposals:
    """All (slot, moved_out, other_slot, moved_in) with moved_out an offender of the task and moved_in
    a member of another task's slot that moved_out could fill; validity is checked separately.

    Indexed without being listed: proposal i falls in the block of one offender, then in one other
    slot (by the running sum of slot sizes), then is that slot's i-th member in ID order.
    """

    def __init__(self, teams: _Teams, task: str):
        g = teams.graph
        self.teams = teams
        own = g.task_slots[task]
        self.blocks = []  # (slot, offender, other slots, running sum of their sizes)
        for a in teams.offenders(task):
            slot = next(s for s in own if a in teams.members[s])
            others = teams.slots_of(a)
            keep = others != own[0]  # the task's own slots (one per department, so a few) are not "others"
            for s in own[1:]:
                keep &= others != s
            others = others[keep]
            if len(others):
                self.blocks.append((slot, a, others, np.cumsum(g.slot_sizes[others])))
        self.total = sum(int(cum[-1]) for _, _, _, cum in self.blocks)

    def __getitem__(self, i: int) -> tuple[int, int, int, int]:
        for slot, a, others, cum in self.blocks:
            if i < cum[-1]:
                k = int(np.searchsorted(cum, i, side="right"))
                before = int(cum[k - 1]) if k else 0
                other = int(others[k])
                return slot, a, other, sorted(self.teams.members[other])[i - before]
            i -= int(cum[-1])
        raise IndexError(i)


def _valid(teams: _Teams, task: str, swap: tuple[int, int, int, int]) -> bool:
    slot, a, other, d = swap
    if a in teams.members[other] or d not in teams.supported_in(slot):
        return False
    team = teams.team(task)
    if d in team or teams.conflicts(d, team - {a}):
        return False
    return not teams.conflicts(a, teams.team(teams.graph.slot_tasks[other]) - {d})


def _draw_swap(teams: _Teams, task: str, stream: HashStream) -> tuple[int, int, int, int] | None:
    """A swap drawn uniformly from the valid ones, or None if there is none.

    Rejection sampling from all proposals is uniform over the valid ones and cheap when many are
    valid; after REJECTION_TRIES misses, listing the valid ones and drawing among them is uniform
    too, and proves there is none when the list is empty.
    """
    proposals = _Proposals(teams, task)
    if not proposals.total:
        return None
    for _ in range(REJECTION_TRIES):
        swap = proposals[stream.below(proposals.total)]
        if _valid(teams, task, swap):
            return swap
    valid = [swap for swap in (proposals[i] for i in range(proposals.total)) if _valid(teams, task, swap)]
    return valid[stream.below(len(valid))] if valid else None


def repair_forbidden_pairs(
    fractional: Fractional, members: list[set[int]], seed: str, strict: bool = True
) -> tuple[list[Repair], list[str]]:
    """Swap officers until no team holds a forbidden pair; `members` is updated in place.

    Returns the swaps made and the tasks that still hold a forbidden pair because no swap could
    separate them; with strict=True those raise ForbiddenPairsUnresolved instead.
    """
    g = fractional.graph
    if not g.forbidden_pairs:
        return [], []
    teams = _Teams(fractional, members)
    stream = HashStream(seed, "repair")
    repairs: list[Repair] = []
    stuck: list[str] = []
    for task in sorted(g.task_slots):
        while teams.offenders(task):
            swap = _draw_swap(teams, task, stream)
            if swap is None:
                stuck.append(task)
                break
            slot, a, other, d = swap
            members[slot].remove(a)
            members[slot].add(d)
            members[other].remove(d)
            members[other].add(a)
            repairs.append(Repair(task, g.officer_ids[a], g.slot_tasks[other], g.officer_ids[d]))
    if stuck and strict:
        shown = ", ".join(stuck[:20]) + (" ..." if len(stuck) > 20 else "")
        raise ForbiddenPairsUnresolved(
            stuck,
            f"{len(stuck)} task(s) keep officers who may not be paired, and no swap with another task "
            f"can separate them: {shown}. Usually the department has too few officers for its "
            f"tasks under this rule (most pairs of colleagues are forbidden).",
        )
    return repairs, stuck
