"""Outside experts: drawn uniformly at random among a task's eligible experts, for the team
(`draw_experts`) and for a replacement (`draw_expert_substitute`). Pure: seed in, experts out.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Mapping, Sequence

from inspect_kit.errors import InspectError


def draw_experts(eligible: Mapping[str, Sequence[str]], per_task: int, seed: str) -> dict[str, tuple[str, ...]]:
    """Outside experts per task: `per_task` of the task's eligible experts, uniformly at random.

    Tasks in task-number order; for each, a partial Fisher–Yates shuffle of its sorted eligible
    experts (for i < per_task: swap i with i + below(n − i)) on the stream HashStream(seed, "experts").
    """
    from inspect_kit.assign.core.randomness import HashStream

    if per_task <= 0:
        return {}
    stream = HashStream(seed, "experts")
    out = {}
    for task in sorted(eligible):
        pool = sorted(eligible[task])
        k = min(per_task, len(pool))
        for i in range(k):
            j = i + stream.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        out[task] = tuple(sorted(pool[:k]))
    return out


def draw_expert_substitute(candidates: Iterable[str], seed: str, task_no: str, leaving: str) -> tuple[str, Fraction]:
    """A replacement expert, uniform among `candidates`, from HashStream("{seed}\\t{task}\\t{leaving}", "experts-substitute")."""
    from inspect_kit.assign.core.randomness import HashStream

    pool = sorted(candidates)
    if not pool:
        raise InspectError(f"task {task_no}: no other eligible expert can replace {leaving}")
    k = HashStream(f"{seed}\t{task_no}\t{leaving}", "experts-substitute").below(len(pool))
    return pool[k], Fraction(1, len(pool))
