"""Draws against the database: the oracle, exemptions, coverage, re-draws, append-only records,
bundles and the CLI. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from consistent_sampler import sampler as oracle
from sqlalchemy import insert, select, text

from inspect_kit.draw import service
from inspect_kit.draw.core.bundle import verify_bundle
from inspect_kit.draw.core.seeds import SeedError, SeedSource, derive_seed
from inspect_kit.errors import InspectError
from inspect_kit.storage.models import Entity, Finding, Task
from tests.conftest import CONFIGS, write_csv

T0 = dt.datetime(2026, 1, 5, 9, 0)
T1 = dt.datetime(2026, 1, 5, 10, 0)
SEED = "48213 90577 16342 75018"
DICE = SeedSource.witnessed("掷骰，县政务大厅", ["公证员周文"])


def draw(engine, config, matter, period, seed=SEED, **kw):
    service.prepare_frame(
        engine,
        config,
        matter,
        period,
        as_of=kw.pop("as_of", T0.date()),
        now=kw.pop("prep", T0),
        source=kw.pop("source", DICE),
        redraw=kw.pop("redraw", False),
        reason=kw.pop("reason", None),
    )
    return service.run_draw(engine, config, matter, period, seed=seed, now=kw.pop("now", T1), **kw)


def redraw(engine, config, matter, period, seed, reason="t", at=T1):
    return draw(engine, config, matter, period, seed, redraw=True, reason=reason, prep=at, now=at)


def test_sample_equals_the_consistent_sampler_package(demo_db, config):
    d = draw(demo_db, config, "SCJG-01", "2026")
    bundle = service.export_bundle(demo_db, d.id)
    by_stratum: dict[str, list[str]] = {}
    for ident, stratum in bundle["frame"]["rows"]:
        by_stratum.setdefault(stratum, []).append(ident)
    assert set(by_stratum) == {"A", "B", "C", "D"}
    # The package is given the per-draw seed, derived from the public seed by the published rule.
    assert bundle["seed"] == derive_seed(SEED, "SCJG-01", "2026") and bundle["seed_derivation"]["public_seed"] == SEED
    for s in bundle["strata"]:
        expected = list(
            oracle(by_stratum[s["stratum"]], seed=bundle["seed"], with_replacement=False, take=s["n"], output="id")
        )
        got = [x["identifier"] for x in bundle["sample"] if x["stratum"] == s["stratum"]]
        assert got == expected, s["stratum"]
    assert verify_bundle(bundle).ok


def test_sizes_follow_the_quotas(demo_db, config):
    d = draw(demo_db, config, "SCJG-01", "2026")
    by = {s["stratum"]: s for s in d.strata}
    for label, pct in (("A", 3), ("B", 5), ("C", 20), ("D", 60)):
        N = by[label]["N"]
        assert by[label]["n"] == -(-N * pct // 100), label  # ceil, exactly
    d2 = draw(demo_db, config, "JYTY-02", "2026")
    by = {s["stratum"]: s for s in d2.strata}
    assert by["民办幼儿园"]["n"] == by["民办幼儿园"]["N"] == 5
    assert by["公办幼儿园"]["n"] == 13  # ceil(126 × 10%)


def test_exempt_and_inactive_entities_are_never_drawn(demo_db, config):
    with demo_db.connect() as c:
        exempt = set(c.execute(select(Entity.identifier).where(Entity.exempt_reason.is_not(None))).scalars())
        inactive = set(c.execute(select(Entity.identifier).where(Entity.status != "active")).scalars())
    assert len(exempt) == 5 and inactive
    d = draw(demo_db, config, "STHJ-02", "2026Q1")
    frame_ids = {r[0] for r in service.export_bundle(demo_db, d.id)["frame"]["rows"]}
    assert not frame_ids & exempt and len(frame_ids) == 29
    d = draw(demo_db, config, "SCJG-01", "2026")
    frame_ids = {r[0] for r in service.export_bundle(demo_db, d.id)["frame"]["rows"]}
    assert not frame_ids & inactive


def test_exemption_window_follows_the_draw_date(demo_db, config):
    # The demo exemptions run 2026-01-01 .. 2026-12-31: a 2027 frame includes them again.
    f = service.prepare_frame(
        demo_db, config, "STHJ-02", "2027Q1", as_of=dt.date(2027, 1, 4), now=dt.datetime(2027, 1, 4), source=DICE
    )
    assert f.n_rows == 34 and not f.excluded


def test_annual_coverage_is_disjoint_and_complete(demo_db, config):
    seen: list[set[str]] = []
    for q in range(1, 5):
        day = dt.datetime(2026, 3 * q - 2, 5, 9)
        d = draw(
            demo_db,
            config,
            "STHJ-01",
            f"2026Q{q}",
            seed=f"{SEED} q{q}",
            as_of=day.date(),
            prep=day,
            now=day + dt.timedelta(hours=1),
        )
        seen.append({t["identifier"] for t in d.tasks})
        assert service.verify_draw(demo_db, d.id).ok
    assert [len(s) for s in seen] == [4, 4, 4, 4]
    assert len(set().union(*seen)) == 16  # every key source once


def test_recently_clean_entities_are_excluded(demo_db, config):
    import dataclasses

    # the shipped yearly cap (一般排污单位: once a year) would leave out the whole Q1 sample too
    config = dataclasses.replace(config, settings=config.settings.model_copy(update={"burden": None}))
    d = draw(demo_db, config, "STHJ-02", "2026Q1")
    with demo_db.begin() as c:
        task_id = c.execute(select(Task.id).where(Task.draw_id == d.id).limit(1)).scalar_one()
        c.execute(
            insert(Finding.__table__).values(
                task_id=task_id,
                inspection_start=dt.date(2026, 2, 3),
                inspection_end=dt.date(2026, 2, 3),
                results=["R01"],
                follow_ups=["F01"],
                recorded_by="张三",
                created_at=T1,
                updated_at=T1,
            )
        )
    f = service.prepare_frame(
        demo_db, config, "STHJ-02", "2026Q2", as_of=dt.date(2026, 4, 3), now=dt.datetime(2026, 4, 3), source=DICE
    )
    assert f.n_rows == 28 and "inspected with no problem within 6 months" in f.excluded


def test_redraw_needs_a_reason_and_keeps_history(demo_db, config):
    first = draw(demo_db, config, "STHJ-02", "2026Q1")
    with pytest.raises(InspectError, match="already drawn"):
        service.run_draw(demo_db, config, "STHJ-02", "2026Q1", seed=SEED + "9", now=T1)
    with pytest.raises(InspectError, match="already drawn"):
        service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T1, source=DICE)
    with pytest.raises(InspectError, match="needs --reason"):
        service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T1, source=DICE, redraw=True)
    second = redraw(demo_db, config, "STHJ-02", "2026Q1", SEED + "9", reason="会议记录显示种子宣读有误")
    assert second.redraw_of == first.id and second.reason == "会议记录显示种子宣读有误"
    listed = service.list_draws(demo_db, "2026Q1")
    assert [d.id for d in listed] == [first.id, second.id]
    assert all(t["task_no"].startswith("STHJ-02-2026Q1-R1-") for t in second.tasks)
    from inspect_kit.draw.store.tasks import current_tasks

    with demo_db.connect() as c:
        assert {t.draw_id for t in current_tasks(c, "2026Q1")} == {second.id}
    assert service.verify_draw(demo_db, first.id).ok and service.verify_draw(demo_db, second.id).ok


def test_seed_rules(demo_db, config):
    service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T0, source=DICE)
    with pytest.raises(InspectError, match="at least 20 characters"):
        service.run_draw(demo_db, config, "STHJ-02", "2026Q1", seed="12345", now=T1)
    with pytest.raises(InspectError, match="repeats one character"):
        service.run_draw(demo_db, config, "STHJ-02", "2026Q1", seed="0" * 25, now=T1)
    with pytest.raises(SeedError, match="witness"):
        SeedSource.witnessed("dice", [])
    with pytest.raises(InspectError, match="no commitment"):
        service.run_draw(demo_db, config, "STHJ-01", "2026Q1", seed=SEED, now=T1)


def test_different_seeds_give_different_samples(demo_db, config):
    a = draw(demo_db, config, "SCJG-01", "2026", seed="01" * 10)
    b = redraw(demo_db, config, "SCJG-01", "2026", "01" * 10 + "2")
    assert {t["identifier"] for t in a.tasks} != {t["identifier"] for t in b.tasks}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE draws SET seed = 'x'",
        "DELETE FROM draws",
        "UPDATE tasks SET identifier = 'x'",
        "DELETE FROM tasks",
        "UPDATE frames SET frame_sha256 = 'x'",
        "DELETE FROM registry_changes",
    ],
)
def test_records_are_append_only_in_the_database(demo_db, config, statement):
    draw(demo_db, config, "STHJ-02", "2026Q1")
    with pytest.raises(Exception, match="append-only"):
        with demo_db.begin() as c:
            c.execute(text(statement))


def test_no_code_path_rewrites_a_draw():
    """No module issues UPDATE or DELETE against an append-only table."""
    from inspect_kit.storage.models.draw import APPEND_ONLY_TABLES

    root = Path(__file__).resolve().parents[1] / "inspect_kit"
    models = {
        "frames": "Frame",
        "draws": "Draw",
        "tasks": "Task",
        "registry_changes": "RegistryChange",
        "registry_insert_blocks": "RegistryInsertBlock",
        "assignments": "Assignment",
        "team_members": "TeamMember",
        "finding_revisions": "FindingRevision",
        "notices": "Notice",
        "scoring_runs": "ScoringRun",
        "manual_values": "ManualValue",
        "commitments": "Commitment",
        "seal_salts": "SealSalt",
        "unsealings": "Unsealing",
        "log_entries": "LogEntry",
        "log_genesis": "LogGenesis",
        "finding_reviews": "FindingReview",
        "evidence": "Evidence",
        "evidence_blobs": "EvidenceBlob",
        "joint_visits": "JointVisit",
        "joint_visit_tasks": "JointVisitTask",
    }
    assert set(models) == set(APPEND_ONLY_TABLES)
    offenders = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        src = path.read_text(encoding="utf-8")
        for table, model in models.items():
            pattern = (
                rf"(update|delete)\(\s*{model}\b|{model}(\.__table__)?\.(update|delete)\(|"
                rf"(UPDATE|DELETE\s+FROM)\s+{table}\b|session\.delete\("
            )
            if re.search(pattern, src):
                offenders.append(f"{path.relative_to(root)}: {table}")
    assert offenders == []


def test_list_file_draw(tmp_path):
    from inspect_kit.draw.store.listfile import draw_from_file

    rows = [["序号", "单位名称", "代码", "片区"]] + [
        [str(i), f"单位{i}", f"ID{i:04d}", "东" if i % 3 else "西"] for i in range(60)
    ]
    path = write_csv(tmp_path / "list.csv", rows, "gbk")
    res = draw_from_file(
        path,
        id_column="代码",
        stratum_column="片区",
        rate="10%",
        n=None,
        rounding="ceil",
        seed="8812 0031 7765 2290 4418",
        id_scheme="other",
    )
    summary = res.summary()
    assert [(s["stratum"], s["N"], s["n"]) for s in summary["strata"]] == [("东", 40, 4), ("西", 20, 2)]
    east = [f"ID{i:04d}" for i in range(60) if i % 3]
    assert [x["identifier"] for x in summary["strata"][0]["selected"]] == list(
        oracle(east, seed="8812 0031 7765 2290 4418", take=4, output="id")
    )
    assert verify_bundle(res.bundle).ok
    rows.append(["61", "重复", "ID0001", "东"])
    with pytest.raises(InspectError, match="repeated"):
        draw_from_file(
            write_csv(tmp_path / "dup.csv", rows),
            id_column="代码",
            stratum_column="片区",
            rate="10%",
            n=None,
            rounding="ceil",
            seed="8812 0031 7765 2290 4418",
            id_scheme="other",
        )


def test_cli_draw_verify_and_tampered_bundle(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "x.db"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), "--db", str(db), *map(str, args)],
            capture_output=True,
            text=True,
        )

    root = Path(__file__).resolve().parents[1]
    assert run("init").returncode == 0 and run("config", "load").returncode == 0
    assert run("registry", "import", "entities", root / "registries/entities_sthj.csv").returncode == 0
    r = run(
        "draw",
        "prepare",
        "--quarter",
        "2026Q1",
        "--matter",
        "STHJ-02",
        "--as-of",
        "2026-01-05",
        "--witnessed",
        "掷骰",
        "--witness",
        "周文",
    )
    assert r.returncode == 0 and "SHA-256" in r.stdout
    r = run("draw", "run", "--quarter", "2026Q1", "--matter", "STHJ-02", "--seed", SEED)
    assert r.returncode == 0, r.stderr
    r = run("draw", "run", "--quarter", "2026Q1", "--matter", "STHJ-02", "--seed", SEED + "1")
    assert r.returncode == 1 and "--redraw --reason" in r.stderr
    shown = json.loads(run("draw", "show", "--quarter", "2026Q1", "--json").stdout)
    assert len(shown[0]["tasks"]) == 3 and all(len(t["ticket"]) >= 20 for t in shown[0]["tasks"])
    assert run("draw", "export-bundle", "1", "-o", tmp_path / "b.json").returncode == 0
    assert run("verify", "--bundle", tmp_path / "b.json").returncode == 0
    assert run("verify").returncode == 0
    bundle = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    for name, tamper, words in (
        ("seed", lambda b: b.update(seed=b["seed"] + "0"), "belongs to seed"),
        ("frame", lambda b: b["frame"]["rows"].append(["91360199MA0000000X", "一般排污单位"]), "frame hash mismatch"),
        ("sample", lambda b: b["sample"][0].update(identifier=b["frame"]["rows"][-1][0]), "sample differs"),
    ):
        bad = json.loads(json.dumps(bundle))
        tamper(bad)
        (tmp_path / f"{name}.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
        r = run("verify", "--bundle", tmp_path / f"{name}.json")
        assert r.returncode == 1 and words in r.stdout, (name, r.stdout)
