"""Yearly caps on inspections of one entity (频次上限), and the burden summary: pure.

What counts. One inspection = one task of a current draw (the latest draw of its matter and
period) of the year, of a matter not listed as outside the cap (complaints, special campaigns).
A frame frozen and committed but not yet drawn RESERVES one inspection for each of its members
(``reserved``): the frames of one draw meeting are frozen before any of them is drawn, so without
the reservation two matters could each take the last place under an entity's cap. A reservation
is conservative (most members are not drawn); it ends when the frame's draw exists.

The cap. Entity e (category c, credit class k) may have at most
cap(e) = min(total, per_category[c], per_credit_class[k]) inspections in the year (an absent
entry does not bind), and at most per_level[L] by units of level L. A matter of unit level L
leaves out of its frame every entity with counted(e) >= cap(e) or counted_L(e) >= per_level[L],
with the reason `CAP_REASON`; the frame lists each such entity with its count, its cap and the
draws (or frozen frames) behind the count, so anyone can re-count them from the logged samples
(`cap_detail_problems`). Because every new frame sees the earlier ones as reservations, the sum
over the year never exceeds the cap.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CAP_REASON = "at the yearly inspection cap (频次上限)"


@dataclass(frozen=True)
class CapRules:
    total: int | None = None
    per_level: Mapping[str, int] = field(default_factory=dict)
    per_category: Mapping[str, int] = field(default_factory=dict)
    per_credit_class: Mapping[str, int] = field(default_factory=dict)
    levels: Mapping[str, str] = field(default_factory=dict)
    default_level: str = "县级"
    outside_cap: frozenset[str] = frozenset()
    near: int = 1

    @classmethod
    def from_settings(cls, s: Any) -> "CapRules":
        """From config.models.BurdenSettings (or anything with its attributes)."""
        return cls(
            s.total,
            dict(s.per_level),
            dict(s.per_category),
            dict(s.per_credit_class),
            dict(s.levels),
            s.default_level,
            frozenset(s.outside_cap),
            s.near,
        )

    def level_of(self, unit: str) -> str:
        return self.levels.get(unit, self.default_level)

    def counts(self, matter: str) -> bool:
        return matter not in self.outside_cap

    def cap_of(self, category: str | None, credit_class: str | None) -> int | None:
        found = self.binding(category, credit_class)
        return found[0] if found is not None else None

    def binding(self, category: str | None, credit_class: str | None) -> tuple[int, str] | None:
        """The tightest yearly cap of an entity and what sets it ("total", "category X", "credit
        class K"; the first of these on a tie), or None when none applies."""
        found = [
            (c, scope)
            for c, scope in (
                (self.total, "total"),
                (self.per_category.get(category or ""), f"category {category}"),
                (self.per_credit_class.get(credit_class or ""), f"credit class {credit_class}"),
            )
            if c is not None
        ]
        return min(found, key=lambda f: f[0]) if found else None


@dataclass(frozen=True)
class Inspection:
    """One counted inspection (a task of a current draw) or reservation (a pending frame)."""

    identifier: str
    matter: str
    unit: str
    source: str  # "draw #12" or "frame #7 (not drawn yet)"


@dataclass(frozen=True)
class CapHit:
    identifier: str
    counted: int
    cap: int
    scope: str  # "total", "category X", "credit class K" or the level
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "counted": self.counted,
            "cap": self.cap,
            "scope": self.scope,
            "sources": list(self.sources),
        }


def capped(
    rules: CapRules,
    entities: Iterable[tuple[str, str | None, str | None]],
    inspections: Iterable[Inspection],
    unit: str,
) -> dict[str, CapHit]:
    """identifier → why it is at its cap, for a matter of `unit`, among (identifier, category,
    credit class) entities; inspections of matters outside the cap are ignored."""
    by_entity: dict[str, list[Inspection]] = defaultdict(list)
    for i in inspections:
        if rules.counts(i.matter):
            by_entity[i.identifier].append(i)
    level = rules.level_of(unit)
    level_cap = rules.per_level.get(level)
    out: dict[str, CapHit] = {}
    for identifier, category, credit in entities:
        done = by_entity.get(identifier)
        if not done:
            continue
        found = rules.binding(category, credit)
        if found is not None and len(done) >= found[0]:
            cap, scope = found
            out[identifier] = CapHit(identifier, len(done), cap, scope, tuple(sorted({i.source for i in done})))
            continue
        same_level = [i for i in done if rules.level_of(i.unit) == level]
        if level_cap is not None and len(same_level) >= level_cap:
            sources = tuple(sorted({i.source for i in same_level}))
            out[identifier] = CapHit(identifier, len(same_level), level_cap, level, sources)
    return out


