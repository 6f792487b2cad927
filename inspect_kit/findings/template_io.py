"""The findings template of a period, prefilled from the database (the file format is
inspect_kit.findings.template; reading a filled-in file back is findings.write.import_findings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from inspect_kit.errors import InspectError
from inspect_kit.findings.model import TemplateSummary
from inspect_kit.findings.policy import DEFAULT_POLICY, FindingsPolicy
from inspect_kit.findings.read import select_tasks
from inspect_kit.findings.records import current_teams, latest_revisions, stored_findings
from inspect_kit.findings.stored import stored_to_row
from inspect_kit.findings.template import TemplateSheet
from inspect_kit.periods import parse_period
from inspect_kit.storage.models import Matter


def write_template(
    engine: Engine, path: Path | str, *, period: str, matter: str | None = None, policy: FindingsPolicy = DEFAULT_POLICY
) -> TemplateSummary:
    """Write the findings template of `period`'s current tasks (one sheet per matter), prefilled
    with the findings already recorded; see `inspect_kit.findings.template`."""
    from inspect_kit.findings.template import write_template as write_file

    label = parse_period(period).label
    with engine.connect() as conn:
        tasks = select_tasks(conn, label, None, matter)
        if not tasks:
            which = f"matter {matter}" if matter else "any matter"
            raise InspectError(f"no drawn tasks of {which} for {label}; run the draw first")
        ids = [t.task_id for t in tasks]
        stored = stored_findings(conn, ids)
        latest = latest_revisions(conn, [f["id"] for f in stored.values()])
        teams = current_teams(conn, ids)
        matters = {
            code: (name, spec) for code, name, spec in conn.execute(select(Matter.code, Matter.name, Matter.spec))
        }
    sheets: dict[str, TemplateSheet] = {}
    prefilled: dict[str, int] = {}
    for t in tasks:
        sheet = sheets.get(t.matter_code)
        if sheet is None:
            name, spec = matters.get(t.matter_code, ("", {}))
            items = [(str(i["code"]), str(i.get("content", ""))) for i in (spec or {}).get("checklist") or []]
            sheet = sheets[t.matter_code] = TemplateSheet(t.matter_code, name, t.period, items=items)
        row: dict[str, Any] = {
            "task_no": t.task_no,
            "ref_entity_name": t.entity_name,
            "ref_identifier": t.identifier,
            "ref_township": t.township,
            "ref_team": teams.get(t.task_id, ""),
        }
        if t.task_id in stored:
            row.update(stored_to_row(stored[t.task_id], policy.codebook))
            rev = latest.get(stored[t.task_id]["id"])
            row["revision"] = rev[0] if rev else None
            prefilled[t.matter_code] = prefilled.get(t.matter_code, 0) + 1
        sheet.rows.append(row)
    ordered = [sheets[k] for k in sorted(sheets)]
    write_file(path, ordered, policy.codebook)
    return TemplateSummary(str(path), [(s.matter_code, len(s.rows), prefilled.get(s.matter_code, 0)) for s in ordered])
