"""The verification bundle: everything needed to re-run a draw, as a JSON-ready dict.

    {"format": "inspect-kit/draw-bundle", "version": 1,
     "algorithm": {"name": "consistent-sampler-sha256", "version": "1.0.10"},
     "seed": ..., "seed_source": ..., "matter": ..., "period": ...,
     "frame": {"sha256": ..., "rows": [[identifier, stratum], ...]},      # canonical order
     "strata": [{"stratum", "N", "quota", "rounding", "n", "explanation"}, ...],  # label order
     "sample": [{"stratum", "identifier", "ticket", "rank"}, ...]}        # stratum, then rank

Optional keys, present only when used: "on_duty_inspectors" (top level) for per-inspector
quotas, whose matter total is split across those strata by largest remainders; and in a
coverage-mode stratum "coverage": {"period", "periods", "drawn_before"} with quota "coverage".
Tickets are the package's full strings (64..78 digits). `verify_bundle` re-derives all of it from
the bundle alone.

A coordinated draw (inspect_kit.draw.core.coordination) adds "coordination": {"rule",
"yearly_seed", "group", "mode", "slot", "slots"(, "rotation" under rule 1)}, also inside its
commitment; its tickets and sample are re-derived from that entry and the seed derivation's public
seed (and salt) instead of "seed". Bundles of uncoordinated draws are unchanged.

Version 2 (draws from the database since per-draw seeds) keeps every key above — "seed" is the
seed the tickets use, so the citizen's check is unchanged — and adds the record of the draw's
procedure: the seed derivation, the structured seed source with its evidence, the commitment, the
frames frozen for the period, the earlier samples of an annual-coverage year and the transparency
log entries (see inspect_kit.draw.core.record, which checks them). Version 1 bundles (and list-file
draws, which have no commitment) still verify, without those checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .coordination import Coordination, draw_rows_coordinated, prn_tickets
from .coverage import CoverageRule, explain_coverage
from .frame import canonical_rows, draw_stratified, frame_problems, frame_sha256
from .quota import QuotaRule, SizeExplanation, allocate_largest_remainder, format_exact, sample_size
from .record import Expected, expected_problems, record_problems, sample_sha256
from .sampler import ALGORITHM_NAME, ALGORITHM_VERSION, tickets

BUNDLE_FORMAT = "inspect-kit/draw-bundle"
BUNDLE_VERSION = 2  # a draw from the database, with its commitment and log entries
PLAIN_BUNDLE_VERSION = 1  # frame, quotas and sample alone (list-file draws)
KNOWN_VERSIONS = (PLAIN_BUNDLE_VERSION, BUNDLE_VERSION)

Rule = QuotaRule | CoverageRule


def size_strata(
    sizes: Mapping[str, int],
    rules: Mapping[str, Rule],
    on_duty_inspectors: int | None = None,
) -> dict[str, SizeExplanation]:
    """n for every stratum, by label. Strata with a rule but no entities have N=0.

    Per-inspector strata share one matter total, rounding(multiple × inspectors) capped at their
    combined N, split in proportion to N by largest remainders (ties by label). They must all
    use the same quota and rounding.
    """
    unruled = sorted(set(sizes) - set(rules))
    if unruled:
        raise ValueError(f"no quota for strata {unruled}")
    population = {label: sizes.get(label, 0) for label in sorted(rules)}
    result: dict[str, SizeExplanation] = {}
    shared: dict[str, QuotaRule] = {}
    for label, rule in rules.items():
        if isinstance(rule, CoverageRule):
            result[label] = explain_coverage(population[label], rule)
        elif not isinstance(rule, QuotaRule):
            raise TypeError(f"stratum {label!r}: a rule must be a QuotaRule or CoverageRule")
        elif rule.quota.pooled:
            shared[label] = rule
        else:
            result[label] = sample_size(population[label], rule.quota, rule.rounding)
    if shared:
        result.update(_per_inspector_sizes(population, shared, on_duty_inspectors))
    return {label: result[label] for label in sorted(result)}


def _per_inspector_sizes(
    population: Mapping[str, int], rules: Mapping[str, QuotaRule], on_duty_inspectors: int | None
) -> dict[str, SizeExplanation]:
    if len(set(rules.values())) > 1:
        spelled = sorted({f"{r.quota} {r.rounding}" for r in rules.values()})
        raise ValueError(f"per-inspector strata of one matter must share one quota: {spelled}")
    rule = next(iter(rules.values()))
    group = {label: population[label] for label in rules}
    total = sample_size(sum(group.values()), rule.quota, rule.rounding, on_duty_inspectors)
    if len(group) == 1:
        return {label: total for label in group}
    allocation = allocate_largest_remainder(total.n, group)
    result = {}
    for label, N in group.items():
        share = Fraction(total.n * N, total.N) if total.N else Fraction(0)
        line = (
            f"N={N} of {total.N} in {len(group)} strata; matter total: {total.line}; "
            f"largest-remainder share {format_exact(share)} → {allocation[label]}"
        )
        result[label] = SizeExplanation(N, total.quota_text, total.rounding, share, allocation[label], line)
    return result


def build_bundle(
    *,
    seed: str,
    seed_source: str,
    matter: str,
    period: str,
    rows: Sequence[Sequence[str]],
    rules: Mapping[str, Rule],
    on_duty_inspectors: int | None = None,
) -> dict[str, Any]:
    """Size every stratum, draw, and return the bundle dict (see the module docstring)."""
    for name, value in (("seed", seed), ("seed_source", seed_source), ("matter", matter), ("period", period)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    canonical = canonical_rows(rows)
    sizes = size_strata(Counter(s for _, s in canonical), rules, on_duty_inspectors)
    draw = draw_stratified(seed, canonical, {label: size.n for label, size in sizes.items()})
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": PLAIN_BUNDLE_VERSION,
        "algorithm": {"name": ALGORITHM_NAME, "version": ALGORITHM_VERSION},
        "seed": seed,
        "seed_source": seed_source,
        "matter": matter,
        "period": period,
        "frame": {"sha256": draw.frame_sha256, "rows": [list(row) for row in canonical]},
        "strata": [_stratum_entry(label, rules[label], size) for label, size in sizes.items()],
        "sample": [
            {"stratum": stratum, "identifier": chosen.id, "ticket": chosen.ticket, "rank": chosen.rank}
            for stratum, chosen in draw.sample
        ],
    }
    if any(isinstance(r, QuotaRule) and r.quota.pooled for r in rules.values()):
        bundle["on_duty_inspectors"] = on_duty_inspectors
    return bundle


def _stratum_entry(label: str, rule: Rule, size: SizeExplanation) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "stratum": label,
        "N": size.N,
        "quota": size.quota_text,
        "rounding": size.rounding.value,
        "n": size.n,
        "explanation": size.line,
    }
    if isinstance(rule, CoverageRule):
        entry["coverage"] = {"period": rule.period, "periods": rule.periods, "drawn_before": rule.drawn_before}
    return entry


def _rule_from_entry(entry: Mapping[str, Any]) -> Rule:
    if "coverage" in entry:
        c = entry["coverage"]
        return CoverageRule(c["period"], c["periods"], c["drawn_before"])
    return QuotaRule.of(entry["quota"], entry["rounding"])


@dataclass
class DrawVerifyReport:
    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts that are not failures (e.g. no commitment)


_SHAPE: dict[str, type] = {
    "seed": str,
    "matter": str,
    "period": str,
    "frame": dict,
    "strata": list,
    "sample": list,
}
_STRATUM_KEYS = {"stratum", "N", "quota", "rounding", "n", "explanation"}
_SAMPLE_KEYS = {"stratum", "identifier", "ticket", "rank"}
# Only values used as dict keys or ranks need a fixed type up front; a wrong N, n or quota is
# reported later as a mismatch with its re-derived value.
_TYPES: dict[str, type] = {"stratum": str, "identifier": str, "ticket": str, "rank": int}


def _shape_problems(bundle: Any) -> list[str]:
    """Problems that make the rest of the bundle unreadable."""
    if not isinstance(bundle, Mapping):
        return ["the bundle is not a JSON object"]
    problems = []
    if bundle.get("format") != BUNDLE_FORMAT or bundle.get("version") not in KNOWN_VERSIONS:
        problems.append(
            f"not a {BUNDLE_FORMAT} bundle of version {' or '.join(map(str, KNOWN_VERSIONS))}: "
            f"format {bundle.get('format')!r}, version {bundle.get('version')!r}"
        )
    algorithm = {"name": ALGORITHM_NAME, "version": ALGORITHM_VERSION}
    if bundle.get("algorithm") != algorithm:
        problems.append(f"algorithm {bundle.get('algorithm')!r} is not {algorithm!r}")
    for key, kind in _SHAPE.items():
        if not isinstance(bundle.get(key), kind):
            problems.append(f"{key!r} is missing or not a {kind.__name__}")
    if problems:
        return problems
    frame = bundle["frame"]
    if not isinstance(frame.get("sha256"), str) or not isinstance(frame.get("rows"), list):
        problems.append("frame needs 'sha256' (text) and 'rows' (a list)")
    for where, items, keys in (("strata", bundle["strata"], _STRATUM_KEYS), ("sample", bundle["sample"], _SAMPLE_KEYS)):
        for number, item in enumerate(items, start=1):
            if not isinstance(item, Mapping) or not keys <= set(item):
                problems.append(f"{where} entry {number} lacks some of {sorted(keys)}")
                continue
            problems += [
                f"{where} entry {number}: {key!r} is not a {_TYPES[key].__name__}"
                for key in sorted(keys & set(_TYPES))
                if type(item[key]) is not _TYPES[key]
            ]
    return problems


def _preview(ids: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return f"[{shown}{f', … ({len(ids) - limit} more)' if len(ids) > limit else ''}]"


def verify_bundle(bundle: Mapping[str, Any], expected: Expected = Expected()) -> DrawVerifyReport:
    """Re-derive hash, sizes, sample and tickets from the bundle alone; list every mismatch.

    A version-2 bundle's record (commitment, seed derivation and source, order of events, log
    entries) is checked too, and so are values published earlier (``expected``)."""
    problems = _shape_problems(bundle)
    if not problems:
        problems = frame_problems(bundle["frame"]["rows"])
        problems = [f"frame: {p}" for p in problems]
    if problems:
        return DrawVerifyReport(False, problems)
    rows = canonical_rows(bundle["frame"]["rows"])
    stated_hash, actual_hash = bundle["frame"]["sha256"], frame_sha256(rows)
    if stated_hash != actual_hash:
        problems.append(f"frame hash mismatch: the bundle says {stated_hash}, its rows hash to {actual_hash}")
    sizes, size_problems = _check_strata(bundle, Counter(s for _, s in rows))
    problems += size_problems
    problems += _check_sample(bundle, rows, sizes)
    notes: list[str] = []
    digest = sample_sha256([(i["stratum"], i["identifier"], i["ticket"], i["rank"]) for i in bundle["sample"]])
    if bundle.get("version") == 2 and "commitment" in bundle:
        problems += record_problems(bundle, rows, digest, expected)
    else:
        seed = (
            bundle["seed_derivation"].get("public_seed")
            if isinstance(bundle.get("seed_derivation"), Mapping)
            else bundle["seed"]
        )
        problems += expected_problems(bundle["frame"]["sha256"], seed, None, expected)
        if expected.head or expected.commitment:
            problems.append(
                "this bundle has no commitment or log entries: a commitment code or a log head "
                "cannot be checked against it"
            )
        notes.append("no commitment: nothing shows that the seed was chosen after the frame was frozen")
    return DrawVerifyReport(not problems, problems, notes)


def _check_strata(bundle: Mapping[str, Any], counts: Counter[str]) -> tuple[dict[str, int], list[str]]:
    """The n to re-draw with per stratum, and every way the strata entries are wrong."""
    problems: list[str] = []
    entries: dict[str, Mapping[str, Any]] = {}
    for entry in bundle["strata"]:
        if entry["stratum"] in entries:
            problems.append(f"stratum {entry['stratum']!r} is listed twice")
        entries[entry["stratum"]] = entry
    for label in sorted(set(counts) - set(entries)):
        problems.append(f"stratum {label!r} has {counts[label]} rows in the frame but no quota")
    stated_n = {label: e["n"] for label, e in entries.items()}
    rules: dict[str, Rule] = {}
    for label, entry in entries.items():
        try:
            rules[label] = _rule_from_entry(entry)
        except (ValueError, TypeError, KeyError) as error:
            problems.append(f"stratum {label!r}: quota cannot be read: {error}")
    if problems:
        return stated_n, problems
    try:
        expected = size_strata(counts, rules, bundle.get("on_duty_inspectors"))
    except ValueError as error:
        return stated_n, [f"sample sizes cannot be re-derived: {error}"]
    for label, size in expected.items():
        entry = entries[label]
        if entry["N"] != size.N:
            problems.append(f"stratum {label!r}: N is {entry['N']!r}, but the frame has {size.N} rows in it")
        if entry["n"] != size.n:
            problems.append(
                f"stratum {label!r}: n={entry['n']!r} does not follow from the quota: {size.line} gives n={size.n}"
            )
        if entry["quota"] != size.quota_text or entry["rounding"] != size.rounding.value:
            problems.append(
                f"stratum {label!r}: quota/rounding {entry['quota']!r}/"
                f"{entry['rounding']!r} are not in normal form "
                f"{size.quota_text!r}/{size.rounding.value!r}"
            )
        if entry["explanation"] != size.line:
            problems.append(f"stratum {label!r}: explanation {entry['explanation']!r} should read {size.line!r}")
    return {label: size.n for label, size in expected.items()}, problems


def _check_sample(bundle: Mapping[str, Any], rows: list[tuple[str, str]], sizes: Mapping[str, int]) -> list[str]:
    problems: list[str] = []
    stratum_of = dict(rows)
    listed: dict[str, list[Mapping[str, Any]]] = {}
    for item in bundle["sample"]:
        identifier, stratum = item["identifier"], item["stratum"]
        if identifier not in stratum_of:
            problems.append(f"identifier {identifier!r} in the sample is not in the frame")
        elif stratum_of[identifier] != stratum:
            problems.append(
                f"identifier {identifier!r} is in stratum {stratum_of[identifier]!r} "
                f"in the frame but listed under {stratum!r} in the sample"
            )
        listed.setdefault(stratum, []).append(item)
    try:
        coord = _coordination(bundle)
        if coord is not None:
            draw = draw_rows_coordinated(coord, rows, dict(sizes), bundle["seed"])
        else:
            draw = draw_stratified(bundle["seed"], rows, dict(sizes))
    except (ValueError, TypeError, KeyError) as error:
        return problems + [f"the draw cannot be re-run: {error}"]
    for drawn in draw.strata:
        items = listed.pop(drawn.stratum, [])
        expected = [chosen.id for chosen in drawn.selected]
        got = [item["identifier"] for item in items]
        if got != expected:
            expected_set, got_set = set(expected), set(got)
            unexpected = [i for i in got if i not in expected_set]
            missing = [i for i in expected if i not in got_set]
            detail = (
                f"listed but not drawn {_preview(unexpected)}, drawn but not listed {_preview(missing)}"
                if unexpected or missing
                else "same ids, other order"
            )
            problems.append(
                f"sample differs in stratum {drawn.stratum!r}: expected "
                f"{_preview(expected)}, got {_preview(got)} ({detail})"
            )
        ranks = [item["rank"] for item in items]
        if ranks != list(range(1, len(items) + 1)):
            problems.append(f"stratum {drawn.stratum!r}: ranks are {ranks[:10]}, expected 1..{len(items)} in order")
    for stratum in sorted(listed):
        problems.append(f"the sample lists stratum {stratum!r}, which the draw does not have")
    problems += _check_tickets(bundle, set(stratum_of))
    return problems


def _coordination(bundle: Mapping[str, Any]) -> Coordination | None:
    """The bundle's coordination (a coordinated draw's tickets come from it, not from "seed").
    A version-2 bundle's must be the one its commitment names (the commitment code covers it)."""
    entry = bundle.get("coordination")
    committed = bundle["commitment"].get("coordination") if isinstance(bundle.get("commitment"), Mapping) else entry
    if entry != committed:
        raise ValueError("the bundle's coordination is not the one its commitment names")
    return Coordination.of_bundle(entry, bundle.get("seed_derivation")) if entry is not None else None


