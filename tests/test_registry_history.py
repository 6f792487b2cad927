"""An entity's history since revision 0008: its insert is kept in an insert block (one row per
chunk of inserted entities), not as a registry_changes row of its own. What `show_record` reads
must be what the per-row history read before: the same insert (at, action, field → [null, new],
batch), then the updates — on both write paths, for databases upgraded from 0007 with history in
them, and nothing of a refused import left behind. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from inspect_kit.errors import ValidationFailed
from inspect_kit.registry.importer import CHUNK, import_registry
from inspect_kit.registry.query import show_record
from inspect_kit.storage.models import Entity, ImportBatch, RegistryChange, RegistryInsertBlock
from tests.conftest import NOW, write_csv
from tests.helpers import ENTITY_HEADER, entity_row, make_uscc

T2 = dt.datetime(2026, 3, 1, 10, 0)
T3 = dt.datetime(2026, 4, 1, 8, 30)
SLIM = ["统一社会信用代码", "单位名称", "类别"]


def _insert_of(i: int, **over: str | None) -> dict:
    """The insert's changes as the per-row history wrote them: every non-empty field of the file,
    in the file's order, as [null, value]."""
    values = {
        "identifier": make_uscc(i),
        "name": f"测试企业{i}有限公司",
        "category": "企业",
        "township": "城关镇",
        "credit_class": "B",
        "status": "active",
        "exempt_reason": None,
        "exempt_from": None,
        "exempt_to": None,
        "phone": "13800000000",
        "legal_rep": "张三",
    }
    values.update(over)
    return {k: [None, v] for k, v in values.items() if v is not None}


def _batches(engine) -> list[int]:
    with engine.connect() as c:
        return list(
            c.execute(select(ImportBatch.id).where(ImportBatch.kind == "entities").order_by(ImportBatch.id)).scalars()
        )


def _counts(engine) -> list[int]:
    with engine.connect() as c:
        return [
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (Entity, ImportBatch, RegistryChange, RegistryInsertBlock)
        ]


@pytest.mark.parametrize("columnwise", [True, False])
def test_history_reads_as_the_per_row_history_did(configured, import_options, tmp_path, columnwise):
    """Insert (a full chunk: the column path; a row with a date), update, a slim file that inserts
    with three fields and updates one, a clearing update: the golden sequence, spelled out."""
    exempt = {"豁免原因": "停产整顿", "豁免起始日期": "2026/02/01", "豁免截止日期": ""}
    first = [ENTITY_HEADER] + [entity_row(i, **(exempt if i == 7 else {})) for i in range(CHUNK + 5)]
    opts = import_options(columnwise=columnwise)
    import_registry(configured, "entities", write_csv(tmp_path / "a.csv", first), opts)
    second = [ENTITY_HEADER, entity_row(1, 单位名称="新名称有限公司", 信用等级="D"), entity_row(7, 豁免原因="")]
    second[2][ENTITY_HEADER.index("豁免起始日期")] = ""
    import_registry(configured, "entities", write_csv(tmp_path / "b.csv", second), dataclasses.replace(opts, now=T2))
    # a chunk with an existing key: the row-by-row upsert, its new row an insert block too
    slim = [SLIM, [make_uscc(1), "再改名有限公司", "企业"], [make_uscc(CHUNK + 50), "新来的商店", "个体工商户"]]
    import_registry(configured, "entities", write_csv(tmp_path / "c.csv", slim), dataclasses.replace(opts, now=T3))
    b1, b2, b3 = _batches(configured)

    assert show_record(configured, "entities", make_uscc(1))["history"] == [
        {"at": NOW, "action": "insert", "changes": _insert_of(1), "batch_id": b1},
        {
            "at": T2,
            "action": "update",
            "changes": {"name": ["测试企业1有限公司", "新名称有限公司"], "credit_class": ["B", "D"]},
            "batch_id": b2,
        },
        {"at": T3, "action": "update", "changes": {"name": ["新名称有限公司", "再改名有限公司"]}, "batch_id": b3},
    ]
    seven = show_record(configured, "entities", make_uscc(7))["history"]
    assert seven == [
        {
            "at": NOW,
            "action": "insert",
            "changes": _insert_of(7, exempt_reason="停产整顿", exempt_from="2026-02-01"),
            "batch_id": b1,
        },
        {
            "at": T2,
            "action": "update",
            "changes": {"exempt_reason": ["停产整顿", None], "exempt_from": ["2026-02-01", None]},
            "batch_id": b2,
        },
    ]
    assert list(seven[0]["changes"]) == ["identifier", "name", "category", "township", "credit_class", "status"] + [
        "exempt_reason",
        "exempt_from",
        "phone",
        "legal_rep",
    ]  # the file's order, as the JSON row had it
    newcomer = show_record(configured, "entities", make_uscc(CHUNK + 50))
    assert newcomer["history"] == [
        {
            "at": T3,
            "action": "insert",
            "changes": {
                "identifier": [None, make_uscc(CHUNK + 50)],
                "name": [None, "新来的商店"],
                "category": [None, "个体工商户"],
            },
            "batch_id": b3,
        }
    ]
    assert "insert_block_id" not in newcomer  # the record reads as before
    last = show_record(configured, "entities", make_uscc(CHUNK + 4))["history"]
    assert last == [{"at": NOW, "action": "insert", "changes": _insert_of(CHUNK + 4), "batch_id": b1}]
    with configured.connect() as c:  # the history of inserts is a few rows, not one per entity
        assert c.execute(select(func.count()).select_from(RegistryInsertBlock)).scalar_one() <= 3
        assert (
            c.execute(
                select(func.count()).select_from(RegistryChange).where(RegistryChange.table_name == "entities")
            ).scalar_one()
            == 3
        )


