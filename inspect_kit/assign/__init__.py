"""Random team assignment ("random 2"): which officers inspect which task.

Layout — pure and stored are separate subpackages:

* ``assign/core/`` — pure functions on plain data (no database, files or clock): model, errors,
  eligibility (who may inspect what, and the canonical inputs), graph, feasibility, lp, grid,
  fractional, randomness, rounding (and its compiled rounding_kernel), repair, sampling,
  substitute, experts, record (the stored conventions), bundle (the offline check of an exported
  assignment). Re-exported below.
* ``assign/store/`` — against the database or files: run (assign and store teams), rows (reading
  the registry, conflicts and history), records (reading assignments), record_substitute (storing
  a substitute), verify (exporting and checking stored assignments), export (team lists to files).
* ``assign/service.py`` is the facade the CLI and the web layer call; ``assign/demo.py`` the demo step.

The pure core in two calls:

    fractional = solve_fractional(instance)          # LP -> P(officer on task), on a 1/10,000 grid
    assignment = sample_assignment(fractional, seed)  # dependent rounding with a SHA-256 stream

What to keep: `fractional.canonical_bytes()` (self-contained: officers, departments, caps, slots,
every eligible pair with its probability, forbidden pairs, and the instance hash), its SHA-256
`fractional.sha256` (publish it before the seed is chosen, like the frozen frame), the seed and its
source, the strict/lenient choice, and `assignment.canonical_bytes()` / `assignment.sha256`.
Re-deriving needs no LP solver: `sample_assignment(Fractional.from_canonical(stored), seed)` gives
byte-identical teams. Re-solving the LP is not a verification step: HiGHS may pick another optimum
in another version, which is why the grid, not the instance, is the record.

Streams (core/randomness.py): SHA-256("{seed}:team:{i}") for the rounding, "{seed}:repair:{i}" for
forbidden-pair swaps, "{seed}\t{task}\t{leaving}:substitute:{i}" for a substitute.
See the docstrings of lp, grid, rounding, repair and substitute for the guarantees.
"""

from __future__ import annotations

from .core.errors import (
    AssignmentInfeasible,
    AssignmentInputInvalid,
    AssignmentProblem,
    ForbiddenPairsUnresolved,
    NoSubstituteAvailable,
)
from .core.fractional import Fractional, solve_fractional
from .core.graph import build_slot_graph
from .core.graph import instance_sha256 as _graph_sha256
from .core.model import DEFAULT_PAIR_CAP, DEFAULT_TEAM_SIZE, GRID_SCALE, Instance, Officer, TaskDemand
from .core.repair import Repair
from .core.sampling import Assignment, sample_assignment
from .core.substitute import Substitution, apply_substitution, draw_substitute


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
    "TaskDemand",
    "apply_substitution",
    "assign",
    "draw_substitute",
    "instance_sha256",
    "sample_assignment",
    "solve_fractional",
]
