"""Load and check the config folder: settings.toml, units.toml, matters.toml.

Errors name the file, the key path and the problem, e.g.
``configs/matters.toml, key 'matter[2].quota': quota '25 %%' is not ...``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from inspect_kit.config.models import ChecklistFile, Matter, MattersFile, Settings, Unit, UnitsFile
from inspect_kit.errors import InspectError, Problem, ValidationFailed

FILES: dict[str, type[BaseModel]] = {"settings.toml": Settings, "units.toml": UnitsFile, "matters.toml": MattersFile}
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Config:
    folder: Path
    settings: Settings
    units: list[Unit]
    matters: list[Matter]
    sha256: str  # over the three files' bytes, in a fixed order

    def matter(self, code: str) -> Matter:
        for m in self.matters:
            if m.code == code:
                return m
        raise InspectError(
            f"no matter {code!r} in {self.folder}/matters.toml; known: {', '.join(m.code for m in self.matters)}"
        )

    def unit(self, code: str) -> Unit:
        for u in self.units:
            if u.code == code:
                return u
        raise InspectError(f"no unit {code!r} in {self.folder}/units.toml")

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(self.settings.registry.categories)


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InspectError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{path}: not valid TOML", [Problem(str(exc), file=str(path))]) from None
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path}: not UTF-8", [Problem(str(exc), file=str(path))]) from None


def parse_model(path: Path, model: type[M], data: dict[str, Any] | None = None) -> M:
    data = read_toml(path) if data is None else data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(e["msg"].removeprefix("Value error, "), file=str(path), key=_key_path(e["loc"]))
            for e in exc.errors()
        ]
        raise ValidationFailed(f"{path}: invalid configuration", problems) from None


def resolve_checklists(
    path: Path, data: dict[str, Any]
) -> tuple[dict[str, Any], list[Problem], list[tuple[str, bytes]]]:
    """matters.toml's data with every ``checklist_file`` read into the matter's ``checklist``.

    The file is TOML with ``[[item]]`` tables, relative to the folder of matters.toml and inside
    it. Returns the data, the problems (naming the file and key: the matter's ``checklist_file``
    for a missing or misplaced file, the checklist file and ``item[i].field`` for a bad item) and
    the files read as (relative name, bytes), which the config's SHA-256 covers.
    """
    matters = data.get("matter")
    if not isinstance(matters, list):
        return data, [], []
    problems: list[Problem] = []
    read: list[tuple[str, bytes]] = []
    out = []
    folder = path.parent.resolve()
    for i, m in enumerate(matters):
        out.append(m)  # replaced below when its file is read; a failing matter keeps its place
        if not isinstance(m, dict) or "checklist_file" not in m:
            continue
        key = f"matter[{i}].checklist_file"
        name = m["checklist_file"]
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem("checklist_file must be a file name", file=str(path), key=key))
            continue
        if "checklist" in m:
            problems.append(Problem("give checklist or checklist_file, not both", file=str(path), key=key))
            continue
        target = (folder / name).resolve()
        if not target.is_relative_to(folder):
            problems.append(Problem(f"{name!r} is outside the config folder {folder}", file=str(path), key=key))
            continue
        if not target.is_file():
            problems.append(Problem(f"{name!r}: no such file in {folder}", file=str(path), key=key))
            continue
        try:
            items = parse_model(target, ChecklistFile).item
        except ValidationFailed as exc:
            problems.extend(exc.problems)
            continue
        read.append((name, target.read_bytes()))
        out[-1] = {**m, "checklist": [it.model_dump() for it in items]}
    return {**data, "matter": out}, problems, read


def _cross_check(folder: Path, settings: Settings, units: list[Unit], matters: list[Matter]) -> list[Problem]:
    problems: list[Problem] = []
    uf, mf = str(folder / "units.toml"), str(folder / "matters.toml")
    unit_codes = [u.code for u in units]
    for code in {c for c in unit_codes if unit_codes.count(c) > 1}:
        problems.append(Problem(f"unit code {code!r} is defined more than once", file=uf, key="unit"))
    for i, u in enumerate(units):
        if u.parent and u.parent not in unit_codes:
            problems.append(Problem(f"parent {u.parent!r} is not a unit", file=uf, key=f"unit[{i}].parent"))
    matter_codes = [m.code for m in matters]
    for code in {c for c in matter_codes if matter_codes.count(c) > 1}:
        problems.append(Problem(f"matter code {code!r} is defined more than once", file=mf, key="matter"))
    if settings.findings.codes:
        from inspect_kit.findings.codes import Codebook

        try:
            Codebook.from_dict(settings.findings.codes, key_prefix="findings.codes.")
        except ValidationFailed as exc:
            problems += [Problem(p.reason, file=str(folder / "settings.toml"), key=p.key) for p in exc.problems]
    cats = set(settings.registry.categories)
    for i, m in enumerate(matters):
        if m.unit not in unit_codes:
            problems.append(Problem(f"unit {m.unit!r} is not in units.toml", file=mf, key=f"matter[{i}].unit"))
        for c in m.categories:
            if c not in cats:
                problems.append(
                    Problem(
                        f"category {c!r} is not in settings.toml registry.categories",
                        file=mf,
                        key=f"matter[{i}].categories",
                    )
                )
        for d in m.team:
            if d not in unit_codes:
                problems.append(Problem(f"department {d!r} is not in units.toml", file=mf, key=f"matter[{i}].team"))
    return problems + _burden_problems(str(folder / "settings.toml"), settings, unit_codes, matter_codes)


def _burden_problems(sf: str, settings: Settings, unit_codes: list[str], matter_codes: list[str]) -> list[Problem]:
    """Caps, coordination and joint visits name matters and units that exist; a matter is
    coordinated by one group of a year at most."""
    problems = []
    b = settings.burden
    if b is not None:
        problems += [
            Problem(f"matter {c!r} is not in matters.toml", file=sf, key="burden.outside_cap")
            for c in b.outside_cap
            if c not in matter_codes
        ]
        problems += [
            Problem(f"unit {u!r} is not in units.toml", file=sf, key="burden.levels")
            for u in b.levels
            if u not in unit_codes
        ]
        problems += [
            Problem(f"cap {n!r} must be at least 1", file=sf, key=f"burden.{what}.{k}")
            for what, caps in (
                ("per_level", b.per_level),
                ("per_category", b.per_category),
                ("per_credit_class", b.per_credit_class),
            )
            for k, n in caps.items()
            if n < 1
        ]
    for year, plan in settings.coordination.items():
        if not (year.isdigit() and len(year) == 4):
            problems.append(Problem(f"{year!r} is not a year", file=sf, key=f"coordination.{year}"))
        seen: dict[str, str] = {}
        for name, group in plan.groups.items():
            key = f"coordination.{year}.groups.{name}.matters"
            for c in group.matters:
                if c not in matter_codes:
                    problems.append(Problem(f"matter {c!r} is not in matters.toml", file=sf, key=key))
                elif c in seen:
                    problems.append(Problem(f"matter {c!r} is already in group {seen[c]!r}", file=sf, key=key))
                seen.setdefault(c, name)
            if len(set(group.matters)) != len(group.matters):
                problems.append(Problem("a matter is listed twice", file=sf, key=key))
    problems += [
        Problem(f"unit {u!r} is not in units.toml", file=sf, key="joint.lead_order")
        for u in settings.joint.lead_order
        if u not in unit_codes
    ]
    return problems


def load_config(folder: Path | str) -> Config:
    folder = Path(folder)
    if not folder.is_dir():
        raise InspectError(f"{folder}: no such config folder (pass --config DIR or set INSPECT_CONFIG_DIR)")
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    digest = hashlib.sha256()
    for name, model in FILES.items():
        path = folder / name
        if not path.exists():
            problems.append(Problem(f"missing {name}", file=str(path)))
            continue
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        try:
            if model is MattersFile:
                data, more, read = resolve_checklists(path, read_toml(path))
                problems.extend(more)
                for extra, blob in read:  # the checklist files are part of the config
                    digest.update(b"checklist_file\0" + extra.encode() + b"\0" + blob + b"\0")
                parsed[name] = parse_model(path, model, data)
            else:
                parsed[name] = parse_model(path, model)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(f"{folder}: invalid configuration", problems)
    settings, units, matters = parsed["settings.toml"], parsed["units.toml"].unit, parsed["matters.toml"].matter
    problems = _cross_check(folder, settings, units, matters)
    if problems:
        raise ValidationFailed(f"{folder}: invalid configuration", problems)
    return Config(folder, settings, units, matters, digest.hexdigest())


def check_file(path: Path | str) -> str:
    """Validate one config file (or a whole folder); returns a one-line description."""
    path = Path(path)
    if path.is_dir():
        cfg = load_config(path)
        return f"{path}: {len(cfg.units)} units, {len(cfg.matters)} matters — OK"
    model = FILES.get(path.name)
    if model is None:
        data = read_toml(path)
        guess = next(
            (
                n
                for n, key in (("units.toml", "unit"), ("matters.toml", "matter"), ("settings.toml", "county"))
                if key in data
            ),
            None,
        )
        if guess is None:
            raise InspectError(f"{path}: cannot tell which config file this is (expected settings, units or matters)")
        model = FILES[guess]
    else:
        data = read_toml(path)
    problems: list[Problem] = []
    if model is MattersFile:
        data, problems, _ = resolve_checklists(path, data)
    try:
        parse_model(path, model, data)
    except ValidationFailed as exc:
        problems = problems + exc.problems
    if problems:
        raise ValidationFailed(f"{path}: invalid configuration", problems)
    return f"{path}: OK"


def matter_spec(m: Matter) -> tuple[dict[str, Any], str]:
    """The matter as stored with draws: canonical JSON and its SHA-256."""
    spec = m.model_dump(mode="json")
    for key in ("checklist", "checklist_file", "materials"):  # absent, they leave older specs' hashes alone
        if not spec[key]:
            del spec[key]
    blob = json.dumps(spec, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return spec, hashlib.sha256(blob).hexdigest()
