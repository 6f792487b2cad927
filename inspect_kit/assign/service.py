"""Team assignment against the database (random 2): assign, show, substitute, verify.

`assign_teams` reads the current draws of (matter, period), the inspector registry, declared
conflicts and earlier teams; decides who may inspect what (`inspect_kit.assign.core.eligibility`);
solves the seed-independent fractional solution; samples the teams with the published seed; and
stores, in one transaction, an `assignments` record (seed, algorithm and version, the canonical
inputs and their SHA-256, the fractional solution and its SHA-256) and one `team_members` row per
officer and expert. When any matter cannot be staffed nothing is written, and the error names
every task that cannot be staffed and why.

Records are append-only (database triggers refuse UPDATE and DELETE):
- a re-assignment is a new record with `reassignment_of` and a reason; the current assignment of a
  task is the latest one holding it;
- a substitute is a new `team_members` row (role 'substitute') naming the row it replaces.

Substitute draws (`substitute`) use the core's `draw_substitute` (officer j drawn with probability
proportional to (Q − x_j)/(1 − x_j)) with the seed

    "{assignment seed}:substitute:{task_no}:{cert_no of the officer leaving}"

unless another seed is given. Officers who have become unavailable since the assignment (off duty,
certificate no longer valid, not qualified, a newly declared conflict) are excluded. The draw is
re-derivable: when the seed is not the default or someone was excluded, the stored reason ends
with a line "[draw] {json}" holding the seed and the excluded 执法证号 (`split_reason` reads it).
An expert who drops out is replaced by a uniform draw among the task's other eligible experts.

Loads: a per-period cap (inspector.max_tasks_per_period) is shared by the matters of the period:
the tasks an officer already has under other matters' current assignments of the same period
label (and, within one run, under the matters assigned before, in matter-code order) are
subtracted from it.

Confidentiality: teams are confidential until the entities are notified; only the inputs' hash
and the seed may be published (`AssignmentInfo.public()`).

Where the code lives (this module re-exports it); store/ uses the database or files, core/ is pure:
- `store/rows`: the database read into plain rows (registry, tasks, conflicts, team members, history);
- `store/records`: stored assignments read back (`AssignmentInfo`, `Team`, `Member`), `CONFIDENTIAL_NOTE`;
- `store/run`: `check_inputs` and `assign_teams` (solve, sample, store in one transaction);
- `core/experts`: the uniform expert draws;
- `core/record`: the stored conventions (algorithm name, substitute seed rule, the draw record of a
  substitute's reason);
- `core/bundle`: `verify_bundle`, the offline check of an exported assignment;
- `store/record_substitute`: `substitute` and its seed;
- `store/verify`: `export_bundle`, `verify_assignment(s)`;
- `store/export`: the current teams written as .json, .csv or .xlsx (`write_teams`, `print_teams`).
"""

from __future__ import annotations

from inspect_kit.assign.core import bundle as _bundle
from inspect_kit.assign.core.bundle import BUNDLE_FORMAT, BUNDLE_VERSION, AssignmentVerifyReport, verify_bundle
from inspect_kit.assign.core.experts import draw_expert_substitute, draw_experts
from inspect_kit.assign.core.record import ALGORITHM_NAME, ALGORITHM_VERSION, default_substitute_seed, split_reason
from inspect_kit.assign.store.export import export_format, print_teams, write_teams
from inspect_kit.assign.store.record_substitute import SubstitutionInfo, substitute
from inspect_kit.assign.store.records import (
    CONFIDENTIAL_NOTE,
    AssignmentInfo,
    Member,
    Team,
    current_assignments,
    get_assignment,
    list_assignments,
)
from inspect_kit.assign.store.rows import effective_team, member_rows
from inspect_kit.assign.store.run import InputsInfo, assign_teams, check_inputs
from inspect_kit.assign.store.verify import export_bundle, verify_assignment, verify_assignments

_rule_problems = _bundle._rule_problems  # not public: tests/test_assign_service.py checks the rules on hand-made teams

__all__ = [
    "ALGORITHM_NAME",
    "ALGORITHM_VERSION",
    "AssignmentInfo",
    "AssignmentVerifyReport",
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "CONFIDENTIAL_NOTE",
    "InputsInfo",
    "Member",
    "SubstitutionInfo",
    "Team",
    "assign_teams",
    "check_inputs",
    "current_assignments",
    "default_substitute_seed",
    "draw_expert_substitute",
    "draw_experts",
    "effective_team",
    "export_bundle",
    "export_format",
    "get_assignment",
    "list_assignments",
    "member_rows",
    "print_teams",
    "split_reason",
    "substitute",
    "verify_assignment",
    "verify_assignments",
    "verify_bundle",
    "write_teams",
]
