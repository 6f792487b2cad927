"""The annual plan's list of changes since its first publication, read from the configuration's
history (config loads: import_batches + registry_changes of table 'matters', removals included).
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy import select

from inspect_kit.config.models import ChecklistItem
from inspect_kit.config.sync import sync_config
from inspect_kit.publish.notice_plan import describe_changes
from inspect_kit.publish.plan_service import plan_changes, publish_plan
from inspect_kit.storage.models import RegistryChange

JAN5 = dt.datetime(2026, 1, 5, 10, 0)
MAR1 = dt.datetime(2026, 3, 1, 9, 0)


def _text(path) -> str:
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def amended(config, sha: str):
    """STHJ-02's quota 1:10 → 1:8, a sixth item on STHJ-01's checklist, LH-01 taken out."""
    matters = []
    for m in config.matters:
        if m.code == "STHJ-02":
            m = m.model_copy(update={"quota": "1:8"})
        elif m.code == "STHJ-01":
            extra = ChecklistItem(code="06", content="环境应急预案：是否按规定编制并备案", basis="", method="查阅资料")
            m = m.model_copy(update={"checklist": [*m.checklist, extra]})
        elif m.code == "LH-01":
            continue
        matters.append(m)
    return dataclasses.replace(config, matters=matters, sha256=sha)


def test_describe_changes_in_the_plans_words():
    old = {"quota": "1:10", "materials": ["a"], "pair_cap": 0.5, "checklist": [{"code": "01", "content": "x"}]}
    new = {"quota": "25%", "materials": ["a", "b"], "pair_cap": 0.4, "checklist": [{"code": "02", "content": "y"}]}
    assert describe_changes(old, new) == [
        "抽查比例由“1:10（每10家抽取1家）”调整为“25%”",
        "检查内容增加第02项“y”",
        "检查内容删除第01项“x”",
        "需准备的材料增加“b”",
    ]  # pair_cap is not printed by the plan: not listed


def test_a_reissued_plan_lists_the_changes_since_its_first_publication(configured, config, tmp_path):
    engine = configured
    assert plan_changes(engine, 2026, ["STHJ-01"]) == (None, [])
    first = publish_plan(engine, config, 2026, path=tmp_path / "p1.pdf", unit="STHJ", issue_date=JAN5.date(), now=JAN5)
    assert "计划调整情况" not in _text(first.path)
    v2 = amended(config, "f" * 64)
    summary = sync_config(engine, v2, MAR1)
    assert summary.matters_updated == 2 and summary.matters_removed == 1
    # loaded again: the removal is not logged twice
    assert sync_config(engine, v2, MAR1 + dt.timedelta(hours=1)).matters_removed == 0
    with engine.connect() as c:
        actions = c.execute(
            select(RegistryChange.key, RegistryChange.action).where(
                RegistryChange.table_name == "matters", RegistryChange.at >= MAR1
            )
        ).all()
    assert sorted(actions) == [("LH-01", "delete"), ("STHJ-01", "update"), ("STHJ-02", "update")]
    again = publish_plan(
        engine, v2, 2026, path=tmp_path / "p2.pdf", unit="STHJ", issue_date=dt.date(2026, 3, 2), now=MAR1
    )
    text = _text(again.path)
    assert "计划调整情况" in text and "本计划于2026年1月5日首次公布。此后调整3项" in text
    assert "检查内容增加第06项“环境应急预案：是否按规定编制并备案”" in text
    assert "抽查比例由“1:10（每10家抽取1家）”调整为“1:8（每8家抽取1家）”" in text
    assert "LH-01）不再列入抽查计划" in text
    assert again.matter_codes == ["STHJ-01", "STHJ-02"]
    # JYTY's plan was never published: no change list; SCJG's none either (its first plan is later)
    assert plan_changes(engine, 2026, ["JYTY-01"]) == (None, [])
    # the matter comes back: logged as added again, and listed
    sync_config(engine, config, MAR1 + dt.timedelta(days=1))
    first_on, changes = plan_changes(engine, 2026, ["STHJ-01", "STHJ-02", "LH-01"])
    assert first_on == JAN5.date() and [c.text for c in changes if c.matter_code == "LH-01"] == [
        "不再列入抽查计划",
        "新增抽查事项",
    ]
