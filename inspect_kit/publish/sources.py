"""What both notices read about a period: the current draw of every matter, the issuing unit and
its authority (from the config and the frames' stored matter specs), and the checks shared by the
notice builders (publish.build_draw, publish.build_results). Every query goes through
guard.public_select."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func

from inspect_kit.config import Config
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period, parse_period
from inspect_kit.publish import notices as nt
from inspect_kit.publish.fonts import FontConfig
from inspect_kit.publish.guard import public_select
from inspect_kit.storage.models import Draw, Frame


@dataclass(frozen=True)
class BuiltNotice:
    notice: Any  # publish.NoticeDocument with its files
    unit: str
    issuer: str
    period: str
    matter_codes: list[str]
    task_ids: list[int]
    pending_task_ids: list[int]
    pending_task_nos: list[str]
    # results notices: per matter {"matter", "period"} + Estimate.to_dict() (what the sample says)
    estimates: list[dict[str, Any]] = field(default_factory=list)


def fonts_from_config(config: Config) -> FontConfig:
    """The FontConfig of settings.publish (None: the shipped free fonts). A relative path is looked
    up in the config folder first, then taken as given (relative to the working directory)."""
    p = config.settings.publish

    def where(value: str | None) -> str | None:
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute() and (config.folder / path).exists():
            return str(config.folder / path)
        return str(path)

    return FontConfig(
        title=where(p.title_font),
        body=where(p.body_font),
        heading=where(p.heading_font),
        fallback=where(p.fallback_font),
    )


def issuer_of(config: Config, unit_code: str) -> str:
    unit = config.unit(unit_code)
    return unit.issuer or unit.name


@dataclass(frozen=True)
class MatterInfo:
    code: str
    name: str
    unit: str
    legal_basis: str
    method: str
    team: tuple[str, ...]  # departments of a joint matter, lead first


def matter_info(config: Config, code: str, spec: dict | None) -> MatterInfo:
    """The matter as it was drawn (the frame's stored spec), else as configured now."""
    if not spec:
        spec = config.matter(code).model_dump(mode="json")
    unit = spec["unit"]
    team = [unit] + [d for d in (spec.get("team") or {}) if d != unit]
    return MatterInfo(
        code,
        spec["name"],
        unit,
        spec.get("legal_basis", ""),
        spec.get("method", "现场检查"),
        tuple(team) if len(spec.get("team") or {}) > 1 else (unit,),
    )


def authority(config: Config, m: MatterInfo) -> str:
    names = [issuer_of(config, u) for u in m.team]
    return names[0] if len(names) == 1 else "、".join(names) + "（联合检查）"


@dataclass(frozen=True)
class CurrentDraw:
    draw_id: int
    frame_id: int
    matter: MatterInfo


def current_draws(conn: Connection, config: Config, period: str, matters: Sequence[str] | None) -> list[CurrentDraw]:
    """The latest draw of every (matter, period), in matters.toml order (then by code)."""
    stmt = public_select(Draw.matter_code, func.max(Draw.id)).where(Draw.period == period).group_by(Draw.matter_code)
    if matters:
        stmt = stmt.where(Draw.matter_code.in_(list(matters)))
    latest = dict(conn.execute(stmt).all())
    if matters:
        unknown = sorted(set(matters) - set(latest))
        if unknown:
            raise InspectError(f"no draw of {', '.join(unknown)} for {period}")
    if not latest:
        return []
    frames = dict(conn.execute(public_select(Draw.id, Draw.frame_id).where(Draw.id.in_(list(latest.values())))).all())
    specs = dict(
        conn.execute(public_select(Frame.id, Frame.matter_spec).where(Frame.id.in_(list(frames.values())))).all()
    )
    order = {m.code: i for i, m in enumerate(config.matters)}
    out = [CurrentDraw(i, frames[i], matter_info(config, code, specs.get(frames[i]))) for code, i in latest.items()]
    return sorted(out, key=lambda d: (order.get(d.matter.code, len(order)), d.matter.code))


def select_unit(
    config: Config, draws: list[CurrentDraw], period: str, unit: str | None
) -> tuple[str, list[CurrentDraw]]:
    if unit is not None:
        config.unit(unit)  # an unknown unit is an error, not an empty notice
        chosen = [d for d in draws if d.matter.unit == unit]
        if not chosen:
            raise InspectError(f"unit {unit} has no draws for {period}")
        return unit, chosen
    units = unit_order(config, {d.matter.unit for d in draws})
    if not units:
        raise InspectError(f"no draws for {period}: draw first (`inspect draw run --period {period} ...`)")
    if len(units) > 1:
        raise InspectError(
            f"the draws of {period} belong to {len(units)} units ({', '.join(units)}); a notice has "
            "one issuing authority: pass --unit CODE, or -o a folder to write one notice per unit"
        )
    return units[0], draws


def unit_order(config: Config, codes: Iterable[str]) -> list[str]:
    order = {u.code: i for i, u in enumerate(config.units)}
    return sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))


def notice_units(
    engine: Engine, config: Config, period: Period | str, matters: Sequence[str] | None = None
) -> list[str]:
    """Codes of the units whose matters have draws in ``period`` (units.toml order): one notice each."""
    label = period_label(period)
    with engine.connect() as conn:
        draws = current_draws(conn, config, label, matters)
    return unit_order(config, {d.matter.unit for d in draws})


def period_label(period: Period | str) -> str:
    return (parse_period(period) if isinstance(period, str) else period).label


def check_identifiers(identifiers: Iterable[str], where: str) -> None:
    """A registry using resident ID numbers as identifiers would publish them: refuse."""
    from inspect_kit.registry.uscc import is_valid

    bad = [i for i in identifiers if nt.looks_like_resident_id(i) and not is_valid(i)]
    if bad:
        raise InspectError(
            f"{len(bad)} identifier(s) in {where} look like resident ID-card numbers (e.g. "
            f"{bad[0][:6]}…): a public notice cannot publish them; give these entities another identifier"
        )
