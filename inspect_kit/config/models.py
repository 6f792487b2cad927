"""The configuration schema: settings, units (被考评单位 / departments) and the matters list (一单).

Every number the rules of a province may change lives here, never in code. Validated with
pydantic; `inspect_kit.config.load` turns errors into messages naming the file and the key.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Period = Literal["quarter", "month", "year"]
Rounding = Literal["ceil", "floor", "round"]
Coverage = Literal["independent", "annual"]
StratumField = Literal["category", "credit_class", "township", "industry", "department"]


def check_quota(value: str | int | float) -> str:
    """The quota as written, if the draw's own parser reads it (one syntax, one parser)."""
    from inspect_kit.draw.core.quota import Quota

    Quota.parse(value)  # ValueError with the reason
    return str(value).strip()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountySettings(Strict):
    name: str
    division_code: str | None = None


class RegistrySettings(Strict):
    id_scheme: Literal["uscc", "other"] = "uscc"
    other_id_pattern: str = r"^[0-9A-Z][0-9A-Z\-]{3,31}$"
    categories: list[str] = Field(min_length=1)

    @field_validator("other_id_pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


class DrawSettings(Strict):
    min_seed_length: int = Field(20, ge=1)
    # On PostgreSQL, frames of at least this many rows are drawn inside the database (tickets,
    # frame hash and tasks computed by the server; inspect_kit.draw.store.indb); None: always on the client.
    in_database_min_rows: int | None = Field(200_000, ge=0)


class ConflictRules(Strict):
    """Configurable 回避 rules beyond declared conflicts (which always apply)."""

    same_township: bool = False  # officer's home township = entity's township
    previous_periods: int = Field(0, ge=0)  # officer inspected this entity in the last N periods
    repeat_pair: bool = False  # two officers who were a team last period are not paired again


class AssignSettings(Strict):
    pair_cap: float = Field(0.5, gt=0, le=1)  # the most probability any officer–task pair may get
    conflicts: ConflictRules = ConflictRules()


class FindingsSettings(Strict):
    publicity_working_days: int = Field(20, ge=1)
    extra_holidays: list[str] = []
    extra_workdays: list[str] = []
    # Result categories and follow-ups (后续处置): `categories` / `follow_ups` replace the standard
    # lists, `extra_categories` / `extra_follow_ups` add to them (see inspect_kit.findings.codes).
    codes: dict[str, Any] | None = None
    # Results review (inspect_kit.findings.review): "required" publishes only approved results
    # (the others print as 待录入); "off" publishes every recorded result.
    review: Literal["required", "off"] = "off"


class PublishSettings(Strict):
    # Papers of a lawful inspection (inspect_kit.paper): the base of the public verification pages
    # that the QR code of a 检查通知书 links to, and the file holding the secret that verification
    # codes are derived from (relative to the config folder; never commit a real one).
    public_base_url: str | None = Field(None, pattern=r"^https?://[^\s?#]+$")
    verification_secret_file: str | None = None
    title_font: str | None = None  # path to a TrueType file, e.g. 方正小标宋
    body_font: str | None = None  # e.g. 仿宋_GB2312
    heading_font: str | None = None  # first-level headings and table headers, e.g. 黑体
    fallback_font: str | None = None


class BurdenSettings(Strict):
    """Yearly caps on inspections of one entity across matters and departments (频次上限).

    The effective cap of an entity is the smallest of `total`, its category's and its credit
    class's; `per_level` caps the inspections by units of one level (a unit's level from
    `levels`, default `default_level`). Matters in `outside_cap` (complaints, special campaigns)
    are neither capped nor counted. `near`: how close to the cap counts as near it."""

    total: int | None = Field(None, ge=1)
    per_level: dict[str, int] = {}
    per_category: dict[str, int] = {}
    per_credit_class: dict[str, int] = {}
    levels: dict[str, str] = {}
    default_level: str = "县级"
    outside_cap: list[str] = []
    near: int = Field(1, ge=0)


class CoordinationGroup(Strict):
    mode: Literal["positive", "negative"]
    matters: list[str] = Field(min_length=2)


class CoordinationYear(Strict):
    """Coordinated draws of one year (see inspect_kit.draw.core.coordination)."""

    seed: str = Field(min_length=8)
    # "per-meeting": numbers from the yearly seed AND each draw's public seed (rule 2, unpredictable);
    # "yearly": permanent for the year (rule 1), known to anyone once the seed is published.
    numbers: Literal["per-meeting", "yearly"] = "per-meeting"
    groups: dict[str, CoordinationGroup] = Field(min_length=1)


class JointSettings(Strict):
    """Merged visits (综合查一次): the lead unit (组长单位) is the first unit of `lead_order` among
    the visit's units, else the unit with the most tasks in it (ties: unit code order)."""

    lead_order: list[str] = []


class Settings(Strict):
    county: CountySettings
    registry: RegistrySettings
    draw: DrawSettings = DrawSettings()
    assign: AssignSettings = AssignSettings()
    findings: FindingsSettings = FindingsSettings()
    publish: PublishSettings = PublishSettings()
    burden: BurdenSettings | None = None
    coordination: dict[str, CoordinationYear] = {}  # year ("2026") → its plan
    joint: JointSettings = JointSettings()


class Unit(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    name: str
    kind: Literal["department", "township"]
    parent: str | None = None
    division_code: str | None = None
    issuer: str | None = None  # the name printed as 检查实施机关 / issuing authority


class ChecklistItem(Strict):
    """One line of a matter's checklist (检查表 / 检查内容): what is checked, on which legal basis, how."""

    code: str = Field(pattern=r"^[A-Za-z0-9_\-.]+$")
    content: str = Field(min_length=1)
    basis: str = ""  # the provision the item checks, e.g. 《排污许可管理条例》第三十四条
    method: str = ""  # how: 查阅资料, 现场查看, 询问 ...

    @field_validator("content")
    @classmethod
    def _content(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("content is empty")
        return v.strip()


def check_checklist(items: list[ChecklistItem]) -> list[ChecklistItem]:
    codes = [i.code for i in items]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValueError(f"checklist item code {twice[0]!r} is used more than once")
    return items


class ChecklistFile(Strict):
    """A checklist kept in its own TOML file (``checklist_file``): ``[[item]]`` tables."""

    item: list[ChecklistItem] = Field(min_length=1)

    @field_validator("item")
    @classmethod
    def _unique(cls, v: list[ChecklistItem]) -> list[ChecklistItem]:
        return check_checklist(v)


class Matter(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    name: str
    unit: str
    legal_basis: str
    categories: list[str] = Field(min_length=1)
    method: str = "现场检查"
    period: Period = "quarter"
    strata: list[StratumField] = ["category"]
    quota: str
    stratum_quota: dict[str, str] = {}
    rounding: Rounding = "ceil"
    coverage: Coverage = "independent"
    exclude_clean_within_months: int = Field(0, ge=0)  # 0: no exclusion
    team_size: int = Field(2, ge=2)
    team: dict[str, int] = {}  # joint matters: department unit code → officers from it
    qualification: list[str] = Field(min_length=1)  # an officer needs one of these (or the matter code)
    max_tasks_per_inspector: int | None = Field(None, ge=1)
    pair_cap: float | None = Field(None, gt=0, le=1)
    conflicts: ConflictRules | None = None
    # Matters with the same ticket_group draw with the same per-draw seed and so share tickets
    # (overlapping samples, on purpose); by default every matter is its own group.
    ticket_group: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]+$")
    # Field work (inspect_kit.paper): the checklist, inline or in a TOML file beside the config
    # (inspect_kit.config.load reads the file into `checklist`), and the materials the entity is
    # told once (一次告知) to prepare.
    checklist: list[ChecklistItem] = []
    checklist_file: str | None = None
    materials: list[str] = []

    @field_validator("checklist")
    @classmethod
    def _checklist(cls, v: list[ChecklistItem]) -> list[ChecklistItem]:
        return check_checklist(v)

    @field_validator("materials")
    @classmethod
    def _materials(cls, v: list[str]) -> list[str]:
        if any(not m.strip() for m in v):
            raise ValueError("materials: an entry is empty")
        return [m.strip() for m in v]

    @property
    def seed_group(self) -> str:
        return self.ticket_group or self.code

    @field_validator("quota", mode="before")
    @classmethod
    def _quota(cls, v: object) -> str:
        return check_quota(v)  # type: ignore[arg-type]

    @field_validator("qualification", mode="before")
    @classmethod
    def _qualification(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("stratum_quota", mode="before")
    @classmethod
    def _stratum_quota(cls, v: object) -> object:
        if isinstance(v, dict):
            return {str(k): check_quota(q) for k, q in v.items()}
        return v

    @model_validator(mode="after")
    def _team(self) -> "Matter":
        if self.team:
            if any(n < 1 for n in self.team.values()):
                raise ValueError("team: every department provides at least 1 officer")
            if sum(self.team.values()) < 2:
                raise ValueError("team: at least 2 enforcement officers in all")
        return self

    def team_demand(self) -> dict[str, int]:
        """Officers needed from each department for one task."""
        return dict(self.team) if self.team else {self.unit: self.team_size}

    def quota_for(self, stratum: str) -> str:
        """The quota of a stratum: an exact label match, else a match on one part, else the default."""
        if stratum in self.stratum_quota:
            return self.stratum_quota[stratum]
        for part in stratum.split("/"):
            if part in self.stratum_quota:
                return self.stratum_quota[part]
        return self.quota


class UnitsFile(Strict):
    unit: list[Unit] = Field(min_length=1)


class MattersFile(Strict):
    matter: list[Matter] = Field(min_length=1)
