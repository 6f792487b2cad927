"""The API's request and response models (pydantic): what /openapi.json describes.

Built from the library's dataclasses by the small converters below; no rule lives here beyond the
shape of the JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from inspect_kit.draw.service import DrawInfo, TaskInfo

# The finding's fields, as `inspect findings add` takes them (validate's row keys).
FINDING_FIELDS: tuple[str, ...] = (
    "task_no",
    "inspection_date",
    "inspection_start",
    "inspection_end",
    "results",
    "problems",
    "follow_up",
    "rectification_deadline",
    "rectification_status",
    "recheck_date",
    "recheck_outcome",
    "case_no",
    "notes",
    "recorded_by",
)


class Me(BaseModel):
    name: str
    role: str
    role_label: str
    unit_code: str | None
    cert_no: str | None
    via: str  # session | token


class DrawOut(BaseModel):
    id: int
    matter: str
    period: str
    drawn_at: dt.datetime
    seed: str
    seed_source: str
    n_selected: int
    frame_sha256: str
    redraw_of: int | None
    reason: str | None
    sealed: bool
    unsealed: bool
    strata: list[dict[str, Any]]


class DrawDetail(DrawOut):
    bundle_url: str


def draw_out(d: DrawInfo) -> DrawOut:
    return DrawOut.model_validate(d, from_attributes=True)


class TaskOut(BaseModel):
    task_no: str
    matter: str
    period: str
    draw_id: int
    identifier: str
    entity_name: str
    category: str
    township: str | None
    stratum: str
    rank: int


def task_out(t: TaskInfo) -> TaskOut:
    return TaskOut(
        task_no=t.task_no,
        matter=t.matter_code,
        period=t.period,
        draw_id=t.draw_id,
        identifier=t.identifier,
        entity_name=t.entity_name,
        category=t.category,
        township=t.township,
        stratum=t.stratum,
        rank=t.rank,
    )


class TeamMemberOut(BaseModel):
    cert_no: str
    name: str
    role: str


class TaskDetail(TaskOut):
    team: list[TeamMemberOut] | None  # None: the caller may not see teams (outside the unit)
    finding: dict[str, Any] | None  # the stored finding as validate's row keys, or None


class ItemIn(BaseModel):
    """One checklist item's result (检查表): 符合 / 不符合 / 不涉及, a note, and for 不符合 the
    problem category (code or label)."""

    model_config = ConfigDict(extra="forbid")

    result: str
    note: str = ""
    category: str = ""


class FindingIn(BaseModel):
    """The fields to record or change (only those given change; "" clears one). Dates as
    2026-03-05 (or a range 2026-03-05至2026-03-07 in inspection_date); results and follow_up as
    codes or labels, a list or one string split by ；. ``items``: checklist item code → its
    result, checked as `inspect findings add --item CODE=...` checks it (once one item is given,
    every item of the matter's checklist must be)."""

    model_config = ConfigDict(extra="forbid")

    inspection_date: str | None = None
    inspection_start: str | None = None
    inspection_end: str | None = None
    results: list[str] | str | None = None
    problems: str | None = None
    follow_up: list[str] | str | None = None
    rectification_deadline: str | None = None
    rectification_status: str | None = None
    recheck_date: str | None = None
    recheck_outcome: str | None = None
    case_no: str | None = None
    notes: str | None = None
    recorded_by: str | None = None
    items: dict[str, ItemIn] | None = None

    def values(self) -> dict[str, Any]:
        """The fields given, as `findings.service.add_finding` takes them (items as ``item:CODE``)."""
        from inspect_kit.findings.items import form_item_text, item_key

        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_unset=True, exclude={"items"}).items():
            if value is None:
                continue
            out[key] = "；".join(value) if isinstance(value, list) else value
        for code, item in (self.items or {}).items():
            out[item_key(code)] = form_item_text(item.result, item.note, item.category)
        return out


class FindingOut(BaseModel):
    task_no: str
    action: str  # added | updated | unchanged
    changes: dict[str, list[Any]]  # field → [old, new]


class FieldProblem(BaseModel):
    field: str | None
    reason: str


class Problems(BaseModel):
    detail: list[FieldProblem]


class RankingRow(BaseModel):
    group: str
    rank: int
    code: str
    name: str
    kind: str
    total: str
    grade: str
    score_grade: str
    flags: list[str]


class RulebookOut(BaseModel):
    name: str
    version: str
    sha256: str


class ScoreOut(BaseModel):
    run_id: int
    year: int
    as_of: dt.date
    created_at: dt.datetime
    rulebook: RulebookOut
    inputs_sha256: str
    warnings: list[str]
    ranking: list[RankingRow]
