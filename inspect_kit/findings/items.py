"""Results per checklist item (一表通查): the rules, and the summary per item. Pure.

A finding may record, for each item of its matter's checklist (``Matter.checklist``), one of
符合 / 不符合 / 不涉及 with a note. The rules (``check_item_results``):

- every item code must be one of the checklist's, none twice; once any item is recorded, every
  item of the checklist is;
- a 不符合 item needs a problem category (a result category with ``problem``, e.g. R05
  发现问题已责令改正) that is also among the finding's results;
- 符合 and 不涉及 items carry no category;
- a finding whose results say 未发现问题 (a category that ``excludes_problems``) may not have a
  不符合 item.

``item_summary`` counts, over many findings, how many entities were checked on each item and how
many failed it (for the results notice and scoring).

Status: the rules and the summary only. Storing item results with a finding (a schema change),
the template's columns, ``findings add`` and the results notice's summary are not wired yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from inspect_kit.errors import Problem
from inspect_kit.findings.codes import Codebook

PASS, FAIL, NOT_APPLICABLE = "符合", "不符合", "不涉及"
ITEM_RESULTS = (PASS, FAIL, NOT_APPLICABLE)
_ALIASES = {
    "符合": PASS,
    "合格": PASS,
    "pass": PASS,
    "不符合": FAIL,
    "不合格": FAIL,
    "fail": FAIL,
    "不涉及": NOT_APPLICABLE,
    "n/a": NOT_APPLICABLE,
    "na": NOT_APPLICABLE,
}


@dataclass(frozen=True)
class ItemResult:
    code: str  # the checklist item's code
    result: str  # 符合 | 不符合 | 不涉及
    category: str | None = None  # the problem category of a 不符合 item (result code, e.g. R05)
    note: str | None = None


def parse_item_result(text: str) -> str:
    """符合 / 不符合 / 不涉及 (also 合格, 不合格, pass, fail, n/a); ValueError naming the choices."""
    key = "".join(str(text).split()).lower()
    if key not in _ALIASES:
        raise ValueError(f"{text!r} is not an item result; use {' / '.join(ITEM_RESULTS)}")
    return _ALIASES[key]


def check_item_results(
    checklist: Sequence[str], items: Sequence[ItemResult], results: Sequence[str], codebook: Codebook, where: str = ""
) -> list[Problem]:
    """Every rule broken by ``items`` (results per item of the ``checklist`` codes) beside the
    finding's result category codes ``results``. Empty: all is well (no items is allowed)."""
    problems: list[Problem] = []

    def bad(reason: str, key: str) -> None:
        problems.append(Problem(reason, file=where or None, key=key))

    known = set(checklist)
    seen: set[str] = set()
    for item in items:
        key = f"item {item.code}"
        if item.code not in known:
            bad(f"no item {item.code!r} in the matter's checklist ({', '.join(checklist)})", key)
        if item.code in seen:
            bad(f"item {item.code!r} is recorded twice", key)
        seen.add(item.code)
        if item.result not in ITEM_RESULTS:
            bad(f"{item.result!r} is not an item result; use {' / '.join(ITEM_RESULTS)}", key)
        elif item.result == FAIL:
            category = codebook.categories.get(item.category) if item.category else None
            if category is None:
                bad(f"a {FAIL} item needs a problem category (a result category that counts as a problem)", key)
            elif not category.problem:
                bad(f"{category.label} is not a problem category; a {FAIL} item needs one", key)
            elif category.code not in results:
                bad(f"its category {category.label} is not among the finding's results", key)
        elif item.category:
            bad(f"a {item.result} item carries no problem category", key)
    if items:
        missing = [c for c in checklist if c not in seen]
        if missing:
            bad(f"no result for item(s) {', '.join(missing)}: record every item of the checklist", "items")
    failed = [i.code for i in items if i.result == FAIL]
    clean = [
        codebook.categories[c].label
        for c in results
        if codebook.categories.get(c) is not None and codebook.categories[c].excludes_problems
    ]
    if failed and clean:
        bad(f"{clean[0]} contradicts the {FAIL} item(s) {', '.join(failed)}", "results")
    return problems


@dataclass(frozen=True)
class ItemCount:
    code: str
    checked: int  # findings that recorded the item as 符合 or 不符合
    failed: int
    not_applicable: int


def item_summary(checklist: Sequence[str], findings: Iterable[Mapping[str, ItemResult]]) -> list[ItemCount]:
    """Per checklist item: how many findings checked it, failed it, found it not applicable."""
    counts = {c: [0, 0, 0] for c in checklist}
    for items in findings:
        for code, item in items.items():
            if code not in counts:
                continue
            c = counts[code]
            if item.result == NOT_APPLICABLE:
                c[2] += 1
            else:
                c[0] += 1
                c[1] += item.result == FAIL
    return [ItemCount(code, *counts[code]) for code in checklist]
