"""Scoring runs: collect every unit's inputs, score them, store the run; and read stored runs back.

A run is stored with the rulebook's text and hash, the canonical inputs and the results, so that
it can be re-scored at any time without the records it came from: `load_run` re-scores and
refuses a run that no longer reproduces, `verify_run` checks every fingerprint and reports each
difference, `list_runs` lists them. `explain_unit` and `unit_flags` put a stored unit's result
into words for `inspect score explain`, the ranking and the PDF report.

One module over 400 lines on purpose: storing a run and reading it back (load, verify, explain) are
the writer and the readers of one stored format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row, select

from inspect_kit.errors import InspectError
from inspect_kit.score.engine import score
from inspect_kit.score.explain import explain
from inspect_kit.score.inputs import MetricValue, UnitInputs, from_canonical, inputs_sha256, to_canonical
from inspect_kit.score.manual import manual_history, manual_inputs
from inspect_kit.score.metric_values import metrics_of
from inspect_kit.score.policy import DEFAULT_POLICY, ScorePolicy, check_as_of
from inspect_kit.score.records import load_snapshot
from inspect_kit.score.results import ScoringRun, UnitResult
from inspect_kit.score.rulebook import Rulebook, loads
from inspect_kit.storage.helpers import insert_id
from inspect_kit.transparency.store import append_pending

INPUTS_FORMAT = "inspect-kit/score-inputs/1"


@dataclass(frozen=True)
class CollectedInputs:
    year: int
    as_of: dt.date
    units: list[UnitInputs]
    warnings: list[str]


def collect_inputs(
    engine: Engine, rulebook: Rulebook, year: int, *, as_of: dt.date, policy: ScorePolicy = DEFAULT_POLICY
) -> CollectedInputs:
    """Every unit's inputs for the rulebook: the metrics it names, computed from the records as of
    `as_of`, and the current manual values and judgement deductions of the year."""
    check_as_of(year, as_of)
    keys = {i.metric for i in rulebook.indicators if i.metric is not None}
    with engine.connect() as conn:
        snap = load_snapshot(conn, year, as_of)
    if not snap.units:
        raise InspectError("no units in the database; run `inspect config load` first")
    metrics = metrics_of(snap, policy, keys)
    manual, judgements, warnings = manual_inputs(manual_history(engine, year), rulebook, {c for c, _, _ in snap.units})
    units = [
        UnitInputs(
            code,
            name,
            kind,
            metrics[code],
            dict(manual.get(code, {})),
            {k: list(v) for k, v in judgements.get(code, {}).items()},
        )
        for code, name, kind in snap.units
    ]
    return CollectedInputs(year, as_of, units, snap.warnings + warnings)


@dataclass(frozen=True)
class StoredRun:
    """A scoring run as stored, with its rulebook and inputs, re-scored into result objects."""

    id: int
    year: int
    as_of: dt.date
    created_at: dt.datetime
    rulebook: Rulebook
    inputs: list[UnitInputs]
    run: ScoringRun
    warnings: list[str]
    stored_results: dict[str, Any] = field(repr=False)

    def unit_inputs(self, code: str) -> UnitInputs:
        for u in self.inputs:
            if u.code == code:
                return u
        raise KeyError(code)

    def ranking(self) -> list[dict[str, Any]]:
        return [
            {
                "group": u.group,
                "rank": u.rank,
                "code": u.code,
                "name": u.name,
                "kind": u.unit_kind,
                "total": str(u.total),
                "grade": u.grade,
                "score_grade": u.score_grade,
                "flags": unit_flags(u),
            }
            for u in self.run.units
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "year": self.year,
            "as_of": self.as_of.isoformat(),
            "created_at": self.created_at.isoformat(),
            "rulebook": {
                "name": self.run.rulebook_name,
                "version": self.run.rulebook_version,
                "sha256": self.run.rulebook_sha256,
            },
            "inputs_sha256": self.run.inputs_sha256,
            "warnings": list(self.warnings) + list(self.run.warnings),
            "ranking": self.ranking(),
        }


@dataclass(frozen=True)
class RunInfo:
    id: int
    year: int
    as_of: str
    created_at: dt.datetime
    rulebook_version: str
    rulebook_sha256: str
    inputs_sha256: str
    units: int


def _json_norm(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, sort_keys=True))


def run_scoring(
    engine: Engine,
    rulebook: Rulebook,
    year: int,
    *,
    as_of: dt.date,
    now: dt.datetime,
    policy: ScorePolicy = DEFAULT_POLICY,
    by: str | None = None,
) -> StoredRun:
    """Collect the inputs, score every unit and store the run (rulebook text and hash, canonical
    inputs, results; `by`: the web user who ran it, None from the CLI). Raises ValidationFailed
    when the engine refuses the inputs."""
    collected = collect_inputs(engine, rulebook, year, as_of=as_of, policy=policy)
    run = score(rulebook, collected.units)
    canonical = to_canonical(collected.units)
    inputs = {
        "format": INPUTS_FORMAT,
        "year": year,
        "as_of": as_of.isoformat(),
        "units": canonical,
        "inputs_sha256": run.inputs_sha256,
        "rulebook_model_sha256": rulebook.model_sha256,
        "warnings": collected.warnings,
    }
    results = _json_norm(run.as_dict())
    from inspect_kit.storage.models import ScoringRun as RunRow

    with engine.begin() as conn:
        run_id = insert_id(
            conn,
            RunRow.__table__,
            year=year,
            created_at=now,
            rulebook_text=rulebook.source_text,
            rulebook_sha256=rulebook.source_sha256,
            rulebook_version=rulebook.version,
            inputs=inputs,
            results=results,
            by=by,
        )
        append_pending(conn, now)
    return StoredRun(run_id, year, as_of, now, rulebook, from_canonical(canonical), run, collected.warnings, results)


def _run_row(conn: Connection, run_id: int | None, year: int | None) -> Row[Any]:
    from inspect_kit.storage.models import ScoringRun as RunRow

    if run_id is not None:
        row = conn.execute(select(RunRow.__table__).where(RunRow.id == run_id)).first()
        if row is None:
            raise InspectError(f"no scoring run #{run_id}; `inspect score runs` lists them")
        return row
    if year is None:
        raise InspectError("give a run id or a year")
    row = conn.execute(select(RunRow.__table__).where(RunRow.year == year).order_by(RunRow.id.desc()).limit(1)).first()
    if row is None:
        raise InspectError(f"no scoring run for {year} yet; run `inspect score --year {year}` first")
    return row


def load_run(engine: Engine, run_id: int | None = None, *, year: int | None = None, check: bool = True) -> StoredRun:
    """A stored run (by id, or the latest of `year`), re-scored from its stored rulebook text and
    inputs. With `check`, a run that does not reproduce its stored results is refused."""
    with engine.connect() as conn:
        row = _run_row(conn, run_id, year)
    rulebook = loads(row.rulebook_text, file=f"scoring run #{row.id}")
    units = from_canonical(row.inputs["units"])
    run = score(rulebook, units)
    if check and _json_norm(run.as_dict()) != _json_norm(row.results):
        raise InspectError(
            f"scoring run #{row.id} does not reproduce its stored results; see `inspect score verify {row.id}`"
        )
    return StoredRun(
        row.id,
        row.year,
        dt.date.fromisoformat(row.inputs["as_of"]),
        row.created_at,
        rulebook,
        units,
        run,
        list(row.inputs.get("warnings", [])),
        row.results,
    )


def list_runs(engine: Engine, year: int | None = None) -> list[RunInfo]:
    from inspect_kit.storage.models import ScoringRun as RunRow

    stmt = select(
        RunRow.id, RunRow.year, RunRow.created_at, RunRow.rulebook_version, RunRow.rulebook_sha256, RunRow.inputs
    ).order_by(RunRow.id)
    if year is not None:
        stmt = stmt.where(RunRow.year == year)
    with engine.connect() as conn:
        return [
            RunInfo(
                r.id,
                r.year,
                str(r.inputs.get("as_of", "")),
                r.created_at,
                r.rulebook_version,
                r.rulebook_sha256,
                str(r.inputs.get("inputs_sha256", "")),
                len(r.inputs.get("units", [])),
            )
            for r in conn.execute(stmt)
        ]


@dataclass(frozen=True)
class VerifyCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ScoringVerifyReport:
    run_id: int
    checks: list[VerifyCheck]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        out = [f"scoring run #{self.run_id}: {'REPRODUCED' if self.ok else 'NOT REPRODUCED'}"]
        out += [f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        return out


def _differences(a: Any, b: Any, path: str = "", limit: int = 10) -> list[str]:
    out: list[str] = []

    def walk(x: Any, y: Any, p: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{p}.{k}" if p else str(k))
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y)):
                label = (
                    u.get("code")
                    if isinstance(u, dict) and u.get("code")
                    else (u.get("key") if isinstance(u, dict) else None)
                )
                walk(u, v, f"{p}[{label or i}]")
        elif x != y:
            out.append(
                f"{p}: stored {json.dumps(x, ensure_ascii=False)[:60]}, re-scored {json.dumps(y, ensure_ascii=False)[:60]}"
            )

    walk(a, b, path)
    return out


def verify_run(engine: Engine, run_id: int) -> ScoringVerifyReport:
    """Re-score a stored run's inputs with its stored rulebook text; check every fingerprint and
    that the results are identical."""
    with engine.connect() as conn:
        row = _run_row(conn, run_id, None)
    checks: list[VerifyCheck] = []
    text_sha = hashlib.sha256(row.rulebook_text.removeprefix("\ufeff").encode("utf-8")).hexdigest()
    checks.append(
        VerifyCheck(
            "rulebook text SHA-256",
            text_sha == row.rulebook_sha256,
            f"stored {row.rulebook_sha256[:16]}…, text hashes to {text_sha[:16]}…",
        )
    )
    try:
        rulebook = loads(row.rulebook_text, file=f"scoring run #{row.id}")
    except InspectError as exc:
        checks.append(VerifyCheck("rulebook loads", False, str(exc).splitlines()[0]))
        return ScoringVerifyReport(row.id, checks)
    checks.append(VerifyCheck("rulebook loads", True, f"{rulebook.name}, version {rulebook.version}"))
    checks.append(
        VerifyCheck(
            "rulebook version",
            rulebook.version == row.rulebook_version,
            f"stored {row.rulebook_version}, text says {rulebook.version}",
        )
    )
    try:
        units = from_canonical(row.inputs["units"])
        sha = inputs_sha256(units)
    except (KeyError, TypeError, ValueError) as exc:
        checks.append(VerifyCheck("inputs", False, f"stored inputs cannot be read: {exc}"))
        return ScoringVerifyReport(row.id, checks)
    stored_sha = row.inputs.get("inputs_sha256")
    checks.append(
        VerifyCheck(
            "inputs SHA-256",
            sha == stored_sha == row.results.get("inputs_sha256"),
            f"stored {str(stored_sha)[:16]}…, inputs hash to {sha[:16]}…",
        )
    )
    try:
        run = score(rulebook, units)
    except InspectError as exc:
        checks.append(VerifyCheck("re-score", False, str(exc).splitlines()[0]))
        return ScoringVerifyReport(row.id, checks)
    diffs = _differences(_json_norm(row.results), _json_norm(run.as_dict()))
    checks.append(
        VerifyCheck(
            "results identical",
            not diffs,
            f"{len(run.units)} units, every total, grade, rank and indicator point the same"
            if not diffs
            else "; ".join(diffs),
        )
    )
    return ScoringVerifyReport(row.id, checks)


# -- presentation helpers ------------------------------------------------------------------------


def unit_flags(unit: UnitResult) -> list[str]:
    """Short remarks for a ranking line: vetoes, missing data, a grade that differs from the total's band."""
    out = [f"一票否决：{i.name}" for i in unit.indicators if "veto" in i.flags]
    # Missing only costs points in base categories (an absent bonus, penalty or veto is "none").
    missing = [i.name for c in unit.categories if c.kind == "base" for i in c.indicators if "missing" in i.flags]
    if missing:
        out.append(f"数据缺失{len(missing)}项")
    if unit.grade != unit.score_grade:
        out.append(f"按总分应为{unit.score_grade}")
    return out


