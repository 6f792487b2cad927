"""What the integration layer hands to the engine, per unit.

- `metrics`: metric key → MetricValue | NotApplicable | Missing (absent key = Missing).
- `manual`: indicator key → ManualValue | NotApplicable | Missing, for indicators without a metric.
- `judgements`: indicator key → JudgementEntry list, for judgement indicators (absent = no deduction).

Numbers may be int, Decimal, Fraction, numeric strings ("19/20", "0.95") or floats (taken by
their shortest repr). `to_canonical`/`from_canonical` turn a run's inputs into JSON-ready data
and back, and `inputs_sha256` fingerprints them, so a stored run can be re-scored exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

from inspect_kit.score.numbers import Number, to_fraction


@dataclass(frozen=True)
class MetricRecord:
    """One counted item behind a metric: a task, a notice, an order, a key entity."""

    ref: str  # what a person can look up: task number, notice number, USCC
    ok: bool  # True = counts towards the numerator
    note: str = ""


@dataclass(frozen=True)
class MetricValue:
    value: Number | None = None  # None: numerator / denominator
    numerator: int | None = None
    denominator: int | None = None
    records: tuple[MetricRecord, ...] = ()


@dataclass(frozen=True)
class ManualValue:
    value: Number | bool  # a count, a rate, or True/False for a veto condition
    evidence: str  # where the number comes from (document number, register page); required


@dataclass(frozen=True)
class NotApplicable:
    reason: str


@dataclass(frozen=True)
class Missing:
    reason: str = ""


@dataclass(frozen=True)
class JudgementEntry:
    points: Number  # points deducted, > 0
    reason: str  # required: why, in words a unit can contest


MetricInput = Union[MetricValue, NotApplicable, Missing]
ManualInput = Union[ManualValue, NotApplicable, Missing]


@dataclass(frozen=True)
class UnitInputs:
    code: str
    name: str
    kind: str  # unit kind as in units.toml: "department" | "township"
    metrics: Mapping[str, MetricInput] = field(default_factory=dict)
    manual: Mapping[str, ManualInput] = field(default_factory=dict)
    judgements: Mapping[str, Sequence[JudgementEntry]] = field(default_factory=dict)


def _number_text(value: object) -> str:
    f = to_fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _status(item: object) -> dict[str, Any]:
    if isinstance(item, NotApplicable):
        return {"status": "not_applicable", "reason": item.reason}
    if isinstance(item, Missing):
        return {"status": "missing", "reason": item.reason}
    raise TypeError(f"unexpected input {item!r}")


def _metric_data(item: MetricInput) -> dict[str, Any]:
    if not isinstance(item, MetricValue):
        return _status(item)
    return {
        "value": None if item.value is None else _number_text(item.value),
        "numerator": item.numerator,
        "denominator": item.denominator,
        "records": [{"ref": r.ref, "ok": r.ok, "note": r.note} for r in item.records],
    }


def _manual_data(item: ManualInput) -> dict[str, Any]:
    if not isinstance(item, ManualValue):
        return _status(item)
    return {"value": _number_text(item.value), "evidence": item.evidence}


def to_canonical(units: Sequence[UnitInputs]) -> list[dict[str, Any]]:
    """JSON-ready inputs; numbers as exact strings ("19/20"), sorted by unit code and key."""
    out = []
    for u in sorted(units, key=lambda u: u.code):
        out.append(
            {
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "metrics": {k: _metric_data(v) for k, v in sorted(u.metrics.items())},
                "manual": {k: _manual_data(v) for k, v in sorted(u.manual.items())},
                "judgements": {
                    k: [{"points": _number_text(e.points), "reason": e.reason} for e in v]
                    for k, v in sorted(u.judgements.items())
                },
            }
        )
    return out


def _status_from(data: Mapping[str, Any]) -> NotApplicable | Missing | None:
    status = data.get("status")
    if status == "not_applicable":
        return NotApplicable(data.get("reason", ""))
    if status == "missing":
        return Missing(data.get("reason", ""))
    return None


def from_canonical(data: Sequence[Mapping[str, Any]]) -> list[UnitInputs]:
    """The inverse of `to_canonical`."""
    units = []
    for u in data:
        metrics: dict[str, MetricInput] = {}
        for key, m in u.get("metrics", {}).items():
            metrics[key] = _status_from(m) or MetricValue(
                value=m.get("value"),
                numerator=m.get("numerator"),
                denominator=m.get("denominator"),
                records=tuple(MetricRecord(r["ref"], bool(r["ok"]), r.get("note", "")) for r in m.get("records", ())),
            )
        manual: dict[str, ManualInput] = {}
        for key, m in u.get("manual", {}).items():
            manual[key] = _status_from(m) or ManualValue(m["value"], m.get("evidence", ""))
        judgements = {
            k: [JudgementEntry(e["points"], e["reason"]) for e in v] for k, v in u.get("judgements", {}).items()
        }
        units.append(UnitInputs(u["code"], u["name"], u["kind"], metrics, manual, judgements))
    return units


def inputs_sha256(units: Sequence[UnitInputs]) -> str:
    blob = json.dumps(to_canonical(units), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
