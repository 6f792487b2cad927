"""Draw: from exactly the committed frame, with the public seed its source produced, through the
per-draw seed rule; the tasks are written by one INSERT ... SELECT (see inspect_kit.draw.service).
On SQLite the drawn entities are looked up in identifier order, and the transaction does not look
up each foreign key again and keeps its staging tables in memory (storage.helpers.write_transaction's
keys_by_construction and temp_in_memory): every key it writes was read in it — random lookups into
a provincial registry were most of the draw.
Also the one-step draw (`draw_now`: freeze, commit and draw in one transaction)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, select, text

from inspect_kit.config import Config
from inspect_kit.config.models import Matter
from inspect_kit.draw.core.coordination import Coordination, draw_rows_coordinated
from inspect_kit.draw.core.frame import draw_members, draw_stratified, frame_members
from inspect_kit.draw.core.record import sample_sha256
from inspect_kit.draw.core.sampler import ALGORITHM_NAME, ALGORITHM_VERSION
from inspect_kit.draw.core.seeds import SeedError, SeedSource, derive_seed, seed_value
from inspect_kit.draw.store import indb
from inspect_kit.draw.store.export import frame_rows_from_blob
from inspect_kit.draw.store.frames import driver_rows
from inspect_kit.draw.store.locking import latest, lock_period, mapped_reads, write
from inspect_kit.draw.store.prepare import as_period, matters_of, prepare_all
from inspect_kit.draw.store.read import DrawInfo, get_draw, with_warnings
from inspect_kit.errors import InspectError
from inspect_kit.hashing import spare_cores
from inspect_kit.periods import Period
from inspect_kit.storage.db import sqlite_cache
from inspect_kit.storage.helpers import insert_id
from inspect_kit.storage.models import Commitment, Draw, Frame, ImportBatch, SealSalt, Task
from inspect_kit.transparency.store import LinesAhead, append_pending, children_sha256, lines_compiled

T = TypeVar("T")


def _registry_changed_since(conn: Connection, moment: dt.datetime) -> str | None:
    last = conn.execute(select(func.max(ImportBatch.at)).where(ImportBatch.kind == "entities")).scalar()
    if last is not None and last > moment:
        return (
            f"the entity registry was imported again at {last:%Y-%m-%d %H:%M}, after the frame was frozen "
            f"({moment:%Y-%m-%d %H:%M}): the draw uses the frozen frame; prepare again (a re-draw) if it is stale"
        )
    return None


def _client_sample(
    frame: Any, seed: str, sizes: dict[str, int], coordination: Coordination | None = None
) -> list[tuple[str, str, str, int]]:
    """(stratum, identifier, ticket, rank) of the draw from the stored frame, in Python: one pass
    over the blob hashes it and splits it by stratum; a blob that is not plainly canonical is
    re-read by `draw_stratified`, which names the problem."""
    sha, _, members = frame_members(frame.frame_blob)
    if sha != frame.frame_sha256:
        raise InspectError(f"frame #{frame.id} does not match its stored SHA-256: the database was altered")
    if coordination is not None:
        rows = frame_rows_from_blob(frame.frame_blob)
        result = draw_rows_coordinated(coordination, rows, sizes, seed)
    elif members is None:
        result = draw_stratified(seed, frame_rows_from_blob(frame.frame_blob), sizes)
    else:
        result = draw_members(seed, members, sizes, sha)
        del members
    # (stratum,) + (id, ticket, rank) per drawn entity, tuples joined in C: result.sample's pairs
    # and a NamedTuple attribute read per field cost twice as much.
    sample: list[Any] = [row for s in result.strata for row in map(tuple.__add__, repeat((s.stratum,)), s.selected)]
    return sample


def _sample_table(conn: Connection, sample: list[tuple[str, str, str, int]]) -> str:
    """The client's sample in a temporary table (k, identifier, stratum, ticket, rank), k = 1.. in
    (stratum, rank) order, for `_write_tasks` on PostgreSQL: the join with the registry runs in the
    database."""
    table = "inspect_sample"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {table} (k INTEGER PRIMARY KEY, identifier TEXT, stratum TEXT, "
        "ticket TEXT, rank INTEGER) ON COMMIT DROP"
    )
    raw = conn.connection.driver_connection
    assert raw is not None  # an open connection has its driver connection
    rows = ((k, ident, stratum, ticket, rank) for k, (stratum, ident, ticket, rank) in enumerate(sample, start=1))
    with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return table


def _missing(identifiers: Sequence[str]) -> InspectError:
    return InspectError(f"drawn entities are missing from the registry: {list(identifiers)}; nothing was written")


@contextmanager
def _cursor(conn: Connection) -> Iterator[Any]:
    raw = conn.connection.driver_connection
    assert raw is not None  # an open connection has its driver connection
    cur = raw.cursor()
    try:
        yield cur
    finally:
        cur.close()


_LOOKUP = 500  # identifiers a lookup statement names (SQLite before 3.32 allows 999 parameters)


def _entity_ids(conn: Connection, sample: Sequence[tuple[str, str, str, int]]) -> list[int]:
    """SQLite: the registry's id of each drawn entity, in sample order. The identifiers are looked
    up in their sorted order, _LOOKUP at a time (`identifier IN (...) ORDER BY identifier`: SQLite
    walks the index in that order, so each id comes back beside its own identifier), and the
    registry's identifier index is read front to back instead of at random (which, at 10M
    entities, is a system call per lookup beyond the memory map). An identifier missing from the
    registry is an InspectError naming the first five in task order."""
    idents = [r[1] for r in sample]
    n = len(idents)
    order = sorted(range(n), key=idents.__getitem__)  # code point order: SQLite's BINARY on UTF-8
    ordered = [idents[i] for i in order]
    found: list[int] = []
    missing: list[str] = []
    full = f"SELECT id FROM entities WHERE identifier IN ({','.join('?' * _LOOKUP)}) ORDER BY identifier"
    with _cursor(conn) as cur:  # the driver's own cursor: no SQLAlchemy row per drawn entity
        for lo in range(0, n, _LOOKUP):
            part = ordered[lo : lo + _LOOKUP]
            marks = ",".join("?" * len(part))
            sql = (
                full
                if len(part) == _LOOKUP
                else f"SELECT id FROM entities WHERE identifier IN ({marks}) ORDER BY identifier"
            )
            got = [r[0] for r in cur.execute(sql, part)]
            if len(got) != len(part):
                there = {
                    r[0] for r in cur.execute(f"SELECT identifier FROM entities WHERE identifier IN ({marks})", part)
                }
                missing += [i for i in part if i not in there]
            found += got
    if missing:
        at = {ident: k for k, ident in enumerate(idents)}
        raise _missing(sorted(missing, key=at.__getitem__)[:5])
    ids = [0] * n
    for i, eid in zip(order, found):
        ids[i] = eid
    return ids


# The tasks' entity_id index takes the drawn entities in random order: SQLite's page cache (2 MB by
# default) is raised for that statement to hold it (about 24 bytes an entry; at 1.84M tasks the
# write takes 5.4 s instead of 7.3 s), within a bound, then set back (storage.db.sqlite_cache).
_CACHE_BYTES_PER_TASK = 64
_CACHE_MAX_BYTES = 256 << 20
_CACHE_MIN_KIB = 2000  # SQLite's default


class _Meanwhile(threading.Thread):
    """work() on a thread started by the caller; `result()` joins it and gives its value or raises
    its exception."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(name="inspect-meanwhile", daemon=True)
        self.work = work
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.work()
        except BaseException as exc:  # handed to the caller
            self.error = exc

    def result(self) -> Any:
        self.join()
        if self.error is not None:
            raise self.error
        return self.value


