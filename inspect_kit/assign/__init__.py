"""Random team assignment ("random 2"): which officers inspect which task.

Pure functions on plain data (no database, files or clock):

    fractional = solve_fractional(instance)          # LP -> P(officer on task), on a 1/10,000 grid
    assignment = sample_assignment(fractional, seed)  # dependent rounding with a SHA-256 stream

What to keep: `fractional.canonical_bytes()` (self-contained: officers, departments, caps, slots,
every eligible pair with its probability, forbidden pairs, and the instance hash), its SHA-256
`fractional.sha256` (publish it before the seed is chosen, like the frozen frame), the seed and its
source, the strict/lenient choice, and `assignment.canonical_bytes()` / `assignment.sha256`.
Re-deriving needs no LP solver: `sample_assignment(Fractional.from_canonical(stored), seed)` gives
byte-identical teams. Re-solving the LP is not a verification step: HiGHS may pick another optimum
in another version, which is why the grid, not the instance, is the record.

Streams (randomness.py): SHA-256("{seed}:team:{i}") for the rounding, "{seed}:repair:{i}" for
forbidden-pair swaps, "{seed}\t{task}\t{leaving}:substitute:{i}" for a substitute.
See the docstrings of lp, grid, rounding, repair and substitute for the guarantees.
"""

from __future__ import annotations

from .errors import (
    AssignmentInfeasible,
    AssignmentInputInvalid,
    AssignmentProblem,
    ForbiddenPairsUnresolved,
    NoSubstituteAvailable,
)
from .fractional import Fractional, solve_fractional
from .graph import build_slot_graph
from .graph import instance_sha256 as _graph_sha256
from .model import DEFAULT_PAIR_CAP, DEFAULT_TEAM_SIZE, GRID_SCALE, Instance, Officer, Task
from .repair import Repair
from .sampling import Assignment, sample_assignment
from .substitute import Substitution, apply_substitution, draw_substitute


def instance_sha256(instance: Instance) -> str:
    """SHA-256 of the instance's canonical form (IDs sorted; task labels excluded)."""
    return _graph_sha256(build_slot_graph(instance))


def assign(instance: Instance, seed: str, strict_forbidden_pairs: bool = True) -> tuple[Fractional, Assignment]:
    """Solve and sample in one go; returns the fractional solution too, since it must be stored."""
    fractional = solve_fractional(instance)
    return fractional, sample_assignment(fractional, seed, strict_forbidden_pairs)


__all__ = [
    "Assignment",
    "AssignmentInfeasible",
    "AssignmentInputInvalid",
    "AssignmentProblem",
    "DEFAULT_PAIR_CAP",
    "DEFAULT_TEAM_SIZE",
    "ForbiddenPairsUnresolved",
    "Fractional",
    "GRID_SCALE",
    "Instance",
    "NoSubstituteAvailable",
    "Officer",
    "Repair",
    "Substitution",
    "Task",
    "apply_substitution",
    "assign",
    "draw_substitute",
    "instance_sha256",
    "sample_assignment",
    "solve_fractional",
]
