"""Year-end scoring (考评): a pure engine over a declarative TOML rulebook.

    rulebook = load("configs/assessment.toml")          # or loads(stored_text)
    run = score(rulebook, [UnitInputs(...), ...])       # every unit at once
    for line in explain(run.unit("STHJ")): print(line)

No database, no clock, no eval: the rulebook names rule kinds and numbers, the integration layer
hands in metric values (see `metrics.METRICS` for their definitions), manual values with evidence
and judgement deductions with reasons.
"""

from inspect_kit.score.engine import score
from inspect_kit.score.explain import explain, explain_run
from inspect_kit.score.inputs import (
    JudgementEntry,
    ManualValue,
    MetricRecord,
    MetricValue,
    Missing,
    NotApplicable,
    UnitInputs,
    from_canonical,
    inputs_sha256,
    to_canonical,
)
from inspect_kit.score.metrics import KNOWN_METRICS, METRICS
from inspect_kit.score.results import CategoryResult, IndicatorResult, ScoredRecord, ScoringRun, UnitResult
from inspect_kit.score.rulebook import Rulebook, load, loads

__all__ = [
    "score",
    "explain",
    "explain_run",
    "load",
    "loads",
    "Rulebook",
    "UnitInputs",
    "MetricValue",
    "MetricRecord",
    "ManualValue",
    "NotApplicable",
    "Missing",
    "JudgementEntry",
    "to_canonical",
    "from_canonical",
    "inputs_sha256",
    "METRICS",
    "KNOWN_METRICS",
    "ScoringRun",
    "UnitResult",
    "CategoryResult",
    "IndicatorResult",
    "ScoredRecord",
]
