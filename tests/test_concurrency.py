"""Several writers at once, and results that cannot disappear.

Findings: two writers that read the same finding and both write it — exactly one wins, the loser
gets "task X was changed by someone else since you read it (revision N → M); nothing was written",
and the history replays to the stored row. Run with REAL concurrent connections (one thread and
one connection per writer); the interleaving is forced, never left to timing: a barrier makes both
read before either writes, an event holds the loser back, and on PostgreSQL the winner keeps its
transaction open until the database reports the loser waiting on its lock.
Registry imports: two overlapping imports of the same new keys on PostgreSQL.
The findings guard (migration 0003): DELETE refused, UPDATE only with a recorded new revision.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from inspect_kit.errors import InspectError
from inspect_kit.findings import records, service
from inspect_kit.findings import write as findings_write
from inspect_kit.storage.db import current_revision, upgrade
from inspect_kit.storage.models import (
    Entity,
    Finding,
    FindingRevision,
    ImportBatch,
    RegistryChange,
    RegistryInsertBlock,
)
from tests.conftest import write_csv
from tests.helpers import ENTITY_HEADER, entity_row
from tests.test_findings_service import tasks  # noqa: F401  (fixture)

AS_OF = dt.date(2026, 6, 30)
T1, T2, T3 = (dt.datetime(2026, 4, d, 9, 0) for d in (1, 2, 3))
WAIT = 30  # seconds: only ever reached if the code under test hangs


@pytest.fixture
def two(tasks):  # noqa: F811
    """The engine and two tasks of the current STHJ-01 2026Q1 draw."""
    engine, q1, _ = tasks
    return engine, q1[:2]


def first(task_no: str, **over) -> dict:
    row = {
        "inspection_date": "2026-03-06",
        "results": "R05",
        "problems": "废气处理设施未正常运行",
        "follow_up": "F02",
        "rectification_deadline": "2026-04-06",
        "recorded_by": "张三",
    }
    row.update(over)
    return row


def add(engine, task_no: str, values: dict, now=T2, by="李四"):
    return service.add_finding(engine, task_no, values, as_of=AS_OF, now=now, by=by)


def import_file(engine, path, now=T2):
    return service.import_findings(engine, path, as_of=AS_OF, now=now, by="王五")


def findings_csv(tmp_path, task_no: str, **values) -> object:
    header = ["任务编号", *values]
    return write_csv(tmp_path / "results.csv", [header, [task_no, *values.values()]])


def dump(engine) -> tuple:
    with engine.connect() as c:
        return tuple(
            tuple(sorted(tuple(map(str, r)) for r in c.execute(select(t))))
            for t in (Finding.__table__, FindingRevision.__table__)
        )


def assert_history_consistent(engine) -> None:
    """Revisions are numbered 1..n per finding, each one's old values are the values before it,
    and replaying them all gives the stored row."""
    with engine.connect() as c:
        stored = {r.id: r._asdict() for r in c.execute(select(Finding))}
        revs = c.execute(select(FindingRevision).order_by(FindingRevision.id)).all()
    state: dict[int, dict] = {}
    for rv in revs:
        cur = state.setdefault(rv.finding_id, {"n": 0})
        cur["n"] += 1
        assert rv.revision == cur["n"], f"finding {rv.finding_id}: revision {rv.revision} out of order"
        for k, (old, new) in rv.changes.items():
            assert cur.get(k) == old, f"revision {rv.revision} of finding {rv.finding_id} records a stale old {k}"
            cur[k] = new
    for fid, row in stored.items():
        assert row["revision"] == state[fid]["n"]
        for k in service.FIELDS:
            actual, replayed = row[k], state[fid].get(k)
            actual = actual.isoformat() if isinstance(actual, dt.date) else actual
            assert actual == replayed or (replayed is None and actual in (None, [])), (fid, k, actual, replayed)


def someone_waits_on_a_lock(engine) -> bool:
    """Wait until a session of this database waits on a lock (PostgreSQL's own view of it: a
    condition, not a guess at timing); False if none does within WAIT seconds."""
    with engine.connect() as mon:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            n = mon.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if n:
                return True
            mon.rollback()
            time.sleep(0.01)
    return False


class Duel:
    """Two writers, each in its own thread with its own connection. `winner` and `loser` name the
    thread that must write first and the one that must lose; hooks in the service hold them."""

    def __init__(self, monkeypatch, engine, *, in_flight: bool):
        self.engine, self.in_flight = engine, in_flight
        self.both_read = threading.Barrier(2, timeout=WAIT)
        self.winner_wrote = threading.Event()  # in_flight: written, not committed
        self.winner_done = threading.Event()  # committed (or failed)
        self.loser_waited = False
        self.results: dict[str, object] = {}
        read, write = records.stored_findings, findings_write.write_checked

        def stored_findings(conn, ids):
            out = read(conn, ids)
            name = threading.current_thread().name
            if name in ("winner", "loser"):
                self.both_read.wait()  # both have read the same revision
                if name == "loser":
                    assert (self.winner_wrote if in_flight else self.winner_done).wait(WAIT)
            return out

        def write_then_hold(conn, checked, **kw):
            out = write(conn, checked, **kw)
            if threading.current_thread().name == "winner" and in_flight:
                self.winner_wrote.set()
                self.loser_waited = self._until_someone_waits_on_a_lock()
            return out

        monkeypatch.setattr(records, "stored_findings", stored_findings)
        monkeypatch.setattr(findings_write, "write_checked", write_then_hold)

    def _until_someone_waits_on_a_lock(self) -> bool:
        return someone_waits_on_a_lock(self.engine)

    def run(self, winner, loser) -> dict[str, object]:
        def call(name, fn):
            try:
                self.results[name] = fn()
            except BaseException as exc:  # noqa: BLE001 — the test inspects it
                self.results[name] = exc
            finally:
                if name == "winner":
                    self.winner_done.set()

        threads = [
            threading.Thread(target=call, args=(n, f), name=n) for n, f in (("winner", winner), ("loser", loser))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT * 2)
            assert not t.is_alive(), "a writer hangs"
        return self.results


def test_stale_writer_loses_and_writes_nothing(two, tmp_path, monkeypatch):
    """An import and an `add` of the same field; both read revision 1, the import commits first."""
    engine, (no, _) = two
    add(engine, no, first(no), now=T1, by="张三")
    path = findings_csv(tmp_path, no, 问题描述="导入的描述")
    duel = Duel(monkeypatch, engine, in_flight=False)
    out = duel.run(lambda: import_file(engine, path), lambda: add(engine, no, {"problems": "手工录入的描述"}))
    assert out["winner"].updated == 1
    assert isinstance(out["loser"], InspectError)
    assert str(out["loser"]) == (
        f"task {no} was changed by someone else since you read it (revision 1 → 2); nothing "
        f"was written. See it with `inspect findings show {no}` and run the command again"
    )
    _, f = service.get_finding(engine, no, as_of=AS_OF)
    assert f.problems == "导入的描述"  # the winner's value, not lost
    history = service.finding_history(engine, no)
    assert [r.revision for r in history] == [1, 2]
    assert [r.changes.get("problems") for r in history] == [
        [None, "废气处理设施未正常运行"],
        ["废气处理设施未正常运行", "导入的描述"],
    ]
    assert_history_consistent(engine)


def test_two_first_findings_of_one_task_one_wins(two, monkeypatch):
    engine, (no, _) = two
    duel = Duel(monkeypatch, engine, in_flight=False)
    out = duel.run(lambda: add(engine, no, first(no, problems="甲")), lambda: add(engine, no, first(no, problems="乙")))
    assert out["winner"].action == "added"
    assert isinstance(out["loser"], InspectError) and "(revision 0 → 1); nothing was written" in str(out["loser"])
    assert [r.changes["problems"] for r in service.finding_history(engine, no)] == [[None, "甲"]]
    assert_history_consistent(engine)


@pytest.mark.postgres
def test_writer_in_flight_makes_the_other_wait_then_lose(two, tmp_path, monkeypatch):
    """PostgreSQL: the `add` commits only once the import is seen waiting on its lock."""
    engine, (no, other) = two
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite writers wait for the whole database: see test_db_errors)")
    add(engine, no, first(no), now=T1, by="张三")
    add(engine, other, first(other), now=T1, by="张三")
    before = dump(engine)
    path = write_csv(tmp_path / "r.csv", [["任务编号", "问题描述"], [other, "另一户的描述"], [no, "导入的描述"]])
    duel = Duel(monkeypatch, engine, in_flight=True)
    out = duel.run(lambda: add(engine, no, {"problems": "手工录入的描述"}), lambda: import_file(engine, path))
    assert duel.loser_waited, "the import never waited for the add's lock"
    assert out["winner"].action == "updated"
    assert isinstance(out["loser"], InspectError)
    assert f"task {no} was changed by someone else since you read it (revision 1 → 2)" in str(out["loser"])
    after = dump(engine)
    assert len(after[1]) == len(before[1]) + 1  # only the winner's revision; the import's other row rolled back
    _, f = service.get_finding(engine, other, as_of=AS_OF)
    assert f.problems == "废气处理设施未正常运行"
    _, f = service.get_finding(engine, no, as_of=AS_OF)
    assert f.problems == "手工录入的描述"
    assert_history_consistent(engine)


@pytest.mark.postgres
def test_overlapping_registry_imports_one_wins(configured, import_options, tmp_path):
    """PostgreSQL: a second import of the same new entities waits for the first, then is refused
    whole with a clear message (no IntegrityError traceback)."""
    from inspect_kit.registry.importer import import_registry

    engine = configured
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers on the database lock (busy timeout: test_db_errors)")
    path = write_csv(tmp_path / "e.csv", [ENTITY_HEADER] + [entity_row(i) for i in range(1, 31)])

    def counts():
        with engine.connect() as c:
            return [
                c.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (Entity, ImportBatch, RegistryChange, RegistryInsertBlock)
            ]

    before = counts()
    first_wrote, errors = threading.Event(), {}
    waited = []

    def hold(done, total):  # the first import's last progress report: everything written, not committed
        if threading.current_thread().name == "first" and done == total:
            first_wrote.set()
            waited.append(someone_waits_on_a_lock(engine))

    def call(name):
        try:
            errors[name] = import_registry(engine, "entities", path, import_options(), progress=hold)
        except BaseException as exc:  # noqa: BLE001
            errors[name] = exc

    a = threading.Thread(target=call, args=("first",), name="first")
    a.start()
    assert first_wrote.wait(WAIT)
    b = threading.Thread(target=call, args=("second",), name="second")
    b.start()
    a.join(WAIT)
    b.join(WAIT)
    assert waited == [True]
    assert errors["first"].added == 30
    assert isinstance(errors["second"], InspectError)
    assert str(errors["second"]) == (
        f"{path}: someone else imported entities at the same time; nothing was written, run it again"
    )
    assert [a - b for a, b in zip(counts(), before)] == [30, 1, 0, 1]  # the first import only (its inserts: one block)
    again = import_registry(engine, "entities", path, import_options())  # run it again: now a no-op
    assert (again.added, again.unchanged) == (0, 30)


def test_nul_in_a_finding_on_postgresql_is_a_clear_error(two):
    """Whatever the input normalisation leaves, a value the driver refuses is an InspectError."""
    engine, (no, _) = two
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL")
    add(engine, no, first(no), now=T1, by="张三")
    before = dump(engine)
    with pytest.raises(InspectError, match="nothing was written|NUL|control"):
        add(engine, no, {"notes": "已约谈\x00"})
    assert dump(engine) == before


# -- the findings guard ----------------------------------------------------------------------------


def refused(engine, stmt: str, match: str = "inspect-kit") -> None:
    with pytest.raises(Exception, match=match):
        with engine.begin() as c:
            c.execute(text(stmt))


def test_findings_cannot_disappear_or_change_without_a_revision(two):
    engine, (no, other) = two
    add(engine, no, first(no), now=T1, by="张三")
    add(engine, no, {"notes": "已约谈"}, now=T2)
    before = dump(engine)
    refused(engine, "DELETE FROM findings", "never deleted")
    refused(engine, "UPDATE findings SET problems = '改写'", "only with a new revision")
    refused(engine, "UPDATE findings SET problems = '改写', revision = revision + 1", "only with a new revision")
    refused(engine, "UPDATE findings SET revision = revision + 2", "only with a new revision")
    refused(engine, "UPDATE findings SET task_id = task_id + 1", "only with a new revision")
    refused(engine, "DELETE FROM finding_revisions", "append-only")
    cols = (
        "task_id, inspection_start, inspection_end, results, follow_ups, recorded_by, created_at, updated_at, revision"
    )
    copy = f"SELECT {cols} FROM findings"
    refused(engine, f"INSERT INTO findings ({cols}) {copy}", "once per task|duplicate key")  # a second one
    if engine.dialect.name == "sqlite":
        refused(engine, f"INSERT OR REPLACE INTO findings (id, {cols}) SELECT id, {cols} FROM findings", "revision 1")
    else:
        # (with finding_reviews, which refers to findings: else the foreign key refuses first)
        refused(engine, "TRUNCATE findings, finding_revisions, finding_reviews", "append-only")
        refused(engine, "TRUNCATE finding_revisions", "append-only")
    assert dump(engine) == before
    # The one way to change a finding by hand: record the revision, then update to it.
    with engine.begin() as c:
        fid, rev = c.execute(select(Finding.id, Finding.revision)).one()
        assert rev == 2
        c.execute(
            text(
                "INSERT INTO finding_revisions (finding_id, revision, at, by, source, changes) "
                "VALUES (:f, 3, :at, 'dba', 'psql', :ch)"
            ),
            {"f": fid, "at": T3, "ch": '{"notes": ["已约谈", "已复查"]}'},
        )
        c.execute(text("UPDATE findings SET notes = '已复查', revision = 3 WHERE id = :f"), {"f": fid})
    assert [r.source for r in service.finding_history(engine, no)] == ["cli", "cli", "psql"]
    assert_history_consistent(engine)


def test_migration_0003_numbers_the_history_and_downgrades(two):
    from alembic import command

    from inspect_kit.storage.db import alembic_config

    engine, (no, other) = two
    add(engine, no, first(no), now=T1, by="张三")
    add(engine, other, first(other), now=T1, by="张三")
    add(engine, no, {"notes": "已约谈"}, now=T2)
    before = dump(engine)
    command.downgrade(alembic_config(engine), "0002")
    assert current_revision(engine) == "0002"
    for table in ("findings", "finding_revisions"):
        assert "revision" not in {c["name"] for c in sa_inspect(engine).get_columns(table)}
    with engine.begin() as c:  # 0002's own append-only trigger is still there
        with pytest.raises(Exception, match="append-only"):
            c.execute(text("DELETE FROM finding_revisions"))
    upgrade(engine)
    assert dump(engine) == before  # revisions numbered again in id order, rows at their latest
    assert_history_consistent(engine)
    refused(engine, "DELETE FROM findings", "never deleted")
