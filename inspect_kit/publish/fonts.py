"""Fonts for public notices: the shipped free defaults, user-configured files, glyph coverage.

Why these defaults (see fonts/README.md for sources, hashes and licences):
- ReportLab's CID font STSong-Light is never embedded, so viewers without it show blanks;
  ReportLab embeds TrueType subsets, but refuses CFF outlines, which rules out every Noto CJK
  .otf/.ttc.
- AR PL SungtiL GB (gbsn00lp.ttf, 5.2 MB, Arphic Public License, from Debian's
  fonts-arphic-gbsn00lp) is a Song face drawn for GB2312 with TrueType outlines: the closest
  free stand-in for 仿宋_GB2312 and 小标宋 that is small enough to ship.
- WenQuanYi Micro Hei (wqy-microhei.ttc, 5.2 MB, Apache-2.0, from Debian's fonts-wqy-microhei)
  is a 黑体, which GB/T 9704 uses for first-level headings, and covers all 20,902 URO hanzi,
  so it doubles as the fallback for names with characters outside GB2312.

Every character is checked against the cmap before rendering: a missing glyph would otherwise
print as a blank and extract as NUL, which in a public list of entity names is a silent error.

ReportLab is imported inside the loading functions only, to keep ``import inspect_kit.publish``
light.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path

from inspect_kit.errors import InspectError

SHIPPED_DIR = Path(str(resources.files("inspect_kit.publish").joinpath("fonts")))


class FontError(InspectError):
    """A configured font file cannot be used."""


class Role(Enum):
    """What a piece of text is, which decides its font."""

    TITLE = "title"
    BODY = "body"
    HEADING = "heading"


@dataclass(frozen=True)
class FontSpec:
    """One face: a .ttf file, or one subfont of a .ttc collection (``index`` from 0)."""

    path: Path
    index: int = 0

    @classmethod
    def of(cls, value: FontSpec | str | os.PathLike[str]) -> FontSpec:
        """Accept a FontSpec, a path, or (for config files) "simsun.ttc#1" for subfont 1."""
        if isinstance(value, FontSpec):
            return value
        path, _, index = str(value).rpartition("#")
        if path and index.isdigit() and not Path(value).exists():
            return cls(Path(path), int(index))
        return cls(Path(value))


SHIPPED_SONG = FontSpec(SHIPPED_DIR / "gbsn00lp.ttf")
SHIPPED_HEI = FontSpec(SHIPPED_DIR / "wqy-microhei.ttc", 0)


@dataclass(frozen=True)
class FontConfig:
    """The user's font files; ``None`` means the shipped default.

    title: 方正小标宋 or similar (default AR PL SungtiL GB); body: 仿宋_GB2312 (default the same
    Song); heading: 黑体 for "一、" headings and table headers (default WenQuanYi Micro Hei);
    fallback: used per character where the role's font lacks a glyph (default Micro Hei).
    With ``use_fallback=False`` any missing glyph is an error instead.
    """

    title: FontSpec | str | os.PathLike[str] | None = None
    body: FontSpec | str | os.PathLike[str] | None = None
    fallback: FontSpec | str | os.PathLike[str] | None = None
    heading: FontSpec | str | os.PathLike[str] | None = None
    use_fallback: bool = True


@dataclass(frozen=True, eq=False)
class Face:
    """A loaded, registered face: its ReportLab name, metrics and cmap."""

    name: str  # the name registered with reportlab.pdfbase.pdfmetrics
    label: str  # for messages: "AR PL SungtiL GB (gbsn00lp.ttf)"
    codepoints: frozenset[int]
    widths: dict[int, float]  # advance per code point, in 1/1000 em
    default_width: float
    ascent: float  # 1/1000 em, as written into the PDF font descriptor
    descent: float  # 1/1000 em, negative

    def has(self, char: str) -> bool:
        return ord(char) in self.codepoints

    def advance(self, char: str, size: float) -> float:
        return self.widths.get(ord(char), self.default_width) * size / 1000.0


_loaded: dict[tuple[str, int, int, int], Face] = {}


def load_face(spec: FontSpec) -> Face:
    """Load and register ``spec`` with ReportLab (cached per file state)."""
    path = spec.path.expanduser()
    try:
        stat = path.stat()
    except OSError as exc:
        raise FontError(f"font file {path} cannot be read: {exc.strerror or exc}") from None
    key = (str(path.resolve()), spec.index, stat.st_size, stat.st_mtime_ns)
    if key not in _loaded:
        _loaded[key] = _register(path, spec.index)
    return _loaded[key]


def _register(path: Path, index: int) -> Face:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    # The name comes from the file's content, not its path, so that the same font installed
    # elsewhere gives byte-identical PDFs.
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    name = f"IK-{digest}-{index}"
    try:
        font = TTFont(name, str(path), subfontIndex=index)
    except TTFError as exc:
        hint = ""
        if "postscript outlines" in str(exc):
            hint = (
                " — ReportLab embeds only TrueType (glyf) outlines; CFF/OpenType fonts such as"
                " Noto CJK .otf/.ttc cannot be used, pick a .ttf with TrueType outlines"
            )
        raise FontError(f"font file {path} (subfont {index}) cannot be used: {exc}{hint}") from None
    except (OSError, ValueError, IndexError) as exc:
        raise FontError(f"font file {path} (subfont {index}) cannot be used: {exc}") from None
    pdfmetrics.registerFont(font)
    face = font.face
    codepoints = frozenset(c for c, glyph in face.charToGlyph.items() if glyph)  # glyph 0 = .notdef
    family = face.familyName.decode("utf-8", "replace") if isinstance(face.familyName, bytes) else str(face.familyName)
    return Face(
        name=name,
        label=f"{family} ({path.name})",
        codepoints=codepoints,
        widths=dict(face.charWidths),
        default_width=face.defaultWidth,
        ascent=face.ascent,
        descent=face.descent,
    )


@dataclass(frozen=True)
class MissingGlyph:
    """A character that no configured font can draw, with where it occurs."""

    char: str
    where: str
    fonts: str  # which fonts were tried, for the message

    def __str__(self) -> str:
        return f"{self.where}: {self.char!r} U+{ord(self.char):04X} not in font {self.fonts}"


class MissingGlyphError(InspectError):
    """Some characters cannot be drawn; ``missing`` lists each distinct (char, place) once."""

    def __init__(self, missing: list[MissingGlyph], limit: int = 30):
        self.missing = list(missing)
        lines = [f"{len(self.missing)} character occurrence(s) cannot be drawn with the configured fonts:"]
        lines += [f"  - {m}" for m in self.missing[:limit]]
        if len(self.missing) > limit:
            lines.append(f"  ... and {len(self.missing) - limit} more")
        lines.append("Configure a font that has them (FontConfig body/title/fallback), or change the text.")
        super().__init__("\n".join(lines))


class _FaceChoice(dict):
    """char → the face that draws it: the role's own face if it has the glyph, else the fallback."""

    def __init__(self, own: Face, fallback: Face | None):
        super().__init__()
        self.own, self.fallback = own, fallback

    def __missing__(self, char: str) -> Face:
        own, fallback = self.own, self.fallback
        face = own if own.has(char) or char == " " or fallback is None or not fallback.has(char) else fallback
        self[char] = face
        return face


