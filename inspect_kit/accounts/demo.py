"""Demo step: one account per person who works in the web application (no shared accounts).

An administrator, an assessor of the county's 营商办, a coordinator and a reviewer for each
department, and the officers on the demo's most recent teams (their 执法证号 as login name). The
passwords are random for each demo run and printed with the accounts: the demo's, and only the
demo's, passwords are ever shown (also written to demo-accounts.txt beside the database).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

if TYPE_CHECKING:
    from inspect_kit.demo import DemoContext

OFFICERS_PER_UNIT = 2


def _officers(ctx: DemoContext) -> list[tuple[str, str]]:
    """(执法证号, unit) of officers on the latest assigned teams, a few per department."""
    from inspect_kit.storage.models import Assignment, Inspector, TeamMember

    stmt = (
        select(Inspector.cert_no, Inspector.department, Assignment.period)
        .join(TeamMember, TeamMember.inspector_id == Inspector.id)
        .join(Assignment, Assignment.id == TeamMember.assignment_id)
        .where(Inspector.kind == "officer")
        .order_by(Assignment.period.desc(), Inspector.cert_no)
    )
    chosen: dict[str, list[str]] = {}
    with ctx.engine.connect() as conn:
        for cert, unit, _period in conn.execute(stmt):
            picks = chosen.setdefault(unit, [])
            if cert not in picks and len(picks) < OFFICERS_PER_UNIT:
                picks.append(cert)
    return [(cert, unit) for unit, certs in sorted(chosen.items()) for cert in certs]


def run(ctx: DemoContext) -> None:
    from inspect_kit.accounts.service import add_user
    from inspect_kit.demo import LOADED_AT

    departments = [u.code for u in ctx.config.units if u.kind == "department"]
    people: list[tuple[str, str, str | None, str | None]] = [("county.admin", "admin", None, None)]
    people.append(("yingshang.assessor", "assessor", None, None))
    for code in departments:
        people.append((f"{code.lower()}.coordinator", "coordinator", code, None))
        people.append((f"{code.lower()}.reviewer", "reviewer", code, None))
    people.extend((cert, "inspector", None, cert) for cert, _unit in _officers(ctx))
    lines = []
    for name, role, unit, cert in people:
        password = secrets.token_urlsafe(9)
        add_user(ctx.engine, name, role, password, LOADED_AT, unit_code=unit, cert_no=cert)
        lines.append((name, role, unit or "", password))
    ctx.table(
        "Demo accounts for `inspect serve` (passwords of this demo run)", ["user", "role", "unit", "password"], lines
    )
    (ctx.out / "demo-accounts.txt").write_text(
        "".join(f"{n}\t{r}\t{u}\t{p}\n" for n, r, u, p in lines), encoding="utf-8"
    )
    ctx.results["accounts"] = lines