def _write_tasks_sqlite(
    conn: Connection,
    draw_id: int,
    prefix: str,
    sample: list[tuple[str, str, str, int]],
    entity_ids: list[int],
    meanwhile: Callable[[list[int]], T],
) -> T:
    """SQLite: one task per drawn entity, numbered f"{prefix}-{k:03d}" in sample order, its id
    chosen here (the next ids, as SQLite would give them) so that the log's digest needs nothing
    read back: the sample goes into a temporary table as it is, then one INSERT ... SELECT, while
    `meanwhile(task ids)` runs on a thread where a core is idle (the driver lets go of the GIL as
    the statement steps), else after it. Its value."""
    n = len(sample)
    base = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM tasks").scalar_one()
    table = "inspect_sample"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {table} (k INTEGER PRIMARY KEY, stratum TEXT, identifier TEXT, "
        "ticket TEXT, rank INTEGER, entity_id INTEGER)"
    )
    with _cursor(conn) as cur:  # k is the rowid SQLite gives rows inserted into an empty table: 1, 2, …
        cur.executemany(
            f"INSERT INTO {table} (stratum, identifier, ticket, rank, entity_id) VALUES (?, ?, ?, ?, ?)",
            map(tuple.__add__, sample, zip(entity_ids)),
        )
    ids = list(range(base + 1, base + n + 1))
    beside = _Meanwhile(lambda: meanwhile(ids)) if n > 1 and spare_cores() >= 1 else None
    if beside is not None:
        beside.start()
    try:
        with sqlite_cache(conn, max(_CACHE_MIN_KIB, min(n * _CACHE_BYTES_PER_TASK, _CACHE_MAX_BYTES) >> 10)):
            inserted = conn.execute(
                text(
                    "INSERT INTO tasks (id, draw_id, task_no, entity_id, identifier, stratum, ticket, rank) "
                    "SELECT :base + s.k, :draw_id, :prefix || '-' || printf('%03d', s.k), s.entity_id, "
                    f"s.identifier, s.stratum, s.ticket, s.rank FROM {table} s ORDER BY s.k"
                ),
                {"base": base, "draw_id": draw_id, "prefix": prefix},
            ).rowcount
    except BaseException:
        if beside is not None:  # not left working past the rolled-back write
            beside.join()
        raise
    value = beside.result() if beside is not None else meanwhile(ids)
    conn.exec_driver_sql(f"DROP TABLE {table}")
    if inserted != n:  # the table held exactly the sample: cannot happen
        raise InspectError(f"wrote {inserted} tasks for {n} drawn entities; nothing was written")
    return value


