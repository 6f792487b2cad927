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

How an item result is written (a template cell, ``inspect findings add --item CODE=TEXT``, the web
form): ``RESULT[：NOTE][：CATEGORY]`` — the result first (符合 / 不符合 / 不涉及, or an alias),
then an optional note, then, for a 不符合 item, its problem category (code such as R05, or label);
":" and "：" both separate. Examples: ``符合``, ``不涉及：无危险废物产生``,
``不符合：台账缺2026年1-2月记录：R05``, ``不符合：R05``. The note may itself contain colons: the
category is the last part, and only when it names a result category (a last part that looks like a
code, e.g. R99, but is none, is refused). In a finding row the results sit under the keys
``item:CODE`` (``item_key``); a blank value means "not recorded".

Stored with the finding (``findings.item_results``, migration 0006) as a list of
{"code", "result", "category", "note"} in checklist order, or NULL (``stored_items`` /
``items_of``); the write path (inspect_kit.findings.write) checks them with ``check_item_results``
against the checklist of the task's matter as loaded (the ``matters`` table's spec).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_kit.errors import Problem
from inspect_kit.findings.codes import Codebook
from inspect_kit.text import clean_cell

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


ITEM_PREFIX = "item:"
_SEP = re.compile(r"[:：]")
_CODE_LIKE = re.compile(r"^[A-Za-z]{1,3}\d{1,3}$")
MAX_NOTE = 500


def item_key(code: str) -> str:
    """The row key of checklist item ``code`` (``item:01``)."""
    return f"{ITEM_PREFIX}{code}"


def item_code(key: str) -> str | None:
    """The item code of a row key ``item:CODE``, else None."""
    return key[len(ITEM_PREFIX) :] if key.startswith(ITEM_PREFIX) else None


def parse_item_text(code: str, text: str, codebook: Codebook) -> ItemResult:
    """One item's ``RESULT[：NOTE][：CATEGORY]`` (see the module docstring); ValueError says why."""
    head, rest = _split_first(text)
    result = parse_item_result(head)
    note, category = rest, None
    if rest:
        parts = _SEP.split(rest)
        last = parts[-1].strip()
        found = codebook.categories.get(last) if last else None
        if found is not None:
            category = found.code
            note = rest[: len(rest) - len(parts[-1]) - 1].strip() if len(parts) > 1 else ""
        elif len(parts) > 1 and _CODE_LIKE.match(last):
            known = ", ".join(c.code for c in codebook.categories if c.problem)
            raise ValueError(f"unknown problem category {last!r}; use one of {known} (code or label)")
    if len(note) > MAX_NOTE:
        raise ValueError(f"the note is longer than {MAX_NOTE} characters")
    return ItemResult(code, result, category, note or None)


def _split_first(text: str) -> tuple[str, str]:
    parts = _SEP.split(str(text).strip(), maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


def item_text(item: ItemResult, codebook: Codebook) -> str:
    """The text ``parse_item_text`` reads back to ``item`` (the category as its label)."""
    parts = [item.result]
    if item.note:
        parts.append(item.note)
    if item.category:
        category = codebook.categories.get(item.category)
        parts.append(category.label if category is not None else item.category)
    return "：".join(parts)


def form_item_text(result: str, note: str = "", category: str = "") -> str:
    """One item's text from a form's separate fields (result, note, problem category): the text
    ``parse_item_text`` reads; "" (not recorded) without a result."""
    result = result.strip()
    if not result:
        return ""
    return "：".join(p for p in (result, note.strip(), category.strip()) if p)


def items_from_row(row: Mapping[str, Any], codebook: Codebook) -> tuple[list[ItemResult], list[tuple[str, str]]]:
    """The item results of a finding row (keys ``item:CODE``; blank values are not recorded), and
    (row key, reason) for each value that cannot be read."""
    items: list[ItemResult] = []
    bad: list[tuple[str, str]] = []
    for key, value in row.items():
        code = item_code(key)
        text = clean_cell(value)
        if code is None or not text:
            continue
        try:
            items.append(parse_item_text(code, text, codebook))
        except ValueError as exc:
            bad.append((key, str(exc)))
    return items, bad


def in_checklist_order(items: Iterable[ItemResult], checklist: Sequence[str]) -> list[ItemResult]:
    position = {c: i for i, c in enumerate(checklist)}
    return sorted(items, key=lambda i: (position.get(i.code, len(position)), i.code))


def stored_items(items: Sequence[ItemResult]) -> list[dict[str, str | None]] | None:
    """The stored form (``findings.item_results``): a list of dicts, or None for no items."""
    if not items:
        return None
    return [{"code": i.code, "result": i.result, "category": i.category, "note": i.note} for i in items]


def items_of(stored: Sequence[Mapping[str, Any]] | None) -> tuple[ItemResult, ...]:
    """Item results from their stored form (None: none)."""
    return tuple(
        ItemResult(str(d["code"]), str(d["result"]), d.get("category") or None, d.get("note") or None)
        for d in stored or ()
    )


def items_to_row(stored: Sequence[Mapping[str, Any]] | None, codebook: Codebook) -> dict[str, str]:
    """Stored item results as row values (``item:CODE`` → text)."""
    return {item_key(i.code): item_text(i, codebook) for i in items_of(stored)}


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
