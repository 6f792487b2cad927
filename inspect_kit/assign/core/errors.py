"""What can go wrong when assigning teams, told precisely enough for a user to fix the input."""

from __future__ import annotations

from dataclasses import dataclass

from inspect_kit.errors import InspectError, Problem, ValidationFailed


@dataclass(frozen=True)
class AssignmentProblem(Problem):
    """One reason teams cannot be formed, tied to a task and/or department when there is one."""

    task_id: str | None = None
    department: str | None = None


class AssignmentInputInvalid(ValidationFailed):
    """The officers, tasks or eligibility matrix are malformed (duplicate IDs, wrong shape ...)."""


class AssignmentInfeasible(ValidationFailed):
    """No team assignment satisfies team sizes, eligibility, the pair cap and the load caps.

    `problems` lists every shortfall found; nothing was drawn.
    """


class ForbiddenPairsUnresolved(InspectError):
    """Some teams still pair officers who may not be paired, and no swap could fix them."""

    def __init__(self, task_ids: list[str], detail: str):
        self.task_ids = list(task_ids)
        super().__init__(detail)


class NoSubstituteAvailable(InspectError):
    """Nobody can replace an officer on a task without breaking eligibility, caps or pair rules."""
