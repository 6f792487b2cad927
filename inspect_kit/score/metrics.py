"""The metrics the integration layer computes per unit and hands to the scoring engine.

A rulebook may only name these keys (a typo is caught when the rulebook loads). Each metric is
passed as `MetricValue(value, numerator, denominator, records)`; `value` defaults to
numerator/denominator. Each record is one counted item; `ok=True` means it counts towards the
numerator, so `denominator - numerator` items have `ok=False` (a deduction with
`occurrences = "failures"` cites exactly those records).

When a metric has nothing to measure for a unit (denominator 0), pass `NotApplicable(reason)`:
the engine then drops the indicator and re-weights, instead of scoring 0/0. When the records a
metric needs are absent (not the unit's performance), pass `Missing(reason)`.

The definitions are registered with the functions that implement them in
`inspect_kit.score.metric_values`, as of a day
`as_of` within the scored year. Terms they share:
- a unit's matters: matters of the unit, plus joint matters whose team names it (a unit without
  matters gets NotApplicable for every metric);
- planned cells: each of those matters × each period of the year (by the matter's period kind)
  that has started by as_of;
- current draw of (matter, period): the latest draw made on or before as_of; current tasks: the
  tasks of current draws;
- a task's team: the latest assignment made by as_of that holds the task, substitutes applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspect_kit.score.inputs import MetricInput
    from inspect_kit.score.policy import ScorePolicy
    from inspect_kit.score.records import MatterSpec, Snapshot

# A metric's computation: (records as of the day, the unit's matters, policy) → its input.
Compute = Callable[["Snapshot", "list[MatterSpec]", "ScorePolicy"], "MetricInput"]

# key → (中文名, definition as implemented); key → the function that computes it. Both are filled
# by the `metric` decorator on each function in inspect_kit.score.metric_values: a new metric is one
# decorated function there (tests/test_score_service.py checks that every metric computes).
METRICS: dict[str, tuple[str, str]] = {}
COMPUTE: dict[str, Compute] = {}


def metric(key: str, name: str, definition: str) -> Callable[[Compute], Compute]:
    """Register a metric: its key, Chinese name, definition and the function computing it."""

    def register(fn: Compute) -> Compute:
        if key in METRICS:
            raise ValueError(f"metric {key!r} is registered twice")
        METRICS[key] = (name, definition)
        COMPUTE[key] = fn
        return fn

    return register


from inspect_kit.score import metric_values as _metric_values  # noqa: E402,F401  (registers every metric)

KNOWN_METRICS = METRICS.keys()  # a live view: complete however the two modules are first imported
