"""Loading a rulebook (考评细则) from TOML text, with two fingerprints for reproducibility.

- `source_sha256`: SHA-256 of the rulebook text encoded as UTF-8 — the file's bytes as loaded,
  minus a UTF-8 byte-order mark if there was one. Store `source_text` with every scoring run;
  `loads(source_text)` gives back the same rulebook and the same hash.
- `model_sha256`: SHA-256 of the canonical JSON of the validated model (defaults filled in, keys
  sorted, numbers in plain decimal form, no whitespace). Comments and layout do not change it, so
  two files that score identically by construction share it.

`loads` is pure; `load` is the only function here that touches the file system.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.score.checks import check_rulebook
from inspect_kit.score.model import RULE_KINDS, Category, Indicator, RulebookModel


@dataclass(frozen=True)
class Rulebook:
    model: RulebookModel
    source_text: str = field(repr=False)
    source_sha256: str
    model_sha256: str
    file: str | None = None

    @property
    def name(self) -> str:
        return self.model.rulebook.name

    @property
    def version(self) -> str:
        return self.model.rulebook.version

    @property
    def categories(self) -> list[Category]:
        return self.model.category

    @property
    def indicators(self) -> list[Indicator]:
        return self.model.indicator

    def category(self, key: str) -> Category:
        return next(c for c in self.model.category if c.key == key)


def loads(text: str, file: str | None = None) -> Rulebook:
    """Parse and validate rulebook text; `file` only labels error messages.

    Raises ValidationFailed listing every problem, each with the file and key path.
    """
    text = text.removeprefix("\ufeff")
    label = file or "<rulebook>"
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{label}: not valid TOML", [Problem(str(exc), file=file)]) from None
    try:
        model = RulebookModel.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(e, data, file) for e in exc.errors()]
        raise ValidationFailed(f"{label}: invalid rulebook", problems) from None
    problems = check_rulebook(model, file)
    if problems:
        raise ValidationFailed(f"{label}: invalid rulebook", problems)
    return Rulebook(
        model=model,
        source_text=text,
        source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        model_sha256=model_sha256(model),
        file=file,
    )


def load(path: Path | str) -> Rulebook:
    """Read a rulebook file (UTF-8, optional BOM) and validate it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InspectError(f"{path}: no such file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path}: not UTF-8", [Problem(str(exc), file=str(path))]) from None
    return loads(text, file=str(path))


def model_sha256(model: RulebookModel) -> str:
    canonical = json.dumps(model.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def key_path(loc: tuple[Any, ...]) -> str:
    """('indicator', 3, 'rule', 'linear', 'thresholds') → 'indicator[3].rule.thresholds'.

    pydantic puts the discriminator tag of the rule union into the location; it is not a key
    the user wrote, so it is dropped.
    """
    out = ""
    previous: Any = None
    for part in loc:
        if previous == "rule" and part in RULE_KINDS:
            previous = part
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        previous = part
    return out


def _problem(error: Any, data: dict[str, Any], file: str | None) -> Problem:
    loc = tuple(error["loc"])
    reason = error["msg"].removeprefix("Value error, ")
    if error["type"] not in ("missing", "extra_forbidden") and _is_scalar(error.get("input")):
        shown = error["input"]
        reason += f" (got {str(shown) if isinstance(shown, Decimal) else repr(shown)})"
    indicator_key = _indicator_key(loc, data)
    if indicator_key:
        reason = f"indicator {indicator_key!r}: {reason}"
    return Problem(reason, file=file, key=key_path(loc))


def _indicator_key(loc: tuple[Any, ...], data: dict[str, Any]) -> str | None:
    # Naming the indicator by its key saves the reader from counting [[indicator]] blocks.
    if len(loc) >= 3 and loc[0] == "indicator" and isinstance(loc[1], int):
        try:
            key = data["indicator"][loc[1]].get("key")
        except (KeyError, IndexError, AttributeError, TypeError):
            return None
        return key if isinstance(key, str) else None
    return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, Decimal, bool)) and len(str(value)) <= 60
