"""The inspections of a year as the caps count them (see inspect_kit.draw.core.caps), from the
database: tasks of current draws, and members of frames committed but not drawn yet.

A sealed draw (保密抽查) not yet unsealed counts as a reservation of its whole frame, like a frame
not drawn yet: its tasks would name, in later frames' exclusions (public in their bundles and
notices), the entities it drew before it may be known. Once unsealed, its tasks count."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Engine, func, select

from inspect_kit.config import Config
from inspect_kit.config.models import Matter
from inspect_kit.draw.core.caps import Burden, CapHit, CapRules, Inspection, burden, capped
from inspect_kit.storage.models import Commitment, Draw, Entity, Frame, Task, Unsealing


def _members(blob: bytes) -> list[str]:
    from inspect_kit.draw.store.export import frame_rows_from_blob

    return [row[0] for row in frame_rows_from_blob(blob)] if blob else []


def _unit(config: Config, code: str) -> str:
    return next((m.unit for m in config.matters if m.code == code), "?")


def year_inspections(
    conn: Connection,
    config: Config,
    year: int,
    *,
    skip: tuple[str, str] | None = None,
    reservations: bool = True,
    omit_sealed: bool = False,
) -> list[Inspection]:
    """Every task of the year's current draws, and (``reservations``, what a frame being frozen
    counts) every member of a latest commitment's frame not drawn yet or of a sealed draw not yet
    unsealed, in place of its tasks; ``skip``: the (matter, period) being frozen again. Without
    ``reservations`` (`inspect burden`, for staff) a sealed draw counts its real tasks, and with
    ``omit_sealed`` (the public page) not at all until it is unsealed."""
    from inspect_kit.draw.store.tasks import current_draw_ids

    prefix = str(year)
    current = {k: i for k, i in current_draw_ids(conn).items() if k[1][:4] == prefix and k != skip}
    out: list[Inspection] = []
    if current:
        sealed = (
            []
            if not (reservations or omit_sealed)
            else conn.execute(
                select(Draw.id, Draw.matter_code, Frame.id, Frame.frame_blob)
                .join(Commitment, Commitment.id == Draw.commitment_id)
                .join(Frame, Frame.id == Draw.frame_id)
                .where(
                    Draw.id.in_(list(current.values())),
                    Commitment.sealed.is_(True),
                    ~select(Unsealing.id).where(Unsealing.commitment_id == Commitment.id).exists(),
                )
            ).all()
        )
        if reservations:  # the sealed draw's frame stands for its secret sample
            for d, m, frame_id, blob in sealed:
                why = f"frame #{frame_id} (sealed draw #{d}, not unsealed yet)"
                out += [Inspection(ident, m, _unit(config, m), why) for ident in _members(blob)]
        hidden = {row[0] for row in sealed}
        rows = conn.execute(
            select(Task.identifier, Draw.matter_code, Draw.id)
            .join(Draw, Draw.id == Task.draw_id)
            .where(Task.draw_id.in_([i for i in current.values() if i not in hidden]))
        )
        out += [Inspection(ident, m, _unit(config, m), f"draw #{d}") for ident, m, d in rows]
    if reservations:
        latest = (
            select(func.max(Commitment.id))
            .where(Commitment.period.like(f"{prefix}%"))
            .group_by(Commitment.matter_code, Commitment.period)
        )
        pending = conn.execute(
            select(Commitment.matter_code, Commitment.period, Frame.id, Frame.frame_blob)
            .join(Frame, Frame.id == Commitment.frame_id)
            .where(Commitment.id.in_(latest), ~select(Draw.id).where(Draw.commitment_id == Commitment.id).exists())
        )
        for m, p, frame_id, blob in pending:
            if (m, p) == skip:
                continue
            unit = _unit(config, m)
            out += [Inspection(ident, m, unit, f"frame #{frame_id} (not drawn yet)") for ident in _members(blob)]
    return out


def cap_hits(conn: Connection, config: Config, matter: Matter, period_label: str) -> Mapping[str, CapHit]:
    """The entities of the matter's categories at their cap before this (matter, period) is frozen."""
    settings = config.settings.burden
    if settings is None:
        return {}
    rules = CapRules.from_settings(settings)
    if not rules.counts(matter.code):
        return {}
    done = year_inspections(conn, config, int(period_label[:4]), skip=(matter.code, period_label))
    if not done:
        return {}
    counted = {i.identifier for i in done}
    entities = conn.execute(
        select(Entity.identifier, Entity.category, Entity.credit_class).where(
            Entity.category.in_(matter.categories), Entity.identifier.in_(sorted(counted))
        )
    ).all()
    return capped(rules, [(e[0], e[1], e[2]) for e in entities], done, matter.unit)


def recount(conn: Connection, sources: set[str]) -> dict[str, dict[str, int]]:
    """identifier → {source: inspections} for "draw #N" sources, from the logged tasks; frames
    (reservations) from their logged blobs."""
    out: dict[str, dict[str, int]] = {}
    draw_ids = [int(s.split("#")[1]) for s in sources if s.startswith("draw #")]
    if draw_ids:
        for ident, d in conn.execute(select(Task.identifier, Task.draw_id).where(Task.draw_id.in_(draw_ids))):
            slot = out.setdefault(ident, {})
            slot[f"draw #{d}"] = slot.get(f"draw #{d}", 0) + 1
    for s in sources:
        if s.startswith("frame #"):
            frame_id = int(s.split("#")[1].split()[0])
            blob = conn.execute(select(Frame.frame_blob).where(Frame.id == frame_id)).scalar()
            for ident in _members(blob or b""):
                slot = out.setdefault(ident, {})
                slot[s] = slot.get(s, 0) + 1
    return out


def burden_summary(engine: Engine, config: Config, year: int, *, public: bool = False) -> Burden:
    """`inspect burden`: the year's inspections per entity by unit (current draws only); ``public``:
    without the sealed draws not unsealed yet (for the public page's aggregates)."""
    settings = config.settings.burden
    rules = CapRules.from_settings(settings) if settings is not None else None
    with engine.connect() as conn:
        done = year_inspections(conn, config, year, reservations=False, omit_sealed=public)
        idents = sorted({i.identifier for i in done})
        entities: dict[str, tuple[str, str | None, str | None]] = {}
        for k in range(0, len(idents), 500):
            for ident, name, cat, credit in conn.execute(
                select(Entity.identifier, Entity.name, Entity.category, Entity.credit_class).where(
                    Entity.identifier.in_(idents[k : k + 500])
                )
            ):
                entities[ident] = (name, cat, credit)
        active = conn.execute(select(func.count()).select_from(Entity).where(Entity.status == "active")).scalar_one()
    return burden(year, rules, done, entities, active)