def _write_tasks(conn: Connection, table: str, draw_id: int, prefix: str, n: int) -> None:
    """One task per row of the sample table, numbered f"{prefix}-{k:03d}" in k order, with the
    entity's id from the registry: one INSERT ... SELECT; then the table is dropped."""
    number = (
        "printf('%03d', s.k)"
        if conn.dialect.name == "sqlite"
        else "CASE WHEN s.k < 1000 THEN lpad(s.k::text, 3, '0') ELSE s.k::text END"
    )
    inserted = conn.execute(
        text(
            "INSERT INTO tasks (draw_id, task_no, entity_id, identifier, stratum, ticket, rank) "
            f"SELECT :draw_id, :prefix || '-' || {number}, e.id, s.identifier, s.stratum, s.ticket, s.rank "
            f"FROM {table} s JOIN entities e ON e.identifier = s.identifier ORDER BY s.k"
        ),
        {"draw_id": draw_id, "prefix": prefix},
    ).rowcount
    if inserted != n:
        missing = (
            conn.execute(
                text(
                    f"SELECT s.identifier FROM {table} s WHERE NOT EXISTS (SELECT 1 FROM entities e "
                    "WHERE e.identifier = s.identifier) ORDER BY s.k LIMIT 5"
                )
            )
            .scalars()
            .all()
        )
        raise _missing(missing)
    conn.execute(text(f"DROP TABLE {table}"))


