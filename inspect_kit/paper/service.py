"""The papers of a lawful inspection against the database: read a task, its matter (config) and
its current team, build the paper (inspect_kit.paper.papers), render it, write it.

Library first: Engine, Config and plain values in, dataclasses out; the CLI (`inspect paper`) is
a thin shell. The caller gives the paper's date (``issue_date``); the same database state, config,
date and fonts give byte-identical files.

- A task must belong to the current draw of its matter and period and have a current team
  (`inspect assign`); otherwise nothing is written and the error names every such task.
- A paper names the team of its own task only, read from the task's current assignment
  (substitutes applied); phone numbers are never read.
- The 现场检查记录表 is filled from the task's recorded finding when it has results per item
  (inspect_kit.findings.items): the box of each item's result ticked, its note (and the problem
  category of a 不符合 item) in 说明; without them the boxes are blank.
- The planned dates default to the task's period (first to last day); ``visit_from`` /
  ``visit_to`` narrow them.
- The 检查通知书 needs ``[publish] public_base_url`` and ``verification_secret_file`` in
  settings.toml (see inspect_kit.paper.codes for the rule).
- Files: an existing file is never replaced without ``force``; for several tasks every target is
  checked and every paper rendered before the first file is written; each file is written to a
  temporary file and moved into place. These papers are not public notices: they are not recorded
  in `notices` (keep them out of the notices' folders, or `inspect publish check DIR` lists them).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.paper import codes
from inspect_kit.paper.papers import BUILDERS, KINDS, Item, Person, TaskPaper, file_name
from inspect_kit.periods import parse_period


@dataclass(frozen=True)
class WrittenPaper:
    kind: str
    task_no: str
    path: Path
    pages: int
    size: int
    sha256: str

    def line(self) -> str:
        return f"wrote {self.path}: {KINDS[self.kind]} of {self.task_no}, {self.pages} page(s); sha256 {self.sha256}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "task_no": self.task_no,
            "path": str(self.path),
            "pages": self.pages,
            "size": self.size,
            "sha256": self.sha256,
        }


def issuer_name(config: Config, unit_code: str) -> str:
    unit = config.unit(unit_code)
    return unit.issuer or unit.name


def verification_secret(config: Config) -> bytes:
    """The secret of settings.publish.verification_secret_file (relative to the config folder)."""
    name = config.settings.publish.verification_secret_file
    where = f"{config.folder}/settings.toml, key 'publish.verification_secret_file'"
    if not name:
        raise InspectError(
            f"{where}: not set; a 检查通知书 needs a verification secret (a file of at least "
            f"{codes.MIN_SECRET_CHARS} characters, kept out of version control)"
        )
    path = Path(name).expanduser()
    path = path if path.is_absolute() else config.folder / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InspectError(f"{where}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return codes.check_secret(text, f"{where} ({path})")


def task_verification(config: Config, task_no: str) -> tuple[str, str]:
    """(code, URL) of a task, from the settings."""
    base = config.settings.publish.public_base_url
    if not base:
        raise InspectError(
            f"{config.folder}/settings.toml, key 'publish.public_base_url': not set; the 检查通知书's "
            "QR code links to the task's public page under it"
        )
    code = codes.verification_code(verification_secret(config), task_no)
    return code, codes.verification_url(base, task_no, code)


def _unit_name(config: Config, code: str) -> str:
    return next((u.name for u in config.units if u.code == code), code)


def task_papers(
    engine: Engine,
    config: Config,
    *,
    task_no: str | None = None,
    period: str | None = None,
    matter: str | None = None,
    visit_from: dt.date | None = None,
    visit_to: dt.date | None = None,
    with_code: bool = False,
) -> list[TaskPaper]:
    """The data of the papers of one task (``task_no``) or of every current task of (period, matter)."""
    from inspect_kit.assign.service import current_assignments
    from inspect_kit.draw.store.tasks import current_draw_ids, current_tasks, task_by_no
    from inspect_kit.findings.items import items_of
    from inspect_kit.findings.records import stored_findings

    if (task_no is None) == (period is None):
        raise InspectError("give a task number, or a period (and a matter)")
    if visit_from and visit_to and visit_to < visit_from:
        raise InspectError(f"the visit ends ({visit_to}) before it starts ({visit_from})")
    with engine.connect() as conn:
        if task_no is not None:
            task = task_by_no(conn, task_no)
            if task is None:
                raise InspectError(f"no task {task_no!r}")
            current = current_draw_ids(conn, task.period, task.matter_code).get((task.matter_code, task.period))
            if current != task.draw_id:
                raise InspectError(
                    f"task {task_no} belongs to draw #{task.draw_id}, which draw #{current} has "
                    "superseded: it is not inspected"
                )
            tasks = [task]
        else:
            assert period is not None  # given when task_no is not
            label = parse_period(period).label
            tasks = current_tasks(conn, label, matter)
            if not tasks:
                raise InspectError(f"no tasks for {label}" + (f", matter {matter}" if matter else ""))
        stored = stored_findings(conn, [t.task_id for t in tasks])
    teams = {}
    for matter_code, period_label in sorted({(t.matter_code, t.period) for t in tasks}):
        for a in current_assignments(engine, period_label, matter_code):
            teams.update({team.task_id: team for team in a.teams})
    missing = [t.task_no for t in tasks if t.task_id not in teams]
    if missing:
        shown = ", ".join(missing[:10]) + (f" … ({len(missing)} in all)" if len(missing) > 10 else "")
        raise InspectError(f"no team assigned yet for {shown}: run `inspect assign` first (nothing was written)")
    out = []
    for t in tasks:
        m = config.matter(t.matter_code)
        team = teams[t.task_id]
        departments = [m.unit] + [d for d in m.team if d != m.unit]
        names = [issuer_name(config, d) for d in departments]
        authority = names[0] if len(names) == 1 else "、".join(names) + "（联合检查）"
        p = parse_period(t.period)
        code, url = task_verification(config, t.task_no) if with_code else (None, None)
        out.append(
            TaskPaper(
                task_no=t.task_no,
                period=t.period,
                authority=authority,
                issuer=issuer_name(config, m.unit),
                matter_code=m.code,
                matter_name=m.name,
                legal_basis=m.legal_basis,
                method=m.method,
                entity_name=t.entity_name,
                identifier=t.identifier,
                officers=tuple(Person(x.name, x.cert_no, _unit_name(config, x.department)) for x in team.officers),
                experts=tuple(Person(x.name, x.cert_no, _unit_name(config, x.department)) for x in team.experts),
                visit_from=visit_from or p.start,
                visit_to=visit_to or p.end,
                checklist=tuple(Item(i.code, i.content, i.basis, i.method) for i in m.checklist),
                materials=tuple(m.materials),
                verification_code=code,
                verification_url=url,
                item_results=items_of((stored.get(t.task_id) or {}).get("item_results")),
            )
        )
    return out


def render_paper(kind: str, paper: TaskPaper, issue_date: dt.date, fonts: Any = None) -> bytes:
    from inspect_kit.publish import render

    if kind not in BUILDERS:
        raise InspectError(f"no paper {kind!r}; known: {', '.join(BUILDERS)}")
    return render(BUILDERS[kind](paper, issue_date), fonts, issue_date)


def _check_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise InspectError(f"{path} is a folder: give a file name ending in .pdf")
    if not path.parent.is_dir():
        raise InspectError(f"{path.parent}: no such folder")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise InspectError(f"{path} exists and is not a regular file; nothing was written")
        with path.open("rb") as f:
            if f.read(5) != b"%PDF-":
                raise InspectError(f"{path} exists and is not a PDF: refusing to overwrite it (nothing was written)")
        if not force:
            raise InspectError(
                f"{path} exists: refusing to overwrite it; pass --force to replace it (nothing was written)"
            )


def _write(path: Path, pdf: bytes) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
            f.flush()
            os.fsync(f.fileno())
        Path(name).replace(path)
    finally:
        Path(name).unlink(missing_ok=True)


def write_papers(
    engine: Engine,
    config: Config,
    kind: str,
    *,
    output: Path | str,
    issue_date: dt.date,
    task_no: str | None = None,
    period: str | None = None,
    matter: str | None = None,
    visit_from: dt.date | None = None,
    visit_to: dt.date | None = None,
    fonts: Any = None,
    force: bool = False,
) -> list[WrittenPaper]:
    """Write the ``kind`` paper (approval, notice, record) of one task to the file ``output``, or of
    every current task of (period, matter) into the folder ``output`` as <纸名>-<task_no>.pdf."""
    import hashlib
    import io

    from pypdf import PdfReader

    from inspect_kit.publish.service import fonts_from_config

    if kind not in BUILDERS:
        raise InspectError(f"no paper {kind!r}; known: {', '.join(BUILDERS)}")
    papers = task_papers(
        engine,
        config,
        task_no=task_no,
        period=period,
        matter=matter,
        visit_from=visit_from,
        visit_to=visit_to,
        with_code=kind == "notice",
    )
    output = Path(output)
    if task_no is not None:
        targets = [output]
    else:
        output.mkdir(parents=True, exist_ok=True)
        targets = [output / file_name(kind, p.task_no) for p in papers]
    for path in targets:  # every target first: one refused file writes none
        _check_target(path, force)
    fonts = fonts if fonts is not None else fonts_from_config(config)
    rendered = [render_paper(kind, p, issue_date, fonts) for p in papers]
    out = []
    for paper, path, pdf in zip(papers, targets, rendered):
        _write(path, pdf)
        out.append(
            WrittenPaper(
                kind,
                paper.task_no,
                path,
                len(PdfReader(io.BytesIO(pdf)).pages),
                len(pdf),
                hashlib.sha256(pdf).hexdigest(),
            )
        )
    return out


def paper_kinds() -> Sequence[str]:
    return tuple(BUILDERS)
