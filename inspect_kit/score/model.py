"""The rulebook schema (考评细则), validated with pydantic v2.

Only the shape of each table is checked here; rules that span tables (a category exists, the
points add up, a rule kind fits its category) live in `checks.py`, which can name exact key paths.
Numbers are `Decimal` (the TOML is parsed with parse_float=Decimal) so 0.95 stays 0.95.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

RULE_KINDS = ("linear", "tiers", "deduction", "bonus", "judgement", "veto")
CATEGORY_KINDS = ("base", "bonus", "penalty", "veto")


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _plain_text(value: Decimal) -> str:
    # Canonical form for the model hash: 0.950, 0.95 and 9.5E-1 all become "0.95".
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


Num = Annotated[Decimal, AfterValidator(_finite), PlainSerializer(_plain_text, return_type=str, when_used="json")]
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+$")]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(Strict):
    name: Text
    version: Text
    full_marks: Num = Field(Decimal(100), gt=0)  # 满分 of the base categories


class Scoring(Strict):
    # How "not applicable" indicators are re-weighted; see engine docs for the formulas.
    reweight: Literal["total", "category"] = "total"
    # Units compared with each other (frontier bounds, ranks, top-grade cap): all, or per unit kind.
    compare_within: Literal["all", "kind"] = "all"


class Band(Strict):
    grade: Text
    min: Num


class TopGradeCap(Strict):
    """At most `count` units, or `fraction` of the units compared, may get the top grade."""

    count: int | None = Field(None, ge=0)
    fraction: Num | None = Field(None, ge=0, le=1)
    rounding: Literal["floor", "ceil", "half_up"] = "floor"
    ties: Literal["drop_all", "keep_all"] = "drop_all"

    @model_validator(mode="after")
    def _one_limit(self) -> TopGradeCap:
        if (self.count is None) == (self.fraction is None):
            raise ValueError("give exactly one of 'count' or 'fraction'")
        return self


DEFAULT_BANDS = (
    Band(grade="优秀", min=Decimal(90)),
    Band(grade="良好", min=Decimal(80)),
    Band(grade="合格", min=Decimal(60)),
    Band(grade="不合格", min=Decimal(0)),
)


class Grades(Strict):
    bands: list[Band] = Field(default_factory=lambda: list(DEFAULT_BANDS))
    top_cap: TopGradeCap | None = None

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band]) -> list[Band]:
        if len(bands) < 2:
            raise ValueError("give at least two grade bands")
        if any(a.min <= b.min for a, b in zip(bands, bands[1:])):
            raise ValueError("bands must be listed from the highest 'min' to the lowest, each lower than the last")
        names = [b.grade for b in bands]
        if len(set(names)) != len(names):
            raise ValueError("grade names must be unique")
        return bands


class Category(Strict):
    key: Key
    name: Text
    kind: Literal["base", "bonus", "penalty", "veto"] = "base"
    max: Num = Field(Decimal(0), ge=0)


class Anchor(Strict):
    at: Num
    points: Num


class LinearRule(Strict):
    kind: Literal["linear"]
    thresholds: list[Anchor] = Field(min_length=2)

    @field_validator("thresholds")
    @classmethod
    def _increasing(cls, anchors: list[Anchor]) -> list[Anchor]:
        if any(a.at >= b.at for a, b in zip(anchors, anchors[1:])):
            raise ValueError("'at' values must be strictly increasing")
        return anchors


class Tier(Strict):
    min: Num
    points: Num


class TiersRule(Strict):
    kind: Literal["tiers"]
    tiers: list[Tier] = Field(min_length=1)
    otherwise: Num = Decimal(0)  # points when the value is below every tier

    @field_validator("tiers")
    @classmethod
    def _distinct(cls, tiers: list[Tier]) -> list[Tier]:
        mins = [t.min for t in tiers]
        if len(set(mins)) != len(mins):
            raise ValueError("each tier needs a different 'min'")
        return tiers


Occurrences = Literal["value", "numerator", "failures"]


class DeductionRule(Strict):
    kind: Literal["deduction"]
    per_occurrence: Num = Field(gt=0)
    occurrences: Occurrences = "value"
    floor: Num = Decimal(0)  # 扣完为止: the points never go below this (base categories)


class BonusRule(Strict):
    kind: Literal["bonus"]
    per_occurrence: Num = Field(gt=0)
    occurrences: Occurrences = "value"


class JudgementRule(Strict):
    kind: Literal["judgement"]


class VetoRule(Strict):
    kind: Literal["veto"]
    trigger_at: Num = Decimal(1)  # value >= trigger_at triggers the veto
    effect: Literal["force_grade", "bar_top_grade"]
    grade: str | None = None  # for force_grade: the grade the unit gets at best


Rule = Annotated[
    Union[LinearRule, TiersRule, DeductionRule, BonusRule, JudgementRule, VetoRule],
    Field(discriminator="kind"),
]


class Frontier(Strict):
    """Distance to frontier: 100·(worst − y)/(worst − best), clipped to 0–100.

    Leave `best` / `worst` out to take them from the values observed across the compared units.
    """

    method: Literal["frontier"] = "frontier"
    best: Num | None = None
    worst: Num | None = None
    higher_is_better: bool = True


class Indicator(Strict):
    key: Key
    name: Text
    category: str
    max: Num = Field(Decimal(0), ge=0)
    metric: str | None = None  # computed from records; absent = entered by hand (or judgement)
    rule: Rule
    on_missing: Literal["zero", "full", "not_applicable"] = "zero"
    applies_to: list[Text] | None = None  # unit kinds and/or unit codes; others get "not applicable"
    normalise: Frontier | None = None
    display: Literal["number", "percent"] = "number"
    criteria: str | None = None  # the bureau's own wording of the standard, shown in explanations


class RulebookModel(Strict):
    rulebook: Meta
    scoring: Scoring = Scoring()
    grades: Grades = Grades()
    category: list[Category] = Field(min_length=1)
    indicator: list[Indicator] = Field(min_length=1)
