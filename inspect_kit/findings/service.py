"""Findings in the database: record them (every change kept as a revision), import a filled-in
spreadsheet, write the template, and read them back with their deadlines.

Library first: every function takes an Engine and plain values and returns dataclasses; the clock
is the caller's (`now` for timestamps, `as_of` for "today"), so the CLI is a thin wrapper and tests
are reproducible. The pure rules live next door (validate, codes, calendar, deadlines).

One write path. `add_finding` (one task, the CLI) and `import_findings` (a file) both go through
`write.check_rows` (steps 1–3) and `write.write_checked` (step 4), which for each row:
  1. merges the row into the task's existing finding — only the fields the source HAS replace the
     stored ones (an empty cell or `--notes ""` clears a field; a column the file lacks keeps it);
  2. validates the merged row with `validate.validate_row` (as_of given by the caller), and its
     results per checklist item (keys ``item:CODE``) against the checklist of the task's matter as
     loaded and the row's results (`items.check_item_results`: every item 符合 / 不符合 / 不涉及,
     a 不符合 item with a problem category among the results, none beside 未发现问题);
  3. checks it against the database: the task exists, belongs to the CURRENT draw of its matter and
     period (tasks of superseded draws are refused), the inspection did not start before the draw,
     the same task is not in two rows; a template row whose finding changed after the file was
     written (its hidden 版本号 is not the latest revision) and that differs from it is a conflict;
  4. writes nothing unless every row passed; then inserts or updates the findings and appends one
     `finding_revisions` row per finding that changed, holding only the changed fields as
     field → [old, new]. A row equal to the stored finding writes nothing (re-importing a file is a
     no-op). All in ONE transaction.

Several writers at once (optimistic concurrency). Every finding carries `revision`, the number of
its latest revision (see inspect_kit.storage.models.findings for the triggers that keep the row
and its history in step and refuse DELETE). A write of a finding read at revision N appends
revision N+1 (unique per finding) and updates `… WHERE revision = N`; a new finding is inserted at
revision 1 (task_id is unique). If another writer got there first — committed before, or still
in flight (PostgreSQL then makes this writer wait for it) — the unique key or the revision check
fails, the WHOLE transaction is rolled back and the user reads "task X was changed by someone else
since you read it (revision N → M); nothing was written". So exactly one of two concurrent writers
wins, and the history never records an old value that was not the stored one.

Stored form: categories and follow-ups as codes in code-list order; empty texts as NULL; the
rectification status as declared (open | closed | overdue, or NULL). Status as reported
(`FindingRecord.status`) is recomputed from the dates by `deadlines.rectification_status`.

Published: a task counts as published once a results notice lists it in `notices.task_ids`
(and not in that notice's `pending_task_ids`); the publish stage writes those.

This module is the facade: the work is done in modules that each hold one part, re-exported here
so that callers need not know where each function lives (as in inspect_kit.score.service):

- policy.py       FindingsPolicy (code lists, calendar, publicity days) from the config.
- model.py        the dataclasses returned (RowOutcome, FindingsImportSummary, FindingRecord, ...).
- stored.py       the stored form of a finding and its conversions (pure).
- records.py      database reads: tasks by number, stored findings, revisions, publication, teams.
- write.py        the one write path (check_rows, write_checked) and add / check / import.
- read.py         findings read back with their deadlines; the due list; the history.
- template_io.py  the prefilled template of a period.
"""

from __future__ import annotations

from inspect_kit.findings.model import (
    DueReport,
    DueRow,
    FindingRecord,
    FindingsImportSummary,
    Revision,
    RowOutcome,
    TaskResult,
    TemplateSummary,
)
from inspect_kit.findings.policy import DEFAULT_POLICY, FindingsPolicy, policy_from_config
from inspect_kit.findings.read import due, finding_history, get_finding, list_findings, task_results
from inspect_kit.findings.records import published_on
from inspect_kit.findings.stored import FIELDS, stored_to_row
from inspect_kit.findings.template_io import write_template
from inspect_kit.findings.write import add_finding, check_finding, finding_row, import_findings

__all__ = [
    "FIELDS",
    "DueReport",
    "DueRow",
    "FindingRecord",
    "FindingsPolicy",
    "FindingsImportSummary",
    "Revision",
    "RowOutcome",
    "TaskResult",
    "TemplateSummary",
    "add_finding",
    "check_finding",
    "due",
    "finding_history",
    "finding_row",
    "get_finding",
    "import_findings",
    "list_findings",
    "policy_from_config",
    "published_on",
    "task_results",
    "write_template",
    "DEFAULT_POLICY",
    "stored_to_row",
]
