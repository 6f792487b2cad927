"""Year-end scoring against the database: the public API of the scoring stage, in one import.

Library first: every function takes an Engine and plain values (year, as_of, now — no clock in
here) and returns dataclasses; `inspect score ...`, the demo and the report are thin shells over
it. The work is done in modules that each hold one part, re-exported here so that callers need
not know where each function lives:

- policy.py         ScorePolicy (code lists, calendar, publicity days, 回避 rules) from the config,
                    and the as-of date rules.
- records.py        one read of the records a year's metrics count (draws, tasks, findings,
                    notices, teams), as a snapshot as of a day.
- metric_values.py  each metric of `metrics.METRICS` computed per unit from that snapshot, as a
                    MetricValue whose records name every counted item.
- manual.py         manual values and judgement deductions: checked entry, file import, the
                    append-only history and which rows count.
- runs.py           scoring runs: collect inputs, score, store; load, verify and list stored runs;
                    explain a unit's result.

The pure engine (rulebook, engine, inputs, explain, ...) knows nothing of the database; these
modules are the only part of `inspect_kit.score` that reads or writes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from inspect_kit.score.estimates import MatterEstimate, snapshot_estimates
from inspect_kit.score.manual import (
    NOT_APPLICABLE_VALUE,
    ManualEntry,
    ManualImportSummary,
    add_manual_value,
    import_manual_values,
    manual_history,
)
from inspect_kit.score.metric_values import compute_metrics
from inspect_kit.score.policy import DEFAULT_POLICY, ScorePolicy, default_as_of, policy_from_config
from inspect_kit.score.runs import (
    CollectedInputs,
    RunInfo,
    ScoringVerifyReport,
    StoredRun,
    VerifyCheck,
    collect_inputs,
    explain_unit,
    list_runs,
    load_run,
    run_scoring,
    unit_flags,
    verify_run,
)


def year_estimates(
    engine: Any, year: int, as_of: dt.date, policy: ScorePolicy = DEFAULT_POLICY
) -> list[MatterEstimate]:
    """The estimates of the year's draws (inspect_kit.score.estimates) from the records as of the day."""
    from inspect_kit.score.records import load_snapshot

    cb = policy.codebook

    def problem(results: Sequence[str]) -> bool:
        return any(item.problem for code in results if (item := cb.categories.get(code)) is not None)

    with engine.connect() as conn:
        snap = load_snapshot(conn, year, as_of)
    return snapshot_estimates(snap, problem)


__all__ = [
    "year_estimates",
    "MatterEstimate",
    "ScorePolicy",
    "policy_from_config",
    "DEFAULT_POLICY",
    "compute_metrics",
    "collect_inputs",
    "CollectedInputs",
    "ManualEntry",
    "add_manual_value",
    "import_manual_values",
    "ManualImportSummary",
    "manual_history",
    "StoredRun",
    "RunInfo",
    "run_scoring",
    "load_run",
    "list_runs",
    "verify_run",
    "ScoringVerifyReport",
    "VerifyCheck",
    "explain_unit",
    "unit_flags",
    "default_as_of",
    "NOT_APPLICABLE_VALUE",
]
