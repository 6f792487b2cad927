"""`inspect publish plan`: the annual plan notice of a unit (inspect_kit.publish.notice_plan),
rendered with the registries' private values masked, checked by the public-output guard, written
and recorded in `notices` (kind 'plan', period the year) through the same `record_pdf` as every
public notice. The same config, year, issue date and fonts give byte-identical files.

Changes (计划调整情况): once a plan of the year listing any of the unit's matters has been recorded,
a later issue lists every change of those matters logged by `inspect config load` after that first
plan was recorded (``registry_changes`` of table 'matters', see inspect_kit.config.sync): a matter
added to, changed in or taken out of the configuration, described by
``notice_plan.describe_changes``, dated by the load. Changes to fields the plan does not print are
left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.publish import notice_plan
from inspect_kit.publish.notices import log_file_name

PLAN_FILE = "抽查计划"


@dataclass(frozen=True)
class PublishedPlan:
    notice_id: int
    year: int
    unit: str
    issuer: str
    path: Path
    sha256: str
    pages: int
    matter_codes: list[str]
    reissue_of: int | None = None

    def line(self) -> str:
        return (
            f"wrote {self.path}: {self.year} plan of {self.issuer}, {self.pages} pages, "
            f"{', '.join(self.matter_codes)}; sha256 {self.sha256}; notice #{self.notice_id}"
            + (f" (re-issue of notice #{self.reissue_of})" if self.reissue_of else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "notice_id": self.notice_id,
            "year": self.year,
            "unit": self.unit,
            "issuer": self.issuer,
            "path": str(self.path),
            "sha256": self.sha256,
            "pages": self.pages,
            "matter_codes": self.matter_codes,
            "reissue_of": self.reissue_of,
        }


def plan_file_name(year: int, unit: str | None = None) -> str:
    return f"{PLAN_FILE}-{year}" + (f"-{unit}" if unit else "") + ".pdf"


def plan_units(config: Config) -> list[str]:
    return notice_plan.plan_units(config.matters, config.units)


def _config_log(engine: Engine, config: Config) -> tuple[str, bytes]:
    """The log head, and the log excerpt relying on the config's import — which must be this very
    config (same SHA-256): a plan publishes only a configuration that was loaded and logged."""
    from sqlalchemy import select

    from inspect_kit.publish.service import bundle_bytes
    from inspect_kit.storage.models import ImportBatch
    from inspect_kit.transparency import store

    with engine.connect() as conn:
        batch = conn.execute(
            select(ImportBatch.id, ImportBatch.source_sha256)
            .where(ImportBatch.kind == "config")
            .order_by(ImportBatch.id.desc())
            .limit(1)
        ).first()
        if batch is None or batch.source_sha256 != config.sha256:
            raise InspectError(
                f"the config in {config.folder} is not the one last loaded into the database: run "
                "`inspect config load` first (a plan publishes a loaded, logged configuration)"
            )
        return store.head_text(conn), bundle_bytes(store.excerpt(conn, [("import_batch", batch.id)]))


def plan_changes(
    engine: Engine, year: int, codes: Sequence[str]
) -> tuple[dt.date | None, list[notice_plan.PlanChange]]:
    """(issue date of the first recorded plan of ``year`` naming any of ``codes``, the changes of
    the matters in it or in ``codes`` logged since it was recorded); (None, []) before any plan."""
    from sqlalchemy import select

    from inspect_kit.storage.models import Notice, RegistryChange

    with engine.connect() as conn:
        first = next(
            (
                n
                for n in conn.execute(
                    select(Notice.matter_codes, Notice.issued_on, Notice.created_at)
                    .where(Notice.kind == "plan", Notice.period == str(year))
                    .order_by(Notice.id)
                )
                if set(n.matter_codes or []) & set(codes)
            ),
            None,
        )
        if first is None:
            return None, []
        wanted = set(codes) | set(first.matter_codes or [])
        rows = conn.execute(
            select(RegistryChange.at, RegistryChange.key, RegistryChange.action, RegistryChange.changes)
            .where(RegistryChange.table_name == "matters", RegistryChange.at > first.created_at)
            .order_by(RegistryChange.id)
        ).all()
    out = []
    for r in rows:
        if r.key not in wanted:
            continue
        old, new = (r.changes or {}).get("spec") or [None, None]
        spec = new or old or {}
        name = str(spec.get("name") or r.key)
        if r.action == "insert":
            texts = ["新增抽查事项" if r.key in codes else "新增抽查事项（不列入本单位计划）"]
        elif r.action == "delete":
            texts = ["不再列入抽查计划"]
        else:
            texts = notice_plan.describe_changes(old or {}, new or {})
        out += [notice_plan.PlanChange(r.at.date(), r.key, name, t) for t in texts]
    return first.issued_on, out


def publish_plan(
    engine: Engine,
    config: Config,
    year: int,
    *,
    path: Path | str,
    issue_date: dt.date,
    now: dt.datetime,
    unit: str | None = None,
    fonts: Any = None,
    doc_number: str | None = None,
    creation_date: dt.datetime | dt.date | None = None,
    force: bool = False,
) -> PublishedPlan:
    """Write the plan of ``unit`` (or of the only unit with matters) for ``year`` and record it."""
    from inspect_kit.publish import privacy, render
    from inspect_kit.publish.service import check_target, fonts_from_config, private_values, record_pdf

    units = plan_units(config)
    if unit is None:
        if len(units) != 1:
            raise InspectError(
                f"the matters belong to several units ({', '.join(units)}): give --unit, or a "
                "folder as -o for one plan per unit"
            )
        unit = units[0]
    elif unit not in units:
        config.unit(unit)  # an unknown code: the error names units.toml
        raise InspectError(f"unit {unit} leads and takes part in no matter of {config.folder}/matters.toml")
    check_target(engine, path, force=force)  # before rendering: a refused target costs nothing
    head, log = _config_log(engine, config)
    first_issued, changes = plan_changes(engine, year, [m.code for m in notice_plan.plan_matters(config.matters, unit)])
    notice = notice_plan.build_plan_notice(
        config.matters,
        config.units,
        unit,
        year,
        issue_date,
        config.settings.findings.publicity_working_days,
        doc_number,
        head,
        changes,
        first_issued,
    )
    notice = dataclasses.replace(notice, files=[(log_file_name("plan", str(year)), log)])
    notice = privacy.mask_notice(notice, private_values(engine))  # as every notice: no registry's private value
    pdf = render(
        notice,
        fonts if fonts is not None else fonts_from_config(config),
        creation_date if creation_date is not None else issue_date,
    )
    codes = [m.code for m in notice_plan.plan_matters(config.matters, unit)]
    rec = record_pdf(
        engine, pdf, path, kind="plan", period=str(year), issued_on=issue_date, now=now, matter_codes=codes, force=force
    )
    return PublishedPlan(
        rec.notice_id, year, unit, notice.issuer, rec.path, rec.sha256, rec.pages, codes, rec.reissue_of
    )
