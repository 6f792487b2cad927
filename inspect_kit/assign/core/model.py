"""The caller's view of an assignment problem: officers, tasks, who may inspect what.

Eligibility is decided by the caller (qualification, valid certificate, leave, declared conflicts,
configured conflict rules); this package only honours it. An officer belongs to one department and
can fill only that department's places on a task, so a joint inspection (部门联合) is a task whose
`demand` names several departments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

DEFAULT_TEAM_SIZE = 2  # 至少两名执法人员; a matter may ask for more
DEFAULT_PAIR_CAP = 0.5  # no officer is on a given task with probability above this
GRID_SCALE = 10_000  # probabilities are stored as integers in units of 1/GRID_SCALE


@dataclass(frozen=True)
class Officer:
    id: str
    department: str
    cap: int | None = None  # most tasks this officer may take this period; None = no cap


@dataclass(frozen=True, eq=False)
class TaskDemand:
    """A task of the instance: how many officers of each department its team needs (the stored
    tasks row is another thing: inspect_kit.storage.models.Task)."""

    id: str
    demand: Mapping[str, int]  # department -> number of its officers on the team
    label: str = ""  # e.g. "entity 某某厂, township 城关镇"; used in messages only, never hashed

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand", dict(self.demand))  # a private copy: callers may reuse theirs

    @classmethod
    def of(cls, id: str, department: str, team_size: int = DEFAULT_TEAM_SIZE, label: str = "") -> TaskDemand:
        """A single-department task (the common case)."""
        return cls(id=id, demand={department: team_size}, label=label)

    def describe(self) -> str:
        return f"task {self.id} ({self.label})" if self.label else f"task {self.id}"


@dataclass(frozen=True, eq=False)
class Instance:
    """One period's assignment problem.

    `eligible[i, j]` says whether officers[i] may inspect tasks[j]; a numpy bool array or any
    scipy.sparse matrix. Order of officers and tasks does not matter: everything downstream works
    in canonical (ID-sorted) order, so a permuted input gives the same result.
    """

    officers: Sequence[Officer]
    tasks: Sequence[TaskDemand]
    eligible: object
    pair_cap: float = DEFAULT_PAIR_CAP
    forbidden_pairs: Iterable[tuple[str, str]] = field(default=())  # e.g. last period's teams
    scale: int = GRID_SCALE

    def __post_init__(self) -> None:
        # Freeze the lists (a generator of forbidden pairs would otherwise be used up by the first
        # reader, and a later hash of the same instance would silently differ).
        object.__setattr__(self, "officers", tuple(self.officers))
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "forbidden_pairs", tuple(tuple(p) for p in self.forbidden_pairs))

    @property
    def pair_cap_units(self) -> int:
        # Floored onto the grid so the stored cap is never above the configured one; the epsilon
        # keeps 0.29 * 10000 = 2899.9999... at 2900.
        return int(np.floor(self.pair_cap * self.scale + 1e-9))