def test_a_block_that_does_not_hold_the_key_shows_no_insert(configured, import_options, tmp_path):
    """The entity's pointer is not trusted blindly: a block without its key gives no insert."""
    rows = [ENTITY_HEADER, entity_row(1)]
    import_registry(configured, "entities", write_csv(tmp_path / "a.csv", rows), import_options())
    import_registry(
        configured, "entities", write_csv(tmp_path / "b.csv", [ENTITY_HEADER, entity_row(2)]), import_options()
    )
    with configured.begin() as c:
        other = c.execute(select(Entity.insert_block_id).where(Entity.identifier == make_uscc(2))).scalar_one()
        c.execute(sa.update(Entity).where(Entity.identifier == make_uscc(1)).values(insert_block_id=other))
    assert show_record(configured, "entities", make_uscc(1))["history"] == []


def test_a_refused_import_leaves_no_batch_no_block_no_history(configured, import_options, tmp_path):
    """The first chunks go in (their blocks too) before a bad row far down refuses the file: all
    of it is rolled back."""
    import_registry(
        configured, "entities", write_csv(tmp_path / "a.csv", [ENTITY_HEADER, entity_row(0)]), import_options()
    )
    before = _counts(configured)
    rows = [ENTITY_HEADER] + [entity_row(i) for i in range(1, 2 * CHUNK + 10)]
    rows[1] = entity_row(0, 单位名称="改名")  # an update in the first chunk
    rows[-1] = entity_row(999_999, 信用等级="E")
    with pytest.raises(ValidationFailed, match="rejected"):
        import_registry(configured, "entities", write_csv(tmp_path / "b.csv", rows), import_options(now=T2))
    assert _counts(configured) == before
    assert len(show_record(configured, "entities", make_uscc(0))["history"]) == 1


def test_insert_blocks_are_append_only(configured, import_options, tmp_path):
    import_registry(
        configured, "entities", write_csv(tmp_path / "a.csv", [ENTITY_HEADER, entity_row(1)]), import_options()
    )
    for statement in ("UPDATE registry_insert_blocks SET table_name = 'x'", "DELETE FROM registry_insert_blocks"):
        with pytest.raises(Exception, match="append-only"):
            with configured.begin() as c:
                c.execute(sa.text(statement))


def test_history_written_before_0008_reads_the_same_after_the_upgrade(db_url, config, import_options, tmp_path):
    """A 0007 database with per-row history (an insert and an update) is upgraded: the old rows
    read as they did, later updates follow them, and a new entity's insert comes from its block."""
    from inspect_kit.config.sync import sync_config
    from inspect_kit.storage.db import make_engine, upgrade

    eng = make_engine(db_url)
    upgrade(eng, "0007")
    # the 0007 schema, spelled out here (the live models have 0008's column)
    batches = sa.table(
        "import_batches",
        *(sa.column(c) for c in ("id", "kind", "source", "added", "updated", "unchanged")),
        sa.column("at", sa.DateTime),
    )
    entities = sa.table(
        "entities",
        *(sa.column(c) for c in ("identifier", "id_scheme", "name", "category", "status", "credit_class")),
        sa.column("updated_at", sa.DateTime),
    )
    changes = sa.table(
        "registry_changes",
        *(sa.column(c) for c in ("batch_id", "table_name", "key", "action")),
        sa.column("at", sa.DateTime),
        sa.column("changes", sa.JSON),
    )
    key = make_uscc(1)
    old_insert = {
        "identifier": [None, key],
        "name": [None, "老企业"],
        "category": [None, "企业"],
        "credit_class": [None, "A"],
    }
    old_update = {"credit_class": ["A", "C"]}
    with eng.begin() as c:
        b1, b2 = (
            c.execute(
                sa.insert(batches)
                .values(kind="entities", source="old.csv", at=at, added=1, updated=0, unchanged=0)
                .returning(batches.c.id)
            ).scalar_one()
            for at in (NOW, T2)
        )
        c.execute(
            sa.insert(entities).values(
                identifier=key,
                id_scheme="uscc",
                name="老企业",
                category="企业",
                status="active",
                credit_class="C",
                updated_at=T2,
            )
        )
        c.execute(
            sa.insert(changes).values(
                batch_id=b1, at=NOW, table_name="entities", key=key, action="insert", changes=old_insert
            )
        )
        c.execute(
            sa.insert(changes).values(
                batch_id=b2, at=T2, table_name="entities", key=key, action="update", changes=old_update
            )
        )
    before = [
        {"at": NOW, "action": "insert", "changes": old_insert, "batch_id": b1},
        {"at": T2, "action": "update", "changes": old_update, "batch_id": b2},
    ]
    upgrade(eng)
    sync_config(eng, config, NOW)
    assert show_record(eng, "entities", key)["history"] == before
    slim = [SLIM, [key, "老企业改名", "企业"], [make_uscc(2), "新企业", "企业"]]
    import_registry(eng, "entities", write_csv(tmp_path / "n.csv", slim), import_options(now=T3))
    b3 = _batches(eng)[-1]
    assert show_record(eng, "entities", key)["history"] == before + [
        {"at": T3, "action": "update", "changes": {"name": ["老企业", "老企业改名"]}, "batch_id": b3}
    ]
    assert show_record(eng, "entities", make_uscc(2))["history"] == [
        {
            "at": T3,
            "action": "insert",
            "changes": {"identifier": [None, make_uscc(2)], "name": [None, "新企业"], "category": [None, "企业"]},
            "batch_id": b3,
        }
    ]
    eng.dispose()
