"""A verifiable draw straight from a spreadsheet (专项检查 lists): no registry, no database.

The file's identifiers (and optional strata) become the frame; the result is the same bundle a
registry draw publishes, so `inspect verify --bundle` and the consistent-sampler package check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_kit.draw.bundle import build_bundle
from inspect_kit.draw.quota import QuotaRule
from inspect_kit.errors import InspectError, Problem, ValidationFailed
from inspect_kit.registry.schema import header_key
from inspect_kit.registry.tabular import read_table
from inspect_kit.text import clean_cell, to_halfwidth


@dataclass
class ListDraw:
    bundle: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """Per stratum: N, n, the explanation and the selected identifiers in ticket order."""
        by: dict[str, list[dict[str, Any]]] = {}
        for s in self.bundle["sample"]:
            by.setdefault(s["stratum"], []).append({"rank": s["rank"], "identifier": s["identifier"], "ticket": s["ticket"]})
        return {"seed": self.bundle["seed"], "seed_source": self.bundle["seed_source"],
                "algorithm": self.bundle["algorithm"], "frame_sha256": self.bundle["frame"]["sha256"],
                "strata": [{**{k: st[k] for k in ("stratum", "N", "quota", "rounding", "n", "explanation")},
                            "selected": sorted(by.get(st["stratum"], []), key=lambda x: x["rank"])}
                           for st in self.bundle["strata"]]}


def draw_from_file(path: Path | str, *, id_column: str, stratum_column: str | None, rate: str | None, n: int | None,
                   rounding: str, seed: str, seed_source: str = "", min_seed_length: int = 1) -> ListDraw:
    if (rate is None) == (n is None):
        raise InspectError("give exactly one of --rate or --n")
    if len(seed) < min_seed_length:
        raise InspectError(f"the seed must have at least {min_seed_length} characters")
    wanted = {header_key(id_column)} | ({header_key(stratum_column)} if stratum_column else set())
    table = read_table(path, lambda row: 2 * sum(1 for c in row if header_key(c) in wanted))
    keys = [header_key(h) for h in table.headers]
    problems: list[Problem] = []
    for col in filter(None, (id_column, stratum_column)):
        if header_key(col) not in keys:
            problems.append(Problem(f"no column {col!r}; the columns are: {', '.join(map(clean_cell, table.headers))}",
                                    file=str(path)))
    if problems:
        raise ValidationFailed(f"{path}: cannot draw", problems)
    i_id = keys.index(header_key(id_column))
    i_st = keys.index(header_key(stratum_column)) if stratum_column else None
    rows: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for rownum, cells in table.rows:
        if not any(clean_cell(c) for c in cells):
            continue
        ident = to_halfwidth(clean_cell(cells[i_id] if i_id < len(cells) else ""))
        stratum = clean_cell(cells[i_st]) if i_st is not None and i_st < len(cells) else ("all" if i_st is None else "")
        if not ident:
            problems.append(Problem("empty identifier", str(path), rownum, id_column))
        elif ident in seen:
            problems.append(Problem(f"identifier {ident} repeated (first at row {seen[ident]})", str(path), rownum, id_column))
        elif not stratum:
            problems.append(Problem("empty stratum", str(path), rownum, stratum_column))
        else:
            seen[ident] = rownum
            rows.append((ident, stratum))
    if problems:
        raise ValidationFailed(f"{path}: cannot draw", problems)
    try:
        rule = QuotaRule.of(rate if rate is not None else n, rounding)
    except ValueError as exc:
        raise InspectError(str(exc)) from None
    strata = {s for _, s in rows}
    try:
        bundle = build_bundle(seed=seed, seed_source=seed_source, matter=Path(path).name, period="list",
                              rows=rows, rules={s: rule for s in strata})
    except ValueError as exc:
        raise InspectError(f"{path}: {exc}") from None
    return ListDraw(bundle)
