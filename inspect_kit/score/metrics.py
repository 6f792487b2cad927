"""The metrics the integration layer computes per unit and hands to the scoring engine.

A rulebook may only name these keys (a typo is caught when the rulebook loads). Each metric is
passed as `MetricValue(value, numerator, denominator, records)`; `value` defaults to
numerator/denominator. Each record is one counted item; `ok=True` means it counts towards the
numerator, so `denominator - numerator` items have `ok=False` (a deduction with
`occurrences = "failures"` cites exactly those records).

When a metric has nothing to measure for a unit (denominator 0), pass `NotApplicable(reason)`:
the engine then drops the indicator and re-weights, instead of scoring 0/0.
"""

from __future__ import annotations

# key → (中文名, definition the integration layer must implement)
METRICS: dict[str, tuple[str, str]] = {
    "plan_completion": (
        "抽查计划完成率",
        "numerator: tasks of the unit's plan for the year whose inspection was completed; "
        "denominator: tasks the plan required for the year (sum of the quotas of every matter × period). "
        "Record per required task, ok = completed.",
    ),
    "sample_adequacy": (
        "抽查比例达标率",
        "numerator: quota cells (matter × period × stratum) whose number of entities drawn and inspected "
        "reached the quota after rounding; denominator: quota cells in the plan. "
        "Record per cell (ref 'matter/period/stratum'), ok = quota reached.",
    ),
    "key_coverage": (
        "重点监管对象覆盖率",
        "numerator: key entities (those the matters list requires to be covered every year) inspected "
        "at least once in the year; denominator: key entities in the frozen frames of the year. "
        "Record per key entity, ok = inspected. NotApplicable when the unit has no key entities.",
    ),
    "publicity_on_time": (
        "抽查结果按时公示率",
        "numerator: tasks whose result was published within the publicity deadline (20 working days "
        "after the inspection ended, per the holiday calendar); denominator: tasks whose inspection ended "
        "and whose deadline fell within the year. Record per task, ok = on time; note says how late.",
    ),
    "rectification_on_time": (
        "整改按期复查率",
        "numerator: rectification orders (责令整改) followed up (复查) by their deadline; denominator: "
        "orders whose deadline fell within the year. NotApplicable when no order was issued.",
    ),
    "finding_recorded": (
        "检查结果录入率",
        "numerator: tasks whose inspection ended with a finding recorded in a standard result category "
        "and a follow-up; denominator: tasks whose inspection ended. Record per task, ok = recorded.",
    ),
    "team_compliance": (
        "检查组合规率",
        "numerator: tasks whose team had at least 2 enforcement officers holding a valid certificate for "
        "the matter and no declared or rule-based conflict (回避); denominator: tasks assigned. "
        "Record per task, ok = compliant; note says what was wrong.",
    ),
}

KNOWN_METRICS = frozenset(METRICS)