def _run_one(
    conn: Connection,
    config: Config,
    matter: Matter,
    period: Period,
    *,
    now: dt.datetime,
    values: dict[str, Any],
    frame_sha256: str | None,
    by: str | None = None,
) -> tuple[int, list[str], dict[tuple[str, int], str]]:
    lock_period(conn, matter.code, period.label)
    com = latest(conn, Commitment.__table__, matter.code, period.label, lock=True)
    if com is None:
        raise InspectError(
            f"no commitment for {matter.code} {period}: run `inspect draw prepare --period {period} "
            f"--matter {matter.code} ...` first, publish its frame hash and seed source, then draw"
        )
    used = conn.execute(select(Draw.id).where(Draw.commitment_id == com.id)).scalar()
    if used is not None:
        raise InspectError(
            f"{matter.code} {period} was already drawn from commitment #{com.id} (draw #{used}); "
            "to draw again, prepare a new commitment with --redraw --reason"
        )
    frame = conn.execute(select(Frame.__table__).where(Frame.id == com.frame_id)).one()
    if frame_sha256 is not None and frame_sha256.strip().lower() != frame.frame_sha256:
        raise InspectError(
            f"{matter.code} {period}: the published frame hash is {frame_sha256.strip()}, but the "
            f"committed frame (#{frame.id}) hashes to {frame.frame_sha256}; nothing was drawn"
        )
    if now < com.committed_at:
        raise InspectError("the draw time is before the commitment")
    source = SeedSource.from_dict(com.source)
    try:
        value = seed_value(source, min_length=config.settings.draw.min_seed_length, **values)
    except SeedError as exc:
        raise InspectError(f"{matter.code} {period}: {exc}") from None
    available = source.available_at()
    if available is not None and now < available:
        raise InspectError(
            f"{matter.code} {period}: the seed source ({source.describe()}) is not published yet "
            f"at {now:%Y-%m-%d %H:%M}"
        )
    salt = None
    if com.sealed:
        salt = conn.execute(select(SealSalt.salt).where(SealSalt.commitment_id == com.id)).scalar_one()
    derived = derive_seed(value.seed, com.ticket_group, period.label, salt)
    sizes = {s["stratum"]: s["n"] for s in frame.strata}
    in_db = None
    sample: list[tuple[str, str, str, int]] = []
    stored = getattr(com, "coordination", None)
    coordination = Coordination.from_dict(stored).at_draw(value.seed, salt) if stored is not None else None
    if coordination is None and indb.applies(conn, config.settings.draw.in_database_min_rows, frame.n_rows):
        in_db = indb.draw(conn, frame.id, frame.frame_blob, frame.frame_sha256, derived, sizes)
        n_selected, sample_digest = in_db.n_selected, in_db.sample_sha256
    else:
        sample = _client_sample(frame, derived, sizes, coordination)
        n_selected, sample_digest = len(sample), sample_sha256(sample)
    previous = latest(conn, Draw.__table__, matter.code, period.label)
    draw_id = insert_id(
        conn,
        Draw.__table__,
        frame_id=frame.id,
        matter_code=matter.code,
        period=period.label,
        seed=value.seed,
        seed_source=source.describe(),
        algorithm=ALGORITHM_NAME,
        algorithm_version=ALGORITHM_VERSION,
        drawn_at=now,
        redraw_of=previous.id if previous is not None else None,
        reason=com.redraw_reason if previous is not None else None,
        n_selected=n_selected,
        sample_sha256=sample_digest,
        commitment_id=com.id,
        derived_seed=derived,
        seed_evidence=value.evidence or None,
        by=by,
    )
    n_redraws = (
        conn.execute(
            select(func.count()).select_from(Draw).where(Draw.matter_code == matter.code, Draw.period == period.label)
        ).scalar_one()
        - 1
    )
    prefix = f"{matter.code}-{period.label}" + (f"-R{n_redraws}" if n_redraws else "")
    known: dict[tuple[str, int], str] = {}
    if in_db is not None:
        _write_tasks(conn, in_db.table, draw_id, prefix, n_selected)
    elif conn.dialect.name == "sqlite":
        ahead = _lines_ahead(draw_id, prefix, sample)
        with mapped_reads(conn):
            entity_ids = _entity_ids(conn, sample)
        known = _write_tasks_sqlite(
            conn,
            draw_id,
            prefix,
            sample,
            entity_ids,
            lambda ids: _tasks_digest(None, draw_id, prefix, sample, ahead, (ids, entity_ids)),
        )
    else:
        table = _sample_table(conn, sample)
        ahead = _lines_ahead(draw_id, prefix, sample)
        _write_tasks(conn, table, draw_id, prefix, n_selected)
        known = _tasks_digest(conn, draw_id, prefix, sample, ahead)
    warning = _registry_changed_since(conn, frame.prepared_at)
    return draw_id, [warning] if warning else [], known


_DIGEST_SLICE = 50_000  # tasks hashed at once by _tasks_digest
# Up to this many tasks, their log lines are rendered on a thread while the database writes them
# (transparency.store.LinesAhead; about 200 bytes a task held until the digest); above it, slice by
# slice after the write, memory flat in the draw's size.
_AHEAD_MAX = 1_000_000
_TASK_KEYS = {"id", "draw_id", "task_no", "entity_id", "identifier", "stratum", "ticket", "rank"}


