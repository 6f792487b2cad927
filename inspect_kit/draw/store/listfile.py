"""A verifiable draw straight from a spreadsheet (专项检查 lists): no registry, no database.

The file's identifiers (and optional strata) become the frame; the result is the same bundle a
registry draw publishes, so `inspect verify --bundle` and the consistent-sampler package check it.

Identifiers follow the registry's rules (``ID_SCHEMES``): with ``uscc`` (the default) a cell is put
in canonical form — half-width, upper-case, every blank removed, as the registry import does — and
must be a valid 统一社会信用代码 (check character included), so ``…577b`` and full-width ``…５７７Ｂ``
are one identifier, and a repeat is refused. ``other`` keeps free identifiers, normalised the same
way, and must match the configured pattern. The bundle states the normalisation it used
(``identifiers``). The seed must meet the configured minimum length. Such a draw has no commitment:
nothing shows that the seed was chosen after the list was fixed, and `inspect verify` says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_kit.draw.core.bundle import build_bundle
from inspect_kit.draw.core.quota import QuotaRule
from inspect_kit.draw.core.seeds import SeedError, check_seed_text
from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.registry import uscc
from inspect_kit.registry.tabular import read_table
from inspect_kit.text import clean_cell, clean_code, header_key

ID_SCHEMES = {
    "uscc": "统一社会信用代码 (GB 32100-2015): half-width, upper-case, blanks removed, check character verified",
    "other": "free identifiers: half-width, upper-case, blanks removed, matching the configured pattern",
}


@dataclass
class ListDraw:
    bundle: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """Per stratum: N, n, the explanation and the selected identifiers in ticket order."""
        by: dict[str, list[dict[str, Any]]] = {}
        for s in self.bundle["sample"]:
            by.setdefault(s["stratum"], []).append(
                {"rank": s["rank"], "identifier": s["identifier"], "ticket": s["ticket"]}
            )
        return {
            "seed": self.bundle["seed"],
            "seed_source": self.bundle["seed_source"],
            "algorithm": self.bundle["algorithm"],
            "frame_sha256": self.bundle["frame"]["sha256"],
            "strata": [
                {
                    **{k: st[k] for k in ("stratum", "N", "quota", "rounding", "n", "explanation")},
                    "selected": sorted(by.get(st["stratum"], []), key=lambda x: x["rank"]),
                }
                for st in self.bundle["strata"]
            ],
        }


def _identifier_problem(ident: str, id_scheme: str, other_pattern: str) -> str | None:
    if id_scheme == "uscc":
        return uscc.problem(ident)
    if not re.match(other_pattern, ident):
        return f"identifier {ident!r} does not match the configured pattern {other_pattern}"
    return None


def draw_from_file(
    path: Path | str,
    *,
    id_column: str,
    stratum_column: str | None,
    rate: str | None,
    n: int | None,
    rounding: str,
    seed: str,
    seed_source: str = "",
    min_seed_length: int = 20,
    id_scheme: str = "uscc",
    other_id_pattern: str = r"^[0-9A-Z][0-9A-Z\-]{3,31}$",
) -> ListDraw:
    if (rate is None) == (n is None):
        raise InspectError("give exactly one of --rate or --n")
    if id_scheme not in ID_SCHEMES:
        raise InspectError(f"--id-scheme: {id_scheme!r} is not one of {', '.join(ID_SCHEMES)}")
    try:
        check_seed_text(seed, min_seed_length)
    except SeedError as exc:
        raise InspectError(str(exc)) from None
    wanted = {header_key(id_column)} | ({header_key(stratum_column)} if stratum_column else set())
    table = read_table(path, lambda row: 2 * sum(1 for c in row if header_key(c) in wanted))
    keys = [header_key(h) for h in table.headers]
    problems: list[Problem] = []
    for col in filter(None, (id_column, stratum_column)):
        if header_key(col) not in keys:
            problems.append(
                Problem(
                    f"no column {col!r}; the columns are: {', '.join(map(clean_cell, table.headers))}", file=str(path)
                )
            )
    if problems:
        raise ValidationFailed(f"{path}: cannot draw", problems)
    i_id = keys.index(header_key(id_column))
    i_st = keys.index(header_key(stratum_column)) if stratum_column else None
    rows: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        if not any(clean_cell(c) for c in cells):
            continue
        ident = clean_code(cells[i_id] if i_id < len(cells) else "")
        stratum = clean_cell(cells[i_st]) if i_st is not None and i_st < len(cells) else ("all" if i_st is None else "")
        if not ident:
            problems.append(Problem("empty identifier", str(path), rownum, id_column))
        elif (why := _identifier_problem(ident, id_scheme, other_id_pattern)) is not None:
            problems.append(Problem(why, str(path), rownum, id_column))
        elif ident in seen:
            problems.append(
                Problem(f"identifier {ident} repeated (first at row {seen[ident]})", str(path), rownum, id_column)
            )
        elif not stratum:
            problems.append(Problem("empty stratum", str(path), rownum, stratum_column))
        else:
            seen[ident] = rownum
            rows.append((ident, stratum))
    if problems:
        raise ValidationFailed(f"{path}: cannot draw", problems)
    quota = rate if rate is not None else n
    assert quota is not None  # exactly one of them was given (checked first)
    try:
        rule = QuotaRule.of(quota, rounding)
    except ValueError as exc:
        raise InspectError(str(exc)) from None
    strata = {s for _, s in rows}
    try:
        bundle = build_bundle(
            seed=seed,
            seed_source=seed_source,
            matter=Path(path).name,
            period="list",
            rows=rows,
            rules={s: rule for s in strata},
        )
    except ValueError as exc:
        raise InspectError(f"{path}: {exc}") from None
    bundle["identifiers"] = {"scheme": id_scheme, "normalisation": ID_SCHEMES[id_scheme]}
    return ListDraw(bundle)
