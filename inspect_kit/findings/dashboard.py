"""The period dashboard of one unit: per matter, how far the period's work has come.

For each matter of the unit whose period kind is the period's (``periods.matters_for``): tasks
drawn (current draw), results recorded, results reviewed (approved at their current revision),
results published (listed in a results notice), rectifications overdue, and the pending deadlines
(publicity and rectification) in working days, from the same ``task_results`` and ``due`` the CLI
reads (``inspect findings list`` / ``inspect findings due``). ``state`` of a deadline is "late"
when overdue, "soon" within ``horizon`` working days, else "" — the web colours by it.

Pure reads: the caller passes ``as_of`` (its clock's day) and the policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine

from inspect_kit.config import Config
from inspect_kit.findings.deadlines import DEFAULT_HORIZON
from inspect_kit.findings.model import DueRow
from inspect_kit.findings.policy import DEFAULT_POLICY, FindingsPolicy
from inspect_kit.findings.read import due, task_results
from inspect_kit.findings.review import approved_task_ids
from inspect_kit.periods import Period, matters_for


@dataclass(frozen=True)
class Deadline:
    row: DueRow
    state: str  # late | soon | ""


@dataclass(frozen=True)
class MatterProgress:
    matter: str
    name: str
    period: str
    drawn: int
    recorded: int
    reviewed: int
    published: int
    overdue_rectifications: int
    deadlines: list[Deadline] = field(default_factory=list)


def _state(row: DueRow, horizon: int) -> str:
    if row.overdue:
        return "late"
    return "soon" if row.working_days <= horizon else ""


def period_dashboard(
    engine: Engine,
    config: Config,
    unit: str,
    period: Period,
    *,
    as_of: dt.date,
    policy: FindingsPolicy = DEFAULT_POLICY,
    horizon: int = DEFAULT_HORIZON,
) -> list[MatterProgress]:
    """One row per matter of ``unit`` for ``period`` (see the module docstring)."""
    out = []
    for m in matters_for([m for m in config.matters if m.unit == unit], period):
        results = task_results(engine, as_of=as_of, policy=policy, period=period.label, matter=m.code)
        found = [r.finding for r in results if r.finding is not None]
        with engine.connect() as conn:
            reviewed = approved_task_ids(conn, [f.task_id for f in found])
        report = due(engine, as_of=as_of, policy=policy, period=period.label, matter=m.code, horizon=None)
        out.append(
            MatterProgress(
                m.code,
                m.name,
                period.label,
                drawn=len(results),
                recorded=len(found),
                reviewed=len(reviewed),
                published=sum(f.published for f in found),
                overdue_rectifications=sum(f.status == "overdue" for f in found),
                deadlines=[Deadline(i, _state(i, horizon)) for i in report.items],
            )
        )
    return out
