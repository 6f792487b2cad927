"""The roles of the web application: one declarative table (pure).

Each role says whether an account of it must name a unit (it acts for one department) and whether
it must name a 执法证号 (it is an officer of the inspectors registry). What each role may open is
declared route by route in inspect_kit.web.access; this table is the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    label: str  # the interface's Chinese name
    needs_unit: bool
    needs_cert: bool
    description: str


ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role("admin", "系统管理员", False, False, "accounts and configuration"),
        Role("coordinator", "部门联络员", True, False, "one unit: registries, draws, teams, publication"),
        Role("inspector", "执法检查人员", False, True, "the tasks of the teams the officer is on"),
        Role("reviewer", "审核人员", True, False, "one unit: approve or return its results"),
        Role("assessor", "考核人员", False, False, "scoring: manual values, runs, reports; read-only elsewhere"),
    )
}
ROLE_CODES: tuple[str, ...] = tuple(ROLES)


def role_problem(role: str, unit_code: str | None, cert_no: str | None) -> str | None:
    """Why this combination cannot be an account, or None."""
    spec = ROLES.get(role)
    if spec is None:
        return f"unknown role {role!r}; one of: {', '.join(ROLE_CODES)}"
    if spec.needs_unit and not unit_code:
        return f"role {role} acts for one unit: give --unit CODE"
    if spec.needs_cert and not cert_no:
        return f"role {role} is an officer of the inspectors registry: give --cert 执法证号"
    return None