def explain_unit(stored: StoredRun, code: str, *, limit: int | None = 20) -> list[str]:
    """`explain()` of one unit, headed by the run, with the failing records behind each metric
    indicator whose rule does not cite them itself (linear and tier rules)."""
    try:
        unit = stored.run.unit(code)
    except KeyError:
        raise InspectError(
            f"unit {code!r} is not in scoring run #{stored.id}; units: {', '.join(u.code for u in stored.run.units)}"
        ) from None
    inputs = stored.unit_inputs(code)
    extra: dict[str, list[str]] = {}
    for ind in unit.indicators:
        value = inputs.metrics.get(ind.metric) if ind.metric else None
        if not isinstance(value, MetricValue) or any(r.ref for r in ind.records):
            continue
        failing = [r for r in value.records if not r.ok]
        if not failing:
            continue
        shown = failing if limit is None else failing[:limit]
        lines = [f"    未达标记录（{len(failing)}项）："] + [f"    · {r.ref}：{r.note}" for r in shown]
        if len(shown) < len(failing):
            lines.append(f"    · ……另有{len(failing) - len(shown)}项（--all 显示全部）")
        extra[f"  {ind.name}（{ind.key}）："] = lines
    out = [
        f"考评运行 #{stored.id}：{stored.year}年度，数据截至{stored.as_of.isoformat()}；"
        f"{stored.run.rulebook_name}（版本 {stored.run.rulebook_version}）"
    ]
    pending: list[str] | None = None
    for line in explain(unit):
        boundary = (line.startswith("  ") and not line.startswith("   ")) or line.startswith(("【", "合计："))
        if boundary and pending:
            out.extend(pending)
            pending = None
        out.append(line)
        for prefix, lines in extra.items():
            if line.startswith(prefix):
                pending = lines
    if pending:
        out.extend(pending)
    return out
