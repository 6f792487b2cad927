"""Direct inserts of draws and tasks, for tests of the later stages that need tasks to exist
without going through a real draw (tests of the draw itself use inspect_kit.draw.service)."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib

from sqlalchemy import Engine, insert, select

from inspect_kit.storage.models import Draw, Entity, Frame, Task


def make_draw(
    engine: Engine,
    matter_code: str,
    period: str,
    identifiers: list[str],
    now: dt.datetime = dt.datetime(2026, 1, 5, 10, 0),
    stratum: str = "S",
) -> list[str]:
    """A frame, a draw and one task per identifier (entities must exist); returns the task numbers."""
    with engine.begin() as conn:
        ids = dict(conn.execute(select(Entity.identifier, Entity.id).where(Entity.identifier.in_(identifiers))).all())
        missing = set(identifiers) - set(ids)
        assert not missing, f"entities not in the registry: {missing}"
        blob = "".join(f"{i}\t{stratum}\n" for i in sorted(identifiers)).encode()
        frame_id = conn.execute(
            insert(Frame.__table__).values(
                matter_code=matter_code,
                period=period,
                as_of=now.date(),
                prepared_at=now,
                frame_sha256=hashlib.sha256(blob).hexdigest(),
                n_rows=len(identifiers),
                strata=[],
                excluded={},
                matter_spec={},
                matter_spec_sha256="0" * 64,
                frame_blob=zlib.compress(blob),
            )
        ).inserted_primary_key[0]
        draw_id = conn.execute(
            insert(Draw.__table__).values(
                frame_id=frame_id,
                matter_code=matter_code,
                period=period,
                seed="test-seed-0123456789",
                seed_source="test",
                algorithm="test",
                algorithm_version="0",
                drawn_at=now,
                n_selected=len(identifiers),
                sample_sha256="0" * 64,
            )
        ).inserted_primary_key[0]
        nos = []
        for k, ident in enumerate(identifiers, start=1):
            no = f"{matter_code}-{period}-D{draw_id}-{k:03d}"
            conn.execute(
                insert(Task.__table__).values(
                    draw_id=draw_id,
                    task_no=no,
                    entity_id=ids[ident],
                    identifier=ident,
                    stratum=stratum,
                    ticket=f"0.{k:018d}",
                    rank=k,
                )
            )
            nos.append(no)
    return nos


def make_team(
    engine: Engine, task_no: str, cert_nos: list[str], now: dt.datetime = dt.datetime(2026, 1, 6, 9, 0)
) -> int:
    """An assignment of the task's draw putting these officers (by 执法证号) on its team; returns its id."""
    from inspect_kit.storage.models import Assignment, Inspector, TeamMember

    with engine.begin() as conn:
        task_id, draw_id, matter, period = conn.execute(
            select(Task.id, Task.draw_id, Draw.matter_code, Draw.period)
            .join(Draw, Draw.id == Task.draw_id)
            .where(Task.task_no == task_no)
        ).one()
        aid = conn.execute(
            insert(Assignment.__table__).values(
                matter_code=matter,
                period=period,
                draw_id=draw_id,
                seed="test",
                algorithm="test",
                algorithm_version="0",
                created_at=now,
                pair_cap=1.0,
                inputs_sha256="0" * 64,
                fractional_sha256="0" * 64,
                fractional_blob=b"",
                inputs={},
            )
        ).inserted_primary_key[0]
        for cert in cert_nos:
            iid = conn.execute(select(Inspector.id).where(Inspector.cert_no == cert)).scalar_one()
            conn.execute(
                insert(TeamMember.__table__).values(
                    assignment_id=aid, task_id=task_id, inspector_id=iid, role="officer", added_at=now
                )
            )
    return int(aid)
