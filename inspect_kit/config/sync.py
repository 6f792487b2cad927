"""Store the loaded config's units and matters in the database (one transaction, with history).

History: one ``import_batches`` row (kind 'config', the config's SHA-256) per load, and one
``registry_changes`` row per unit or matter added ('insert'), changed ('update': field → [old,
new], a matter's whole spec) or, for matters, taken out of the config ('delete', {"spec": [old,
null]}: the ``matters`` row stays, since draws name it; logged once, and a matter that comes back
is logged as 'insert' again). The annual plan's list of changes (inspect_kit.publish.plan_service)
reads this history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from inspect_kit.config.load import Config, matter_spec
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import ImportBatch, Matter, RegistryChange, Unit
from inspect_kit.transparency.store import append_pending


@dataclass
class SyncSummary:
    units_added: int = 0
    units_updated: int = 0
    matters_added: int = 0
    matters_updated: int = 0
    unchanged: int = 0
    matters_removed: int = 0

    def line(self) -> str:
        removed = f", {self.matters_removed} removed" if self.matters_removed else ""
        return (
            f"config: units {self.units_added} added, {self.units_updated} updated; matters "
            f"{self.matters_added} added, {self.matters_updated} updated{removed}; {self.unchanged} unchanged"
        )


def sync_config(engine: Engine, cfg: Config, now: dt.datetime) -> SyncSummary:
    s = SyncSummary()
    with engine.begin() as conn:
        batch = insert_id(
            conn, ImportBatch.__table__, kind="config", source=str(cfg.folder), source_sha256=cfg.sha256, at=now
        )
        log: list[tuple[str, str, str, dict[str, Any]]] = []
        existing_units = {r.code: r for r in conn.execute(select(Unit.__table__))}
        for u in cfg.units:
            row: dict[str, Any] = {
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "parent_code": u.parent,
                "division_code": u.division_code,
            }
            old = existing_units.get(u.code)
            if old is None:
                conn.execute(insert(Unit.__table__).values(row))
                s.units_added += 1
                log.append(("units", u.code, "insert", {k: [None, v] for k, v in row.items() if v is not None}))
            else:
                diff = {k: [getattr(old, k), v] for k, v in row.items() if getattr(old, k) != v}
                if diff:
                    conn.execute(update(Unit.__table__).where(Unit.code == u.code).values(row))
                    s.units_updated += 1
                    log.append(("units", u.code, "update", diff))
                else:
                    s.unchanged += 1
        existing = {r.code: r for r in conn.execute(select(Matter.__table__))}
        last_action = dict(
            conn.execute(
                select(RegistryChange.key, RegistryChange.action)
                .where(RegistryChange.table_name == "matters")
                .order_by(RegistryChange.id)
            ).all()
        )  # the latest action logged per matter (later rows overwrite earlier ones)
        for m in cfg.matters:
            spec, digest = matter_spec(m)
            row = {
                "code": m.code,
                "name": m.name,
                "unit_code": m.unit,
                "period": m.period,
                "spec": spec,
                "spec_sha256": digest,
                "loaded_at": now,
            }
            old = existing.get(m.code)
            if old is None:
                conn.execute(insert(Matter.__table__).values(row))
                s.matters_added += 1
                log.append(("matters", m.code, "insert", {"spec": [None, spec]}))
            elif last_action.get(m.code) == "delete":  # back in the config
                conn.execute(update(Matter.__table__).where(Matter.code == m.code).values(row))
                s.matters_added += 1
                log.append(("matters", m.code, "insert", {"spec": [None, spec]}))
            elif old.spec_sha256 != digest:
                conn.execute(update(Matter.__table__).where(Matter.code == m.code).values(row))
                s.matters_updated += 1
                log.append(("matters", m.code, "update", {"spec": [old.spec, spec]}))
            else:
                s.unchanged += 1
        loaded = {m.code for m in cfg.matters}
        for code, old in sorted(existing.items()):
            if code not in loaded and last_action.get(code) != "delete":
                s.matters_removed += 1
                log.append(("matters", code, "delete", {"spec": [old.spec, None]}))
        if log:
            conn.execute(
                insert(RegistryChange.__table__),
                [
                    {"batch_id": batch, "at": now, "table_name": t, "key": k, "action": a, "changes": c}
                    for t, k, a, c in log
                ],
            )
        conn.execute(
            update(ImportBatch.__table__)
            .where(ImportBatch.id == batch)
            .values(
                added=s.units_added + s.matters_added,
                updated=s.units_updated + s.matters_updated + s.matters_removed,
                unchanged=s.unchanged,
            )
        )
        append_pending(conn, now)
    return s