def _check_tickets(bundle: Mapping[str, Any], frame_ids: set[str], limit: int = 5) -> list[str]:
    items = [item for item in bundle["sample"] if item["identifier"] in frame_ids]
    coord = _coordination(bundle)
    if coord is not None:
        ids = [i["identifier"] for i in items]
        bad = [
            f"ticket of {item['identifier']!r} is {item['ticket']!r}, but the coordination gives {expected!r}"
            for item, expected in zip(items, prn_tickets(coord, ids))
            if item["ticket"] != expected
        ]
        return bad[:limit] + ([f"… and {len(bad) - limit} more wrong tickets"] if len(bad) > limit else [])
    # A bad seed or wrong ids are caught above; here each listed ticket must be the id's own.
    wrong = [
        f"ticket of {item['identifier']!r} is {item['ticket']!r}, but seed {bundle['seed']!r} gives {expected!r}"
        for item, expected in zip(items, tickets(bundle["seed"], [i["identifier"] for i in items]))
        if item["ticket"] != expected
    ]
    if len(wrong) > 1 and len(wrong) == len(items):
        summary = (
            f"none of the {len(items)} listed tickets belongs to seed {bundle['seed']!r}: "
            f"the seed or the tickets were changed"
        )
        return [summary] + wrong[:limit]
    if len(wrong) > limit:
        wrong = wrong[:limit] + [f"… and {len(wrong) - limit} more wrong tickets"]
    return wrong