def _task_columns(draw_id: int, prefix: str, part: Sequence[tuple[str, str, str, int]], first: int) -> dict[str, list]:
    """The columns of tasks first+1.. that the sample gives, as _write_tasks writes them."""
    return {
        "draw_id": [draw_id] * len(part),
        "task_no": [f"{prefix}-{k:03d}" for k in range(first + 1, first + len(part) + 1)],
        "identifier": [r[1] for r in part],
        "stratum": [r[0] for r in part],
        "ticket": [r[2] for r in part],
        "rank": [r[3] for r in part],
    }


class _LinesAhead(threading.Thread):
    """The tasks' log lines but for (id, entity_id), rendered on a thread started by the caller: it
    runs while SQLite writes the tasks (the driver releases the GIL while a statement steps).
    `ahead` stays None if it failed (the digest is then taken slice by slice)."""

    def __init__(self, keys: list[str], draw_id: int, prefix: str, sample: list[tuple[str, str, str, int]]) -> None:
        super().__init__(name="inspect-task-lines", daemon=True)
        self.args_ = keys, draw_id, prefix, sample
        self.ahead: LinesAhead | None = None

    def run(self) -> None:
        keys, draw_id, prefix, sample = self.args_
        ahead = LinesAhead(keys, _task_columns(draw_id, prefix, sample, 0), ["id", "entity_id"])
        ahead.prepare()
        self.ahead = ahead


def _lines_ahead(draw_id: int, prefix: str, sample: list[tuple[str, str, str, int]]) -> _LinesAhead | None:
    """Started only where a core is idle (the load average leaves one spare, as inspect_kit.hashing
    decides) and the lines are rendered in Python (in C they take a few milliseconds a 100,000):
    rendering ahead costs a little more CPU than rendering after, and pays only in parallel."""
    keys = [c.name for c in Task.__table__.columns]
    if set(keys) != _TASK_KEYS or not 1 < len(sample) <= _AHEAD_MAX or lines_compiled() or spare_cores() < 1:
        return None
    thread = _LinesAhead(keys, draw_id, prefix, sample)
    thread.start()
    return thread


def _tasks_digest(
    conn: Connection | None,
    draw_id: int,
    prefix: str,
    sample: list[tuple[str, str, str, int]],
    ahead: _LinesAhead | None = None,
    written: tuple[list[int], list[int]] | None = None,
) -> dict[tuple[str, int], str]:
    """The log's digest of the tasks just written (transparency.store.children_sha256), from the
    sample in memory and the two columns the database holds beside it, (id, entity_id): `written`
    when the writer chose them (SQLite), else read back in id order — never the whole tasks;
    rendered `ahead` (see _lines_ahead) or slice by slice, so memory stays flat. Empty (the log then
    reads the tasks back) if the tasks table has columns this does not know or the count differs."""

    def pairs() -> Iterator[tuple[list[Any], list[Any]]]:  # (ids, entity ids), slice by slice
        if written is not None:
            for lo in range(0, len(written[0]), _DIGEST_SLICE):
                yield written[0][lo : lo + _DIGEST_SLICE], written[1][lo : lo + _DIGEST_SLICE]
            return
        assert conn is not None  # given where the ids are read back
        stmt = select(Task.id, Task.entity_id).where(Task.draw_id == draw_id).order_by(Task.id)
        for chunk in driver_rows(conn, stmt, _DIGEST_SLICE):
            yield [r[0] for r in chunk], [r[1] for r in chunk]

    if ahead is not None:
        ids: list[Any] = []
        entity_ids: list[Any] = []
        for part_ids, part_entities in pairs():
            ids += part_ids
            entity_ids += part_entities
        ahead.join()
        if len(ids) != len(sample):  # _write_tasks counted them: cannot happen
            return {}
        digest = ahead.ahead.sha256({"id": ids, "entity_id": entity_ids}) if ahead.ahead is not None else None
        if digest is not None:
            return {("draw", draw_id): digest}
    keys = [c.name for c in Task.__table__.columns]
    if set(keys) != _TASK_KEYS:
        return {}
    done = [0, True]  # rows hashed, all matched the sample

    def slices() -> Iterator[list[list[Any]]]:
        for part_ids, part_entities in pairs():
            lo, hi = done[0], done[0] + len(part_ids)
            part = sample[lo:hi]
            if len(part) != len(part_ids):
                done[1] = False
                return
            columns: dict[str, list[Any]] = {
                "id": part_ids,
                "entity_id": part_entities,
                **_task_columns(draw_id, prefix, part, lo),
            }
            done[0] = hi
            yield [columns[k] for k in keys]

    digest = children_sha256(keys, slices())
    if not done[1] or done[0] != len(sample):  # _write_tasks counted them: cannot happen
        return {}
    return {("draw", draw_id): digest}


