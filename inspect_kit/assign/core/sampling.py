"""Draw the teams from a stored fractional solution and a published seed.

`sample_assignment(fractional, seed)` is a pure function of the fractional solution's canonical
content and the seed: anyone holding both re-derives byte-identical teams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator

import numpy as np

from .fractional import Fractional
from .graph import sha256_of_lines
from .randomness import HashStream
from .repair import Repair, repair_forbidden_pairs
from .rounding import round_dependently


@dataclass(frozen=True, eq=False)
class Assignment:
    seed: str
    fractional_sha256: str
    teams: dict[str, tuple[str, ...]]  # task ID -> officer IDs, sorted
    by_department: dict[str, dict[str, tuple[str, ...]]]  # task ID -> department -> officer IDs
    loads: dict[str, int]  # officer ID -> number of tasks (every officer, zeros included)
    repairs: tuple[Repair, ...] = field(default=())  # swaps made for forbidden pairs, in order
    unresolved: tuple[str, ...] = field(default=())  # tasks still holding a forbidden pair (lenient mode)

    def canonical_lines(self) -> Iterator[str]:
        yield "inspect-kit/assign teams v1\n"
        yield f"fractional\t{self.fractional_sha256}\n"
        yield f"seed\t{self.seed}\n"
        for task in sorted(self.by_department):
            for dept, officers in sorted(self.by_department[task].items()):
                for officer in officers:
                    yield f"member\t{task}\t{dept}\t{officer}\n"
        for r in self.repairs:
            yield f"repair\t{r.task_id}\t{r.moved_out}\t{r.other_task_id}\t{r.moved_in}\n"
        for task in self.unresolved:
            yield f"unresolved\t{task}\n"

    def canonical_bytes(self) -> bytes:
        return "".join(self.canonical_lines()).encode("utf-8")

    @cached_property
    def sha256(self) -> str:
        return sha256_of_lines(self.canonical_lines())


def _check_seed(seed: str) -> None:
    if not isinstance(seed, str) or not seed or any(c in seed for c in "\t\n\r"):
        raise ValueError("seed must be a non-empty string without tabs or newlines")


def sample_assignment(fractional: Fractional, seed: str, strict_forbidden_pairs: bool = True) -> Assignment:
    """Teams with P(officer on task) equal to the fractional solution (before forbidden-pair swaps).

    If some team keeps a forbidden pair that no swap can separate, strict mode raises
    ForbiddenPairsUnresolved; lenient mode returns it, listed in `unresolved`.
    """
    _check_seed(seed)
    g = fractional.graph
    final = round_dependently(
        g.n_officers,
        g.n_slots,
        g.edge_officer.tolist(),
        g.edge_slot.tolist(),
        fractional.units.tolist(),
        g.scale,
        HashStream(seed, "team"),
    )
    chosen = np.flatnonzero(np.asarray(final, dtype=np.int64) == g.scale)
    # Dependent rounding guarantees this; a failure here is a bug, never bad input.
    if not np.array_equal(np.bincount(g.edge_slot[chosen], minlength=g.n_slots), g.slot_sizes):
        raise RuntimeError("dependent rounding changed a team size")

    members: list[set[int]] = [set() for _ in range(g.n_slots)]
    for s, o in zip(g.edge_slot[chosen].tolist(), g.edge_officer[chosen].tolist()):
        members[s].add(o)
    repairs, unresolved = repair_forbidden_pairs(fractional, members, seed, strict_forbidden_pairs)
    return _assignment(fractional, seed, members, repairs, unresolved)


def _assignment(
    fractional: Fractional, seed: str, members: list[set[int]], repairs: list[Repair], unresolved: list[str]
) -> Assignment:
    g = fractional.graph
    ids = g.officer_ids
    by_department: dict[str, dict[str, tuple[str, ...]]] = {}
    loads = dict.fromkeys(ids, 0)
    for s, officers in enumerate(members):
        names = tuple(sorted(ids[o] for o in officers))
        by_department.setdefault(g.slot_tasks[s], {})[g.slot_departments[s]] = names
        for name in names:
            loads[name] += 1
    teams = {task: tuple(sorted(o for dept in depts.values() for o in dept)) for task, depts in by_department.items()}
    return Assignment(
        seed=seed,
        fractional_sha256=fractional.sha256,
        teams=teams,
        by_department=by_department,
        loads=loads,
        repairs=tuple(repairs),
        unresolved=tuple(unresolved),
    )
