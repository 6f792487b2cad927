"""Unseal: reveal the salt of a sealed draw (保密抽查) after the inspections; from then on anyone
can re-derive its list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, insert, select

from inspect_kit.draw.store.locking import latest, write
from inspect_kit.draw.store.prepare import as_period
from inspect_kit.draw.store.read import DrawInfo, get_draw
from inspect_kit.errors import InspectError
from inspect_kit.periods import Period
from inspect_kit.storage.models import Commitment, Draw, SealSalt, Unsealing
from inspect_kit.transparency.store import append_pending


def unseal(
    engine: Engine, matter_code: str, period: Period | str, *, now: dt.datetime, by: str | None = None
) -> DrawInfo:
    """Reveal the salt of the current sealed draw of (matter, period): its list becomes public."""
    p = as_period(period)

    def work(conn: Connection) -> int:
        d = latest(conn, Draw.__table__, matter_code, p.label)
        if d is None:
            raise InspectError(f"{matter_code} {p} has no draw to unseal")
        com = conn.execute(select(Commitment.__table__).where(Commitment.id == d.commitment_id)).first()
        if com is None or not com.sealed:
            raise InspectError(f"draw #{d.id} of {matter_code} {p} is not sealed: its list is public already")
        done = conn.execute(select(Unsealing.unsealed_at).where(Unsealing.commitment_id == com.id)).scalar()
        if done is not None:
            raise InspectError(f"draw #{d.id} of {matter_code} {p} was unsealed on {done:%Y-%m-%d %H:%M}")
        if now < d.drawn_at:
            raise InspectError("the unsealing time is before the draw")
        salt = conn.execute(select(SealSalt.salt).where(SealSalt.commitment_id == com.id)).scalar_one()
        conn.execute(insert(Unsealing.__table__).values(commitment_id=com.id, salt=salt, unsealed_at=now, by=by))
        append_pending(conn, now)
        return int(d.id)

    return get_draw(engine, write(engine, f"unsealed {matter_code} {p}", work))
