"""Personal data in public documents: the registries' own private values, masked in free text and
refused in anything published. Pure functions: no database, no files, no clock.

The private values are what the registries hold about people: every column marked
``info={"private": True}`` in storage/models (entities' legal representatives and phones,
officers' phones) plus officers' names. `inspect_kit.publish.service.private_values` loads them
into a `PrivateValues`; everything here takes that object.

* `mask` replaces each occurrence in free text by its first character and stars ("龙芳秀表示将整改"
  → "龙**表示将整改"), longest value first, so that "龙芳秀" is not left as "龙芳*" by an officer
  named 龙芳. Names are matched anywhere, also inside longer words: an officer named 王平 turns
  "王平镇" into "王*镇" — privacy over prettiness. Numbers match only whole (not inside a longer
  number; a leading +86/0086 is allowed), ignoring spaces and hyphens.
* `mentions` says which kinds of value a text quotes (for warnings at entry time).
* `check_public` is the ONE guard every public artefact passes before it is written: the text of
  a PDF (every page, its metadata and every embedded file), a JSON, CSV, text or HTML document.
  It raises InspectError naming the artefact, where in it, and which kind of value was found —
  the value itself only masked — when it finds a private value or a resident ID-card number.

Values that cannot identify anyone are left out: 1-character values, numbers shorter than 7
digits, and placeholders typed into registries ("无", "不详", "同上" ...).

Some people are public by role: the witnesses named in a draw's seed source (见证人 "县公证处公证员
周文") are published on purpose, and a draw bundle must stay byte for byte as committed. A legal
representative who happens to share such a name is not masked or refused where the declared
public phrase stands (`PrivateValues.allowing`, `declared_public`); anywhere else, they are.

One module over 400 lines on purpose: `mask`, `mentions` and `check_public` use the same matchers of
one PrivateValues; the one guard of public output is kept in one place so it is audited as one.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, overload

from inspect_kit.errors import InspectError
from inspect_kit.text import to_halfwidth

if TYPE_CHECKING:
    from inspect_kit.publish.document import NoticeDocument

__all__ = [
    "KINDS",
    "PrivateValues",
    "check_public",
    "declared_public",
    "mask",
    "mask_notice",
    "mentions",
    "public_texts",
]

# What a private value is, by the column it comes from: (table, column) → words for messages.
KINDS: Mapping[tuple[str, str], str] = {
    ("entities", "legal_rep"): "a legal representative's name",
    ("entities", "phone"): "an entity's phone number",
    ("inspectors", "name"): "an officer's name",
    ("inspectors", "phone"): "an officer's phone number",
}
RESIDENT_ID = "a resident ID-card number"
# Typed into registries where nothing is known; they identify nobody and are common words.
_PLACEHOLDERS = frozenset(
    {
        "无",
        "暂无",
        "没有",
        "不详",
        "未知",
        "同上",
        "本人",
        "待定",
        "待补充",
        "空",
        "null",
        "none",
        "n/a",
        "na",
        "法人",
        "法定代表人",
        "负责人",
        "经理",
        "老板",
        "店主",
        "业主",
        "个人",
    }
)
_MIN_DIGITS = 7
# Dropped before matching, so that "138 1234-5678" and "龙 芳秀" match: blanks (every character
# str.isspace() knows), hyphens and dashes, invisible characters.
_SEPARATORS = frozenset(
    {chr(c) for c in range(0x3001) if chr(c).isspace()} | set("-－‐‑–—\u200b\u200c\u200d\u2060\ufeff\u00ad")
)
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _fold(text: str) -> str:
    """Half-width, ASCII lower-case; one character for one (indices stay valid)."""
    return to_halfwidth(text).translate(_ASCII_LOWER)


def _compact(text: str) -> tuple[str, list[int]]:
    """``text`` without separators, folded, and the index in ``text`` of each character kept."""
    folded = _fold(text)
    where = [i for i, ch in enumerate(folded) if ch not in _SEPARATORS]
    return "".join([folded[i] for i in where]), where


_PHONE_PUNCT = re.compile(r"[()（）+]")
_COUNTRY_MOBILE = re.compile(r"(?:0086|86)(1[3-9]\d{9})")


def _value_key(value: str) -> str:
    """A registry value as matched: compacted; a phone as its bare digits ("(0791)8812345" →
    "07918812345", "+86 138 1234 5678" → "13812345678")."""
    key = _compact(value)[0]
    digits = _PHONE_PUNCT.sub("", key)
    if digits.isdigit():
        m = _COUNTRY_MOBILE.fullmatch(digits)
        return m.group(1) if m else digits
    return key


@dataclass(frozen=True)
class PrivateValues:
    """The private values to look for: normalised value → kind (words from `KINDS`)."""

    kinds: Mapping[str, str]
    public: frozenset[str] = frozenset()  # declared public phrases (compacted): see `allowing`
    _firsts: Mapping[str, list[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # First character → lengths of the values starting with it, longest first.
        firsts: dict[str, set[int]] = {}
        for v in self.kinds:
            firsts.setdefault(v[0], set()).add(len(v))
        object.__setattr__(self, "_firsts", {c: sorted(ls, reverse=True) for c, ls in firsts.items()})

    @classmethod
    def of(cls, pairs: Iterable[tuple[str | None, str]]) -> PrivateValues:
        """From (value, kind) pairs; unusable values (see the module docstring) are dropped. A value
        held under two kinds keeps the first given."""
        kinds: dict[str, str] = {}
        for value, kind in pairs:
            key = _value_key(value or "")
            if len(key) < 2 or key in _PLACEHOLDERS:
                continue
            if key.isdigit() and len(key) < _MIN_DIGITS:
                continue
            kinds.setdefault(key, kind)
        return cls(kinds)

    def __len__(self) -> int:
        return len(self.kinds)

    def allowing(self, phrases: Iterable[str]) -> PrivateValues:
        """The same values, except where one of ``phrases`` (public by role, e.g. a draw's
        witnesses) stands: a match inside an occurrence of such a phrase is left alone."""
        extra = {_compact(p)[0] for p in phrases if p}
        return PrivateValues(self.kinds, self.public | frozenset(p for p in extra if len(p) >= 2))


@dataclass(frozen=True)
class _Match:
    start: int  # in the original text
    end: int
    kind: str


def _free(text: str, pos: int, test: Callable[[str], bool]) -> bool:
    """True when ``text[pos]`` is outside the text or fails ``test``."""
    return pos < 0 or pos >= len(text) or not test(_fold(text[pos]))


def _is_digit(ch: str) -> bool:
    return ch.isascii() and ch.isdigit()


def _is_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _bounded(text: str, compact: str, where: list[int], i: int, j: int) -> bool:
    """A number matches only whole, judged on the original text (a blank or a line break ends a
    number; a leading country code 86/0086 is allowed); a Latin word only as a word; Chinese
    names anywhere."""
    value = compact[i:j]
    test = _is_digit if value.isdigit() else _is_word if (value.isascii() and value.isalnum()) else None
    if test is None:
        return True
    if not _free(text, where[j - 1] + 1, test):
        return False
    if _free(text, where[i] - 1, test):
        return True
    if test is _is_digit:
        for prefix in ("0086", "86"):
            k = i - len(prefix)
            if k >= 0 and compact[k:i] == prefix and _free(text, where[k] - 1, test):
                return True
    return False


def _matches(text: str, values: PrivateValues) -> list[_Match]:
    """Non-overlapping occurrences in ``text``, longest values first, as spans of the original text."""
    if not text or not values.kinds:
        return []
    compact, where = _compact(text)
    index = values._firsts
    allowed: set[int] = set()  # positions inside a declared public phrase
    for phrase in values.public:
        at = compact.find(phrase)
        while at >= 0:
            allowed.update(range(at, at + len(phrase)))
            at = compact.find(phrase, at + 1)
    found: list[tuple[int, int, str]] = []
    for i, ch in enumerate(compact):
        lengths = index.get(ch)
        if not lengths:
            continue
        for n in lengths:
            piece = compact[i : i + n]
            kind = values.kinds.get(piece) if len(piece) == n else None
            if kind is not None and _bounded(text, compact, where, i, i + n):
                if not (allowed and allowed.issuperset(range(i, i + n))):
                    found.append((i, i + n, kind))
                break  # the longest value starting here
    taken: list[tuple[int, int, str]] = []
    busy: set[int] = set()
    for i, j, kind in sorted(found, key=lambda m: (m[0] - m[1], m[0])):
        if not busy.intersection(range(i, j)):
            busy.update(range(i, j))
            taken.append((i, j, kind))
    return [_Match(where[i], where[j - 1] + 1, kind) for i, j, kind in sorted(taken)]


# Keys of published JSON (draw bundles) whose strings name people public by role.
DECLARED_PUBLIC_KEYS = frozenset({"witnesses"})


def declared_public(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """The strings under `DECLARED_PUBLIC_KEYS` in the JSON ``files`` ((name, bytes), as embedded)."""
    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if k in DECLARED_PUBLIC_KEYS and isinstance(v, list):
                    out.extend(x for x in v if isinstance(x, str))
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for name, data in files:
        if name.lower().endswith(".json"):
            try:
                walk(json.loads(data))
            except ValueError:
                continue
    return list(dict.fromkeys(out))


def _masked(piece: str) -> str:
    """First character kept, every other non-separator replaced by "*": "龙芳秀" → "龙**"."""
    return piece[0] + "".join(c if c in _SEPARATORS or c.isspace() else "*" for c in piece[1:])


def mask(text: str | None, values: PrivateValues) -> str:
    """``text`` with every private value masked ("龙**"); see the module docstring for matching."""
    if not text:
        return text or ""
    out, at = [], 0
    for m in _matches(text, values):
        out.append(text[at : m.start])
        out.append(_masked(text[m.start : m.end]))
        at = m.end
    out.append(text[at:])
    return "".join(out)


def mentions(text: str | None, values: PrivateValues) -> list[str]:
    """The kinds of private value ``text`` quotes, in order of first appearance, each once."""
    return list(dict.fromkeys(m.kind for m in _matches(text or "", values)))


def mask_notice(notice: NoticeDocument, values: PrivateValues) -> NoticeDocument:
    """The `publish.NoticeDocument` with `mask` applied to every string it prints (title, paragraphs, table
    cells, notes, signature, metadata keywords). Embedded files are left as they are (a draw
    bundle must verify byte for byte); `check_public` refuses them if they hold a private value.

    Free text typed by operators (problem descriptions, seed sources, re-draw reasons) can quote
    anyone; masking the whole document rather than chosen fields also covers text added later.
    A public name that contains a private one (a shop named after its legal representative, a
    township sharing an officer's 2-character name) is masked too — privacy over prettiness.
    """
    import dataclasses

    from inspect_kit.publish.document import Attachment, Section, Table

    if not values.kinds:
        return notice

    @overload
    def m(text: str) -> str: ...
    @overload
    def m(text: None) -> None: ...

    def m(text: str | None) -> str | None:
        return mask(text, values) if isinstance(text, str) else text

    def table(t: Table | None) -> Table | None:
        if t is None:
            return None
        return dataclasses.replace(
            t, columns=[m(c) for c in t.columns], rows=[[m(c) for c in r] for r in t.rows], caption=m(t.caption)
        )

    def section(s: Section) -> Section:
        return dataclasses.replace(
            s,
            heading=m(s.heading),
            paragraphs=[m(p) for p in s.paragraphs],
            table=table(s.table),
            notes=[m(n) for n in s.notes],
        )

    def attachment(a: Attachment) -> Attachment:
        return dataclasses.replace(a, title=m(a.title), sections=[section(s) for s in a.sections])

    return dataclasses.replace(
        notice,
        issuer=m(notice.issuer),
        title=m(notice.title),
        doc_number=m(notice.doc_number),
        addressee=m(notice.addressee),
        intro=[m(p) for p in notice.intro],
        sections=[section(s) for s in notice.sections],
        closing=[m(c) for c in notice.closing],
        signature=m(notice.signature),
        attachments=[attachment(a) for a in notice.attachments],
        letterhead=m(notice.letterhead),
        keywords=tuple(m(k) for k in notice.keywords),
    )


# -- the public-output guard ------------------------------------------------------------------------

_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def _resident_ids(text: str) -> Iterator[str]:
    from inspect_kit.publish.notices import looks_like_resident_id
    from inspect_kit.registry.uscc import is_valid

    for m in _ID_CANDIDATE.finditer(to_halfwidth(text)):
        value = m.group().upper()
        if looks_like_resident_id(value) and not is_valid(value):
            yield value


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _json_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _json_strings(v)


_KIND_OF_SUFFIX = {
    ".json": "json",
    ".csv": "csv",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".xml": "text",
    ".md": "text",
}


def public_texts(content: bytes | str, kind: str, name: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) of everything a reader of the artefact can see.

    ``kind``: "pdf" (every page's text, the metadata, and every embedded file by its name's
    suffix), "json" (every key and string, also those written as \\u escapes), "csv", "text" or
    "html" (the text as decoded: UTF-8, else GB18030). An unknown kind is refused: what cannot be
    read cannot be checked.
    """
    if kind == "pdf":
        yield from _pdf_texts(content if isinstance(content, bytes) else content.encode("latin-1"), name)
    elif kind == "json":
        text = _decode(content)
        try:
            data = json.loads(text)
        except ValueError:
            yield name, text
        else:
            yield name, "\n".join(_json_strings(data))
    elif kind in ("csv", "text", "html"):
        yield name, _decode(content)
    else:
        raise InspectError(
            f"{name or 'an artefact'}: cannot check a {kind!r} file for personal data, so it is not "
            "published (known kinds: pdf, json, csv, text, html)"
        )


def _pdf_texts(pdf: bytes, name: str) -> Iterator[tuple[str, str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    meta = reader.metadata
    yield f"{name}, metadata", "\n".join(str(v) for v in meta.values()) if meta is not None else ""
    for k, page in enumerate(reader.pages, 1):
        yield f"{name}, page {k}", page.extract_text() or ""
    for f in reader.attachment_list:
        suffix = "." + f.name.rsplit(".", 1)[-1].lower() if "." in f.name else ""
        yield from public_texts(
            f.content, _KIND_OF_SUFFIX.get(suffix, suffix or "unknown"), f"{name}, attached file {f.name}"
        )


def check_public(artefact: str, content: bytes | str, kind: str, values: PrivateValues) -> None:
    """Refuse (InspectError) to publish ``content`` if a reader could see a private value or a
    resident ID-card number in it. The message names the artefact, where in it, and the kind of
    value, masked ("龙**"); nothing else is printed. Returns None when the artefact is clean."""
    for where, text in public_texts(content, kind, artefact):
        # Extracted PDF text breaks lines inside table cells: a name may be split by a newline,
        # which the matching ignores like any blank.
        found = _matches(text, values)
        if found:
            m = found[0]
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise InspectError(
                f"refusing to publish {where}: it contains {m.kind} "
                f"({_masked(text[m.start : m.end].strip())}){more}; personal data must not appear in "
                "a public document — nothing was written"
            )
        for value in _resident_ids(text):
            raise InspectError(
                f"refusing to publish {where}: it contains {RESIDENT_ID} ({value[:6]}{'*' * 12}); "
                "personal data must not appear in a public document — nothing was written"
            )
