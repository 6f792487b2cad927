"""A finding's stored form and its conversions (pure): validated input → stored values, stored values
→ a row to re-validate, a source row merged over the stored one, and the changes between two.

Stored form: categories and follow-ups as codes in code-list order; empty texts as NULL; the
rectification status as declared (open | closed | overdue, or NULL); item results as a list in
checklist order, or NULL (inspect_kit.findings.items). A row carries item results under the keys
``item:CODE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook, CodeList
from inspect_kit.findings.items import items_to_row, stored_items
from inspect_kit.findings.template import STATUS_LABELS
from inspect_kit.findings.validate import FindingInput
from inspect_kit.text import clean_cell

# The stored fields of a finding, in display order; revisions name these.
FIELDS: tuple[str, ...] = (
    "inspection_start",
    "inspection_end",
    "results",
    "problems",
    "follow_ups",
    "rectification_deadline",
    "rectification_status",
    "recheck_date",
    "recheck_outcome",
    "case_no",
    "recorded_by",
    "notes",
    "item_results",
)


def jsonable(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    return v


def ordered(codes: Iterable[str], code_list: CodeList[Any]) -> list[str]:
    """Codes in code-list order (unknown codes, from an older code list, last as given)."""
    position = {item.code: i for i, item in enumerate(code_list)}
    return sorted(dict.fromkeys(codes), key=lambda c: position.get(c, len(position)))


def stored_form(fi: FindingInput, codebook: Codebook) -> dict[str, Any]:
    return {
        "inspection_start": fi.inspection_start,
        "inspection_end": fi.inspection_end,
        "results": ordered(fi.results, codebook.categories),
        "problems": fi.problems or None,
        "follow_ups": ordered(fi.follow_ups, codebook.follow_ups),
        "rectification_deadline": fi.rectification_deadline,
        "rectification_status": fi.rectification_status,
        "recheck_date": fi.recheck_date,
        "recheck_outcome": fi.recheck_outcome or None,
        "case_no": fi.case_no or None,
        "recorded_by": fi.recorded_by,
        "notes": fi.notes or None,
        "item_results": stored_items(fi.items),
    }


def labels(codes: Iterable[str], code_list: CodeList[Any]) -> list[str]:
    return [item.label if (item := code_list.get(c)) is not None else c for c in codes]


def stored_to_row(stored: Mapping[str, Any], codebook: Codebook = DEFAULT_CODEBOOK) -> dict[str, Any]:
    """A stored finding as a row of validate's keys (labels, Chinese status), ready to re-validate."""
    status: str = stored.get("rectification_status") or ""
    return {
        "inspection_start": stored["inspection_start"],
        "inspection_end": stored["inspection_end"],
        "results": "；".join(labels(stored["results"], codebook.categories)),
        "problems": stored.get("problems") or "",
        "follow_up": "；".join(labels(stored["follow_ups"], codebook.follow_ups)),
        "rectification_deadline": stored.get("rectification_deadline"),
        "rectification_status": STATUS_LABELS.get(status, status),
        "recheck_date": stored.get("recheck_date"),
        "recheck_outcome": stored.get("recheck_outcome") or "",
        "case_no": stored.get("case_no") or "",
        "recorded_by": stored.get("recorded_by") or "",
        "notes": stored.get("notes") or "",
        **items_to_row(stored.get("item_results"), codebook),
    }


def merge(base: Mapping[str, Any] | None, given: Mapping[str, Any], present: Iterable[str]) -> dict[str, Any]:
    """The stored row with the source's present fields laid over it."""
    present = set(present)
    out = dict(base or {})
    if "inspection_date" in present and clean_cell(given.get("inspection_date")):
        # A single date (or range) replaces the stored start and end.
        out.pop("inspection_start", None)
        out.pop("inspection_end", None)
    out.update({k: v for k, v in given.items() if k in present})
    return out


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] (JSON-ready) of the stored fields that differ."""
    return {k: [jsonable(old.get(k)), jsonable(new[k])] for k in FIELDS if jsonable(old.get(k)) != jsonable(new[k])}
