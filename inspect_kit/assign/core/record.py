"""The conventions of a stored assignment, shared by the code that writes it (assign/store) and the
offline check of a bundle (core/bundle.py): the algorithm's name and version, the seed rule of a
substitute draw, the draw record appended to a substitute's reason, and a core Assignment rebuilt
from stored teams. Pure: no database, files or clock.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from .fractional import Fractional
from .sampling import Assignment as CoreAssignment

ALGORITHM_NAME = "lp-dependent-rounding"  # Jecmen et al. 2020 LP + Gandhi et al. 2006 rounding, SHA-256 stream
ALGORITHM_VERSION = "1"
DRAW_MARK = "\n[draw] "  # a substitute's stored reason: "{reason}\n[draw] {json: seed, unavailable}"


def split_reason(text: str | None) -> tuple[str | None, dict[str, Any]]:
    """A substitute row's reason → (the user's reason, the draw record: seed and excluded officers)."""
    if text is None or DRAW_MARK not in text:
        return text, {}
    reason, _, meta = text.rpartition(DRAW_MARK)
    try:
        return reason, json.loads(meta)
    except ValueError:
        return text, {}


def default_substitute_seed(assignment_seed: str, task_no: str, cert_no: str) -> str:
    """The seed of a substitute draw when none is given: "{seed}:substitute:{task_no}:{cert_no}"."""
    return f"{assignment_seed}:substitute:{task_no}:{cert_no}"


def core_assignment(fractional: Fractional, teams: Mapping[str, Iterable[str]]) -> CoreAssignment:
    """A core Assignment holding the given officer teams (for draw_substitute)."""
    g = fractional.graph
    dept = dict(zip(g.officer_ids, g.officer_departments))
    by_department: dict[str, dict[str, tuple[str, ...]]] = {}
    loads = dict.fromkeys(g.officer_ids, 0)
    for task, certs in teams.items():
        for d in {dept[c] for c in certs}:
            by_department.setdefault(task, {})[d] = tuple(sorted(c for c in certs if dept[c] == d))
        for c in certs:
            loads[c] += 1
    return CoreAssignment(
        seed="-",
        fractional_sha256=fractional.sha256,
        teams={t: tuple(sorted(c)) for t, c in teams.items()},
        by_department=by_department,
        loads=loads,
    )


def short_list(items: Iterable[str], limit: int = 8) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f" … ({len(items)} in all)" if len(items) > limit else "")