def run(
    engine: Engine,
    config: Config,
    period: Period | str,
    matter_codes: Sequence[str],
    *,
    now: dt.datetime,
    seed: str | None = None,
    signature: str | None = None,
    previous_signature: str | None = None,
    numbers: str | None = None,
    frame_sha256: str | None = None,
    with_tasks: bool = True,
    by: str | None = None,
) -> list[DrawInfo]:
    """Draw every matter given from its latest commitment; all or nothing (``by``: the web user).

    The value must fit each commitment's source: ``signature`` (and ``previous_signature`` on
    drand mainnet) for drand, ``numbers`` for a lottery, ``seed`` for a witnessed draw.
    ``with_tasks=False`` returns the draws without their task lists (a provincial draw writes
    millions; read them with `get_draw` or inspect_kit.draw.store.tasks when needed).
    """
    p = as_period(period)
    matters = matters_of(config, matter_codes, p)
    if frame_sha256 is not None and len(matters) > 1:
        raise InspectError("--frame-sha256 names one frame: give --matter too")
    values = {
        k: v
        for k, v in (
            ("seed", seed),
            ("signature", signature),
            ("previous_signature", previous_signature),
            ("numbers", numbers),
        )
        if v is not None
    }

    def work(conn: Connection) -> list[tuple[int, list[str]]]:
        done = [_run_one(conn, config, m, p, now=now, values=values, frame_sha256=frame_sha256, by=by) for m in matters]
        append_pending(conn, now, {k: v for _, _, known in done for k, v in known.items()})
        return [(i, w) for i, w, _ in done]

    done = write(engine, f"drew {p}", work, bulk=True)
    return [with_warnings(get_draw(engine, i, with_tasks), w) for i, w in done]


def run_draw(
    engine: Engine, config: Config, matter_code: str, period: Period | str, *, now: dt.datetime, **kw: Any
) -> DrawInfo:
    """`run` for one matter."""
    return run(engine, config, period, [matter_code], now=now, **kw)[0]


def draw_now(
    engine: Engine,
    config: Config,
    period: Period | str,
    matter_codes: Sequence[str],
    *,
    seed: str,
    source: SeedSource,
    as_of: dt.date,
    now: dt.datetime,
    redraw: bool = False,
    reason: str | None = None,
    with_tasks: bool = True,
    by: str | None = None,
) -> list[DrawInfo]:
    """Freeze, commit and draw in one transaction (``inspect draw --seed``): only a witnessed seed,
    and the commitment says ``one_step`` — no frame hash was published before the seed."""
    p = as_period(period)
    matters = matters_of(config, matter_codes, p)
    if source.kind != "witnessed":
        raise InspectError(
            f"a {source.kind} seed is named before the draw: use `inspect draw prepare`, then "
            "`inspect draw run` once the value is published"
        )
    try:
        seed_value(source, seed=seed, min_length=config.settings.draw.min_seed_length)
    except SeedError as exc:
        raise InspectError(str(exc)) from None

    def work(conn: Connection) -> list[tuple[int, list[str]]]:
        prepare_all(conn, config, matters, p, source, as_of, now, redraw, reason, one_step=True, by=by)
        done = [_run_one(conn, config, m, p, now=now, values={"seed": seed}, frame_sha256=None, by=by) for m in matters]
        append_pending(conn, now, {k: v for _, _, known in done for k, v in known.items()})
        return [(i, w) for i, w, _ in done]

    done = write(engine, f"drew {p}", work, bulk=True)
    return [with_warnings(get_draw(engine, i, with_tasks), w) for i, w in done]