@dataclass(frozen=True, eq=False)
class FontSet:
    """The faces of one rendering, with per-character choice between role font and fallback."""

    title: Face
    body: Face
    heading: Face
    fallback: Face | None
    _choice: dict[Role, dict[str, Face]] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def load(cls, config: FontConfig | None = None) -> FontSet:
        config = config or FontConfig()

        def pick(value: FontSpec | str | os.PathLike[str] | None, default: FontSpec) -> Face:
            return load_face(FontSpec.of(value) if value is not None else default)

        fallback = pick(config.fallback, SHIPPED_HEI) if config.use_fallback else None
        return cls(
            title=pick(config.title, SHIPPED_SONG),
            body=pick(config.body, SHIPPED_SONG),
            heading=pick(config.heading, SHIPPED_HEI),
            fallback=fallback,
        )

    def face(self, role: Role) -> Face:
        return self.title if role is Role.TITLE else self.heading if role is Role.HEADING else self.body

    def face_for(self, char: str, role: Role) -> Face:
        """The face that draws ``char``: the role's own if it has the glyph, else the fallback."""
        return self._choices(role)[char]

    def _choices(self, role: Role) -> dict[str, Face]:
        """char → face for ``role``, filled on first use (a dict lookup per character after)."""
        table = self._choice.get(role)
        if table is None:
            table = self._choice[role] = _FaceChoice(self.face(role), self.fallback)
        return table

    def runs(self, text: str, role: Role) -> list[tuple[Face, str]]:
        """Split ``text`` into maximal runs drawn with one face each."""
        if not text:
            return []
        faces = list(map(self._choices(role).__getitem__, text))
        runs: list[tuple[Face, str]] = []
        start = 0
        for i in range(1, len(text) + 1):
            if i == len(text) or faces[i] is not faces[start]:
                runs.append((faces[start], text[start:i]))
                start = i
        return runs

    def check(self, texts: Iterable[tuple[str, str, Role]]) -> None:
        """Raise MissingGlyphError for characters of ``(where, text, role)`` no face can draw."""
        missing: list[MissingGlyph] = []
        for where, text, role in texts:
            own = self.face(role)
            seen: set[str] = set()
            for char in text:
                if char in " \n\t\r" or char in seen or own.has(char):
                    continue
                seen.add(char)
                if self.fallback is not None and self.fallback.has(char):
                    continue
                tried = own.label if self.fallback is None else f"{own.label} nor fallback {self.fallback.label}"
                missing.append(MissingGlyph(char, where, tried))
        if missing:
            raise MissingGlyphError(missing)
