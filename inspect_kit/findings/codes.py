"""Result categories (检查结果) and follow-up actions (后续处置): configurable code lists.

The defaults are the standard 市场监管 lists (README, "Findings"), in their published order, with stable short
codes (R01..R10, F01..F06) that the database stores; labels are what people type and what notices
print. A department replaces or extends the lists from settings with `Codebook.from_dict`.

Lookup accepts a code (case-insensitive) or the exact label; both sides are compared after removing
blanks and turning full-width forms into ASCII, so "通过登记的住所（经营场所）无法联系" typed with
half-width brackets still matches. A cell may hold several entries; `CodeList.split` separates them
on ；; , ， 、 and newlines but first tries to re-join neighbours, because a label may itself contain a
separator ("公示信息隐瞒真实情况、弄虚作假").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from inspect_kit.errors import Problem, ValidationFailed
from inspect_kit.text import clean_cell, to_halfwidth


@dataclass(frozen=True)
class ResultCategory:
    code: str
    label: str
    problem: bool  # counts as "problems found" (发现问题) in statistics and scoring
    requires_follow_up: str | None = None  # follow-up code the category itself asserts
    # "未发现问题" asserts that nothing is wrong, so it contradicts any problem category. Other
    # non-problem categories (business closed, activity not found) may sit beside a problem.
    excludes_problems: bool = False


@dataclass(frozen=True)
class FollowUp:
    code: str
    label: str
    no_action: bool = False  # 无需后续处置: must stand alone and means nothing is pending
    rectification: bool = False  # 责令改正: needs a rectification deadline, is followed up by 复查
    case: bool = False  # 立案查处: needs a case number


T = TypeVar("T", ResultCategory, FollowUp)

_SEPARATORS = re.compile(r"([;,、\n\r]+)")  # applied after full-width → half-width


def label_key(text: object) -> str:
    """The comparison form of a code or label: half-width, no blanks, codes upper-cased."""
    return "".join(to_halfwidth(clean_cell(text)).split()).upper()


class CodeList(Generic[T]):
    """An ordered list of categories or follow-ups with lookup by code or label."""

    def __init__(self, items: Sequence[T]) -> None:
        self.items: tuple[T, ...] = tuple(items)
        self._index: dict[str, T] = {}
        for item in self.items:
            for key in (label_key(item.code), label_key(item.label)):
                if self._index.get(key, item) is not item:
                    raise ValueError(f"code or label {key!r} is used twice")
                self._index[key] = item

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, text: object) -> T | None:
        """The item whose code or label is `text`, or None."""
        return self._index.get(label_key(text))

    def __getitem__(self, code: str) -> T:
        item = self.get(code)
        if item is None:
            raise KeyError(code)
        return item

    def split(self, text: object) -> tuple[list[T], list[str]]:
        """Every item named in a multi-entry cell, in order without repeats, and unknown parts."""
        pieces = _SEPARATORS.split(to_halfwidth("" if text is None else str(text)))
        tokens, seps = pieces[0::2], pieces[1::2]
        found: list[T] = []
        unknown: list[str] = []
        i = 0
        item: T | None = None
        while i < len(tokens):
            # Longest run of neighbouring tokens that, re-joined, is a known label.
            for j in range(len(tokens), i, -1):
                joined = "".join(tokens[k] + (seps[k] if k < j - 1 else "") for k in range(i, j))
                item = self.get(joined)
                if item is not None or j == i + 1:
                    break
            if item is not None:
                if item not in found:
                    found.append(item)
            elif clean_cell(tokens[i]):
                unknown.append(clean_cell(tokens[i]))
            i = j
        return found, unknown


DEFAULT_CATEGORIES: tuple[ResultCategory, ...] = (
    ResultCategory("R01", "未发现问题", problem=False, excludes_problems=True),
    ResultCategory("R02", "未按规定公示应当公示的信息", problem=True),
    ResultCategory("R03", "公示信息隐瞒真实情况、弄虚作假", problem=True),
    ResultCategory("R04", "通过登记的住所（经营场所）无法联系", problem=True),
    ResultCategory("R05", "发现问题已责令改正", problem=True, requires_follow_up="F02"),
    ResultCategory("R06", "发现问题待后续处理", problem=True),
    # Not problems: the matter did not apply, or the business no longer operates.
    ResultCategory("R07", "未发现开展本次抽查涉及的经营活动", problem=False),
    ResultCategory("R08", "已关闭停业或正在组织清算", problem=False),
    ResultCategory("R09", "不配合检查情节严重", problem=True),
    ResultCategory("R10", "违反其他部门相关规定", problem=True),
)

DEFAULT_FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp("F01", "无需后续处置", no_action=True),
    FollowUp("F02", "责令改正", rectification=True),
    FollowUp("F03", "立案查处", case=True),
    FollowUp("F04", "发现案件线索移送"),
    FollowUp("F05", "抄告相关部门"),
    FollowUp("F06", "其他"),
)

_CODE_FORMAT = re.compile(r"^[A-Z][A-Z0-9_-]{0,15}$")
_CATEGORY_FIELDS = {"code", "label", "problem", "requires_follow_up", "excludes_problems"}
_FOLLOW_UP_FIELDS = {"code", "label", "no_action", "rectification", "case"}
_SETTINGS_KEYS = {"categories", "extra_categories", "follow_ups", "extra_follow_ups"}


@dataclass(frozen=True)
class Codebook:
    """The two lists used to read and check findings."""

    categories: CodeList[ResultCategory]
    follow_ups: CodeList[FollowUp]

    @classmethod
    def default(cls) -> Codebook:
        return cls(CodeList(DEFAULT_CATEGORIES), CodeList(DEFAULT_FOLLOW_UPS))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], key_prefix: str = "") -> Codebook:
        """Build from settings: `categories`/`follow_ups` replace the defaults, `extra_*` append.

        Category entries: {code, label, problem: bool (required), excludes_problems, requires_follow_up}.
        Follow-up entries: {code, label, no_action, rectification, case} (flags default false).
        Raises ValidationFailed listing every problem with its key path.
        """
        problems: list[Problem] = []
        for key in sorted(set(data) - _SETTINGS_KEYS):
            problems.append(
                Problem(f"unknown setting (expected one of {sorted(_SETTINGS_KEYS)})", key=f"{key_prefix}{key}")
            )
        categories = _entries(data, "categories", DEFAULT_CATEGORIES, _category, key_prefix, problems)
        follow_ups = _entries(data, "follow_ups", DEFAULT_FOLLOW_UPS, _follow_up, key_prefix, problems)
        _check_unique(categories, f"{key_prefix}categories", problems)
        _check_unique(follow_ups, f"{key_prefix}follow_ups", problems)
        # requires_follow_up may name the follow-up by code or label; store the code.
        follow_up_keys = {label_key(k): f.code for f in follow_ups for k in (f.code, f.label)}
        for n, c in enumerate(categories):
            if c.requires_follow_up is None:
                continue
            code = follow_up_keys.get(c.requires_follow_up)
            if code is None:
                problems.append(
                    Problem(
                        f"names follow-up {c.requires_follow_up!r}, which is not in the list",
                        key=f"{key_prefix}categories[{n}].requires_follow_up",
                    )
                )
            categories[n] = replace(c, requires_follow_up=code)
        if problems:
            raise ValidationFailed("result code settings are invalid", problems)
        return cls(CodeList(categories), CodeList(follow_ups))

    def problem_found(self, category_codes: Sequence[str]) -> bool:
        """True if any of the categories counts as a problem."""
        return any(self.categories[c].problem for c in category_codes)

    def orders_rectification(self, follow_up_codes: Sequence[str]) -> bool:
        return any(self.follow_ups[c].rectification for c in follow_up_codes)

    def opens_case(self, follow_up_codes: Sequence[str]) -> bool:
        return any(self.follow_ups[c].case for c in follow_up_codes)


# -- settings parsing -------------------------------------------------------------------------


def _entries(
    data: Mapping[str, Any],
    name: str,
    defaults: Sequence[T],
    build: Callable[[Any, str, list[Problem]], T | None],
    prefix: str,
    problems: list[Problem],
) -> list[T]:
    extra = f"extra_{name}"
    if name in data and extra in data:
        problems.append(Problem(f"give either {name} (replace) or {extra} (append), not both", key=f"{prefix}{extra}"))
    chosen = name if name in data else extra
    base = [] if name in data else list(defaults)
    raw = data.get(chosen, [])
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        problems.append(Problem("must be a list of entries", key=f"{prefix}{chosen}"))
        return base
    for n, entry in enumerate(raw):
        item = build(entry, f"{prefix}{chosen}[{n}]", problems)
        if item is not None:
            base.append(item)
    return base


def _common(entry: Any, where: str, fields: set[str], problems: list[Problem]) -> tuple[str, str] | None:
    if not isinstance(entry, Mapping):
        problems.append(Problem("must be a mapping with code and label", key=where))
        return None
    for key in sorted(set(entry) - fields):
        problems.append(Problem(f"unknown field (expected {sorted(fields)})", key=f"{where}.{key}"))
    code = label_key(entry.get("code"))
    label = clean_cell(entry.get("label"))
    ok = True
    if not _CODE_FORMAT.match(code):
        problems.append(Problem("code must be a letter then up to 15 letters, digits, - or _", key=f"{where}.code"))
        ok = False
    if not label:
        problems.append(Problem("label is required", key=f"{where}.label"))
        ok = False
    return (code, label) if ok else None


def _flag(entry: Mapping[str, Any], name: str, where: str, problems: list[Problem], required: bool = False) -> bool:
    value = entry.get(name)
    if value is None and not required:
        return False
    if not isinstance(value, bool):
        problems.append(Problem("must be true or false", key=f"{where}.{name}"))
        return False
    return value


def _category(entry: Any, where: str, problems: list[Problem]) -> ResultCategory | None:
    base = _common(entry, where, _CATEGORY_FIELDS, problems)
    if base is None:
        return None
    problem = _flag(entry, "problem", where, problems, required=True)
    excludes = _flag(entry, "excludes_problems", where, problems)
    if problem and excludes:
        problems.append(Problem("a problem category cannot exclude problems", key=where))
    needs = entry.get("requires_follow_up")
    return ResultCategory(
        *base, problem=problem, requires_follow_up=label_key(needs) if needs else None, excludes_problems=excludes
    )


def _follow_up(entry: Any, where: str, problems: list[Problem]) -> FollowUp | None:
    base = _common(entry, where, _FOLLOW_UP_FIELDS, problems)
    if base is None:
        return None
    flags = {name: _flag(entry, name, where, problems) for name in ("no_action", "rectification", "case")}
    if flags["no_action"] and (flags["rectification"] or flags["case"]):
        problems.append(Problem("no_action cannot be combined with rectification or case", key=where))
    return FollowUp(*base, no_action=flags["no_action"], rectification=flags["rectification"], case=flags["case"])


def _check_unique(items: Sequence[T], where: str, problems: list[Problem]) -> None:
    """Codes and labels share one lookup, so no key may name two entries (after extras too)."""
    seen: dict[str, T] = {}
    for item in items:
        for key in {label_key(item.code), label_key(item.label)}:
            other = seen.setdefault(key, item)
            if other is not item:
                problems.append(Problem(f"{key!r} names both {other.label!r} and {item.label!r}", key=where))


DEFAULT_CODEBOOK = Codebook.default()  # the standard 10 categories and 6 follow-ups
