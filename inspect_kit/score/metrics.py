"""The metrics the integration layer computes per unit and hands to the scoring engine.

A rulebook may only name these keys (a typo is caught when the rulebook loads). Each metric is
passed as `MetricValue(value, numerator, denominator, records)`; `value` defaults to
numerator/denominator. Each record is one counted item; `ok=True` means it counts towards the
numerator, so `denominator - numerator` items have `ok=False` (a deduction with
`occurrences = "failures"` cites exactly those records).

When a metric has nothing to measure for a unit (denominator 0), pass `NotApplicable(reason)`:
the engine then drops the indicator and re-weights, instead of scoring 0/0. When the records a
metric needs are absent (not the unit's performance), pass `Missing(reason)`.

The definitions below are those `inspect_kit.score.metric_values` implements, as of a day
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

# key → (中文名, definition as implemented by the integration layer)
METRICS: dict[str, tuple[str, str]] = {
    "plan_completion": (
        "抽查计划完成率",
        "numerator: planned cells (matter × period) that have a current draw; denominator: planned cells "
        "(the unit's matters × the periods of the year that have started by as_of). "
        "Record per cell (ref 'matter/period'), ok = drawn; the note names the draw and its number of tasks. "
        "NotApplicable when no period has started.",
    ),
    "sample_adequacy": (
        "抽查比例达标率",
        "numerator: quota cells whose drawn count reached the planned n; denominator: quota cells, i.e. the "
        "strata entries recorded in the frame of each planned cell's current draw (drawn count = the draw's "
        "tasks in that stratum, inspected or not; planned n = the entry's n, the sample size the draw "
        "computed), plus one failed cell per planned cell without a draw. Record per cell (ref "
        "'matter/period/stratum', or 'matter/period' for a missing draw), ok = drawn count >= n. A draw "
        "whose frame records no strata is left out with a warning. NotApplicable when there are no cells.",
    ),
    "key_coverage": (
        "重点监管对象覆盖率",
        "Only the unit's annual-coverage matters (coverage = \"annual\") count. numerator: key entities "
        "drawn into a task of those matters' current draws of the year at least once (inspected or not; "
        "the note says when no result is recorded yet); denominator: key entities, i.e. the entities in "
        "the frozen frames of those draws (and any entity drawn by them). Record per key entity (ref = "
        "identifier), ok = drawn. NotApplicable when the unit has no annual-coverage matter; Missing when "
        "those matters have no draw in the year yet.",
    ),
    "publicity_on_time": (
        "抽查结果按时公示率",
        "numerator: counted tasks whose result was published by the publicity deadline; denominator: "
        "current tasks (periods of the year and the year before) with a finding whose inspection ended by "
        "as_of, whose deadline (the configured number of working days, 20 by default, after the inspection "
        "ended, per the working calendar) falls within the year, and which were either published by as_of "
        "or are past their deadline. Published = issue date of the first results notice issued by as_of "
        "that lists the task (not as pending). Record per task, ok = published on or before the deadline; "
        "the note says how late. NotApplicable when none is counted.",
    ),
    "rectification_on_time": (
        "整改按期复查率",
        "numerator: counted rectification orders (责令整改) re-checked (复查) on or before their deadline; "
        "denominator: findings of current tasks (periods of the year and the year before) with a "
        "rectification deadline (moved to the next working day when it falls on a holiday, unless "
        "configured otherwise) that falls within the year and either has passed by as_of or was followed by "
        "a re-check recorded by as_of. Record per task, ok = re-checked by the deadline; the note says how "
        "late. NotApplicable when none is counted.",
    ),
    "finding_recorded": (
        "检查结果录入率",
        "numerator: counted tasks whose finding has at least one result category and at least one "
        "follow-up, all in the code lists; denominator: current tasks of the year's periods whose "
        "inspection ended by as_of (per their finding), plus those without a finding whose period ended "
        "before as_of. Record per task, ok = recorded; the note says what is missing or unknown. "
        "NotApplicable when none is counted.",
    ),
    "team_compliance": (
        "检查组合规率",
        "numerator: compliant tasks; denominator: current tasks of the year's periods that have a team, "
        "plus those without a team whose finding says the inspection started by as_of (these fail). A team "
        "complies when each department of the matter's team demand (joint matters: their team; else "
        "team_size, 2 by default, from the unit) has that many officers (experts never count) holding a "
        "qualification for the matter and a certificate valid on the inspection start (else the assignment "
        "date); every member is in the inspector register; no member has a declared conflict with the "
        "entity; and no officer is caught by the conflict rules in force (same township, previous periods; "
        "the matter's own rules override settings.assign.conflicts). Record per task, ok = compliant; the "
        "note says what was wrong. Missing when tasks are counted but none has a team (no assignment "
        "records); NotApplicable when none is counted.",
    ),
}

KNOWN_METRICS = frozenset(METRICS)