def cap_detail_problems(detail: Sequence[Mapping[str, Any]], recount: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Check a frame's cap exclusions against a re-count from the logged records: ``recount`` maps
    identifier → {source: inspections of it there}. Every listed entity must have at least its
    cap in the sources it names."""
    problems = []
    for entry in detail:
        ident, cap = entry["identifier"], entry["cap"]
        found = sum(recount.get(ident, {}).get(src, 0) for src in entry["sources"])
        if found < cap:
            problems.append(
                f"{ident} was left out at its cap of {cap}, but the records it names "
                f"({', '.join(entry['sources'])}) hold only {found} inspection(s) of it"
            )
    return problems


@dataclass(frozen=True)
class BurdenRow:
    identifier: str
    name: str
    by_unit: dict[str, int]
    outside: int  # inspections outside the cap (complaints, campaigns)
    counted: int
    cap: int | None  # the entity's yearly cap in all (None: none binds)
    headroom: int | None  # inspections left before the tightest cap (total or a level's); None: no cap


@dataclass(frozen=True)
class Burden:
    year: int
    rows: tuple[BurdenRow, ...]  # entities inspected at least once, most inspected first
    distribution: dict[int, int]  # inspections counted → entities
    units: tuple[str, ...]
    near: int

    def at_or_near(self) -> list[tuple[BurdenRow, str]]:
        return [
            (r, "at cap" if r.headroom <= 0 else "near cap")
            for r in self.rows
            if r.headroom is not None and r.headroom <= self.near
        ]

    def unit_totals(self) -> dict[str, int]:
        """Inspections by unit (outside-cap ones included), in unit order."""
        totals: Counter[str] = Counter()
        for r in self.rows:
            totals.update(r.by_unit)
        return {u: totals[u] for u in self.units}

    def public_summary(self) -> dict[str, Any]:
        """Aggregates only (no entity): what a public page may show (issue 16)."""
        status = Counter(s for _, s in self.at_or_near())
        return {
            "year": self.year,
            "distribution": {str(k): v for k, v in sorted(self.distribution.items())},
            "by_unit": self.unit_totals(),
            "inspections": sum(r.counted + r.outside for r in self.rows),
            "entities_inspected": len(self.rows),
            "at_cap": status["at cap"],
            "near_cap": status["near cap"],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "units": list(self.units),
            "entities": [
                {
                    "identifier": r.identifier,
                    "name": r.name,
                    "by_unit": r.by_unit,
                    "counted": r.counted,
                    "outside_cap": r.outside,
                    "cap": r.cap,
                    "headroom": r.headroom,
                }
                for r in self.rows
            ],
            "at_or_near_cap": [{"identifier": r.identifier, "status": s} for r, s in self.at_or_near()],
            "distribution": {str(k): v for k, v in sorted(self.distribution.items())},
        }


def burden(
    year: int,
    rules: CapRules | None,
    inspections: Iterable[Inspection],
    entities: Mapping[str, tuple[str, str | None, str | None]],
    n_entities: int,
) -> Burden:
    """The year's inspections per entity by unit; ``entities``: identifier → (name, category,
    credit class) of those inspected; ``n_entities``: the registry's active entities (the
    distribution's zero)."""
    rules = rules or CapRules()
    units: set[str] = set()
    per: dict[str, Counter[str]] = defaultdict(Counter)
    levels: dict[str, Counter[str]] = defaultdict(Counter)
    outside: Counter[str] = Counter()
    for i in inspections:
        per[i.identifier][i.unit] += 1
        units.add(i.unit)
        if rules.counts(i.matter):
            levels[i.identifier][rules.level_of(i.unit)] += 1
        else:
            outside[i.identifier] += 1
    rows = []
    for ident, by_unit in per.items():
        name, category, credit = entities.get(ident, ("", None, None))
        counted = sum(by_unit.values()) - outside[ident]
        cap = rules.cap_of(category, credit)
        left = [cap - counted] if cap is not None else []
        left += [rules.per_level[lv] - n for lv, n in levels[ident].items() if lv in rules.per_level]
        headroom = min(left) if left else None
        rows.append(BurdenRow(ident, name, dict(sorted(by_unit.items())), outside[ident], counted, cap, headroom))
    rows.sort(key=lambda r: (-r.counted, r.identifier))
    distribution = Counter(r.counted for r in rows)
    distribution[0] += max(0, n_entities - len(rows))
    return Burden(year, tuple(rows), dict(distribution), tuple(sorted(units)), rules.near)
