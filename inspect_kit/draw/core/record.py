"""A draw's record, pure: the commitment document, the sample digest, and every check of a
bundle's record block that does not need the database.

Version 2 bundles (``inspect_kit.draw.core.bundle``) carry, beside the frame, quotas and sample:

    "seed_derivation": {"rule", "public_seed", "ticket_group", "period", "salt"?}   # seeds.derive_seed
    "seed_source": {kind, ... , "evidence": {...}}      # the committed source and what proves the value
    "commitment": {matter, period, frame_sha256, committed_at, source, ticket_group, sealed,
                   salt_sha256, one_step, redraw_reason, sha256}
    "frames_of_period": [{frame_id, prepared_at, N, sha256, committed_at, source, drawn}]
    "coverage_history": [{period, draw_id, sample: [[identifier, stratum], ...]}]   # annual coverage
    "record": {draw_id, frame_id, frame_prepared_at, drawn_at, frame_as_of, redraw_of, reason, excluded,
               matter_spec_sha256, sample_sha256}
    "log": {"head", "entries": [consecutive entries up to the head], "records": [{kind, record_id, content}]}

``record_problems`` checks that these agree with each other and with the draw: the derived seed,
the source's evidence (a drand signature verified offline), the order of events (frozen ≤
committed < value published ≤ drawn), the re-draw's reason, the frame among those frozen, the
remaining pool of an annual-coverage draw, and that the log holds these very records; and the
values a citizen brings from earlier publications (``Expected``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_kit.draw.core.seeds import SEED_RULE, SeedError, SeedSource, derive_seed, salt_commitment, verify_evidence
from inspect_kit.transparency.chain import content_sha256, entry_from_dict, head_problems, segment_problems


def commitment_document(
    *,
    matter: str,
    period: str,
    frame_sha256: str,
    committed_at: dt.datetime,
    source: Mapping[str, Any],
    ticket_group: str,
    sealed: bool,
    salt_sha256: str | None,
    one_step: bool,
    redraw_reason: str | None,
) -> dict[str, Any]:
    return {
        "matter": matter,
        "period": period,
        "frame_sha256": frame_sha256,
        "committed_at": committed_at.isoformat(),
        "source": dict(source),
        "ticket_group": ticket_group,
        "sealed": sealed,
        "salt_sha256": salt_sha256,
        "one_step": one_step,
        "redraw_reason": redraw_reason,
    }


def commitment_sha256(doc: Mapping[str, Any]) -> str:
    """The commitment code a bureau publishes after `draw prepare` (SHA-256 of the canonical document)."""
    return content_sha256({k: v for k, v in doc.items() if k != "sha256"})


def sample_sha256(sample: Iterable[tuple[str, str, str, int]]) -> str:
    """SHA-256 over one line per drawn entity: stratum, identifier, ticket, rank (TAB-separated, LF)."""
    h = hashlib.sha256()
    for stratum, ident, ticket, rank in sample:
        h.update(f"{stratum}\t{ident}\t{ticket}\t{rank}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Expected:
    """Values published before the bundle, which it must match (`inspect verify --expect-...`)."""

    frame_sha256: str | None = None
    seed: str | None = None  # the public seed
    head: str | None = None  # a log head N:HASH printed on a notice
    commitment: str | None = None  # the commitment code published after `draw prepare`


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _source_problems(bundle: Mapping[str, Any], commitment: Mapping[str, Any]) -> tuple[SeedSource | None, list[str]]:
    src = bundle.get("seed_source")
    if not isinstance(src, Mapping):
        return None, ["the bundle has no structured seed source"]
    try:
        source = SeedSource.from_dict(src)
    except SeedError as exc:
        return None, [f"seed source: {exc}"]
    problems = []
    if {k: v for k, v in src.items() if k != "evidence"} != source.to_dict():
        problems.append(
            "the seed source's fields are not in normal form (e.g. a drand publication time that does "
            "not follow from the round)"
        )
    if commitment.get("source") != source.to_dict():
        problems.append("the seed source differs from the one named in the commitment")
    seed = bundle["seed_derivation"].get("public_seed")
    problems += verify_evidence(source, str(seed), src.get("evidence") or {})
    return source, problems


def _order_problems(bundle: Mapping[str, Any], source: SeedSource | None) -> list[str]:
    rec, com = bundle["record"], bundle["commitment"]
    frozen, committed, drawn = (
        _time(rec.get("frame_prepared_at")),
        _time(com.get("committed_at")),
        _time(rec.get("drawn_at")),
    )
    if None in (frozen, committed, drawn):
        return ["the record's times cannot be read (frame_prepared_at, committed_at, drawn_at)"]
    assert frozen and committed and drawn
    problems = []
    if committed < frozen:
        problems.append(f"the commitment ({committed}) predates the frame it names ({frozen})")
    if drawn < committed:
        problems.append(f"the draw ({drawn}) predates its commitment ({committed})")
    available = source.available_at() if source else None
    if source is not None and available is not None:
        if source.kind == "drand" and available <= committed:
            problems.append(
                f"drand round {source.round} was published at {available}, before the commitment "
                f"({committed}): its value was known when the frame was committed"
            )
        if source.kind == "lottery" and available.date() <= committed.date():
            problems.append(f"the lottery was drawn on {available.date()}, not after the commitment ({committed})")
        if drawn < available:
            problems.append(f"the draw ({drawn}) predates the publication of its seed ({available})")
    return problems


def _derivation_problems(bundle: Mapping[str, Any]) -> list[str]:
    d, com = bundle["seed_derivation"], bundle["commitment"]
    problems = []
    if d.get("rule") != SEED_RULE:
        return [f"unknown seed rule {d.get('rule')!r} (this version knows {SEED_RULE!r})"]
    if d.get("period") != bundle.get("period") or d.get("ticket_group") != com.get("ticket_group"):
        problems.append("the seed derivation names another period or ticket group than the draw")
    salt = d.get("salt")
    if com.get("sealed"):
        if not isinstance(salt, str):
            return problems + ["the draw is sealed and the bundle has no salt: it is not unsealed yet"]
        if salt_commitment(salt) != com.get("salt_sha256"):
            problems.append("the salt does not match the SHA-256 in the commitment")
    elif salt is not None:
        problems.append("an unsealed commitment, but the seed derivation has a salt")
    if not isinstance(d.get("public_seed"), str):
        return problems + ["the seed derivation has no public seed"]
    derived = derive_seed(
        d["public_seed"], str(d.get("ticket_group")), str(d.get("period")), salt if com.get("sealed") else None
    )
    if derived != bundle.get("seed"):
        problems.append(
            f"the draw's seed {bundle.get('seed')!r} is not derived from the public seed by the rule "
            f"(it should be {derived!r})"
        )
    return problems


def _commitment_problems(bundle: Mapping[str, Any]) -> list[str]:
    com = bundle["commitment"]
    problems = []
    if com.get("frame_sha256") != bundle["frame"]["sha256"]:
        problems.append(
            f"the commitment names frame {com.get('frame_sha256')}, the draw used {bundle['frame']['sha256']}"
        )
    if com.get("matter") != bundle.get("matter") or com.get("period") != bundle.get("period"):
        problems.append("the commitment is for another matter or period")
    if commitment_sha256(com) != com.get("sha256"):
        problems.append(f"the commitment's code is {com.get('sha256')}, its content hashes to {commitment_sha256(com)}")
    rec = bundle["record"]
    if rec.get("redraw_of") is not None and not (com.get("redraw_reason") or rec.get("reason")):
        problems.append(f"a re-draw of #{rec.get('redraw_of')} without a reason")
    frames = bundle.get("frames_of_period")
    if not isinstance(frames, list) or not any(
        isinstance(f, Mapping)
        and f.get("sha256") == com.get("frame_sha256")
        and f.get("frame_id") == rec.get("frame_id")
        for f in frames
    ):
        problems.append("the drawn frame is not among the frames listed as frozen for the period")
    return problems


def _coverage_problems(bundle: Mapping[str, Any], rows: Sequence[tuple[str, str]]) -> list[str]:
    covered = [s for s in bundle["strata"] if "coverage" in s]
    if not covered:
        return []
    history = bundle.get("coverage_history")
    if not isinstance(history, list):
        return ["an annual-coverage draw without the earlier samples of the year (coverage_history)"]
    earlier: list[tuple[str, str]] = []
    for h in history:
        earlier += [(str(i), str(s)) for i, s in h.get("sample", [])]
    problems = []
    in_frame = set(i for i, _ in rows) & {i for i, _ in earlier}
    if in_frame:
        problems.append(
            f"{len(in_frame)} entities drawn earlier this year are in the frame again, e.g. {sorted(in_frame)[0]!r}"
        )
    before = Counter(s for _, s in earlier)
    for s in covered:
        if s["coverage"].get("drawn_before") != before.get(s["stratum"], 0):
            problems.append(
                f"stratum {s['stratum']!r}: drawn_before is {s['coverage'].get('drawn_before')}, the "
                f"earlier samples listed hold {before.get(s['stratum'], 0)}"
            )
    return problems


def _log_problems(bundle: Mapping[str, Any], expected_head: str | None) -> list[str]:
    log = bundle.get("log")
    if not isinstance(log, Mapping):
        return ["the bundle carries no transparency-log entries"]
    try:
        chain = [entry_from_dict(e) for e in log.get("entries", [])]
    except ValueError as exc:
        return [f"log: {exc}"]
    problems = [f"log: {p}" for p in segment_problems(chain)]
    if not chain or chain[-1].head != log.get("head"):
        problems.append(f"log: the bundle's head {log.get('head')!r} is not the last entry it carries")
    by_key = {(e.kind, e.record_id): e for e in chain}
    contents = {}
    for r in log.get("records", []):
        key = (r.get("kind"), r.get("record_id"))
        entry = by_key.get(key)
        if entry is None:
            problems.append(f"log: {key[0]} #{key[1]} has no entry in the log segment")
        elif content_sha256(r.get("content")) != entry.content_sha256:
            problems.append(f"log: {key[0]} #{key[1]} differs from what entry {entry.seq} logged")
        contents[key[0]] = r.get("content") or {}
    rec, com = bundle["record"], bundle["commitment"]
    draw, frame, commit = contents.get("draw", {}), contents.get("frame", {}), contents.get("commitment", {})
    wanted = (
        (
            "draw",
            draw,
            {
                "id": rec.get("draw_id"),
                "sample_sha256": rec.get("sample_sha256"),
                "derived_seed": bundle.get("seed"),
                "seed": bundle["seed_derivation"].get("public_seed"),
            },
        ),
        ("frame", frame, {"id": rec.get("frame_id"), "frame_sha256": bundle["frame"]["sha256"]}),
        ("commitment", commit, {"commitment_sha256": com.get("sha256")}),
    )
    for kind, content, fields in wanted:
        for k, v in fields.items():
            if content.get(k) != v:
                problems.append(f"log: the logged {kind} has {k} {content.get(k)!r}, the bundle says {v!r}")
    if expected_head:
        problems += [f"log: {p}" for p in head_problems(chain, expected_head)]
    return problems


def record_problems(
    bundle: Mapping[str, Any], rows: Sequence[tuple[str, str]], sample_digest: str, expected: Expected = Expected()
) -> list[str]:
    """Every way a version-2 bundle's record disagrees with itself, its draw or ``expected``."""
    for key in ("seed_derivation", "commitment", "record"):
        if not isinstance(bundle.get(key), Mapping):
            return [f"{key!r} is missing or not an object"]
    problems = _commitment_problems(bundle) + _derivation_problems(bundle)
    source, source_problems = _source_problems(bundle, bundle["commitment"])
    problems += source_problems + _order_problems(bundle, source) + _coverage_problems(bundle, rows)
    if bundle["record"].get("sample_sha256") != sample_digest:
        problems.append(
            f"the sample's SHA-256 is {sample_digest}, the record says {bundle['record'].get('sample_sha256')}"
        )
    problems += _log_problems(bundle, expected.head)
    public = bundle["seed_derivation"].get("public_seed")
    return problems + expected_problems(bundle["frame"]["sha256"], public, bundle["commitment"].get("sha256"), expected)


def expected_problems(frame_sha: Any, public_seed: Any, commitment: Any, expected: Expected) -> list[str]:
    problems = []
    for what, want, got, fold in (
        ("frame SHA-256", expected.frame_sha256, frame_sha, True),
        ("public seed", expected.seed, public_seed, False),
        ("commitment code", expected.commitment, commitment, True),
    ):
        if want is None:
            continue
        same = want.strip().lower() == str(got).lower() if fold else want.strip() == str(got)
        if not same:
            problems.append(f"the {what} published earlier is {want!r}, the bundle has {got!r}")
    return problems
