"""Draws that hold against their own operator: each finding of the trust review staged as an attack.

1 correlated matters · 2 frame switching · 3 self-consistent forgeries · 4 quiet re-draws and
deletions · 5 seed shopping · 6 list-file identifiers · 7 first use. Storage cases run on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys

import pytest
from consistent_sampler import sampler as oracle
from sqlalchemy import select, text

from inspect_kit.draw import service
from inspect_kit.draw.core.bundle import verify_bundle
from inspect_kit.draw.core.frame import draw_stratified
from inspect_kit.draw.core.record import Expected, commitment_sha256, sample_sha256
from inspect_kit.draw.core.seeds import DRAND_CHAINS, SeedError, SeedSource, derive_seed, seed_value
from inspect_kit.errors import InspectError
from inspect_kit.storage.models import Draw, Frame
from inspect_kit.transparency import store as log
from inspect_kit.transparency.chain import content_sha256, entry_from_dict, make_entry
from tests.conftest import CONFIGS, REGISTRIES, write_csv
from tests.helpers import make_uscc

T0 = dt.datetime(2026, 1, 5, 9, 0)
T1 = dt.datetime(2026, 1, 5, 10, 0)
SEED = "48213 90577 16342 75018"
DICE = SeedSource.witnessed("掷骰，县政务大厅", ["公证员周文"])
# ../shared/BEACONS.md: real drand rounds
QUICKNET = {
    657413: (
        "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b",
        "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587",
    ),
    32285085: (
        "81dbce51d584d90d618547f4b50391d53ace6f6b9aeb8fb67e1879427af9d0310ac0ec6f519271d9a313ee84b378d416",
        "d42020c3c65a4ec6adda3a69fdd41a698f31b661859e0e00f1276580a41d67ce",
    ),
    32285086: (
        "a64d99fd7fa3e48912be7209c7b69c72c88fc5224be2516949b6f29f3a4b7e3fa069dd58b2bbb4bf2c34ae61ef631a44",
        "13bfa6a42a5a93d0f642e8d4548c2a94ea71b39585f65fd2842e0484d58d5554",
    ),
}
MAINNET = (
    3311596,
    "8ed588f2a7716fb1349e2d9803da5db0005e98a83783c353d4a08f183236a9ad91d70ddb01266f4b7c576983db464b430e65680b9e0"
    "098552758afd6c1e6afcb77e3f62fe1b93d42d1cb63abbb2205512fe12fbf74ea9c5ac3b8f5c1e283a1d8",
    "a696b9409ababce45749c3a4ec369074453dd4a79967734e1390d969c8ad8d98897d217b9121e92c8ddebbddda8d92f900e3bd6bf9deb"
    "166863b1a19390d743f82774001487594c5c09e581db7365f02b70a2c8cc41ce32446ef08e4890c4754",
    "647c07b2abbf7ff2afb4d670214f565e5cd9f9c91bfdcecb59a21f3c78d73920",
)
ROUND = 32285085
BEFORE_ROUND = dt.datetime(2026, 9, 17, 16, 0)  # CST; the round is published at 23:23:39 CST
AFTER_ROUND = dt.datetime(2026, 9, 18, 9, 0)


def _draw(engine, config, matter, period, seed=SEED, prep=T0, now=T1, source=DICE, **kw):
    service.prepare_frame(
        engine,
        config,
        matter,
        period,
        as_of=prep.date(),
        now=prep,
        source=source,
        redraw=kw.pop("redraw", False),
        reason=kw.pop("reason", None),
        sealed=kw.pop("sealed", False),
    )
    return service.run_draw(engine, config, matter, period, now=now, **({"seed": seed} if seed else {}), **kw)


def _log_ok(engine, *heads):
    with engine.connect() as conn:
        return log.verify_log(conn, list(heads))


def _head(engine):
    with engine.connect() as conn:
        return log.head_text(conn)


# -- the public randomness -------------------------------------------------------------------------


@pytest.mark.parametrize("round_", sorted(QUICKNET))
def test_real_drand_quicknet_rounds_verify(round_):
    signature, randomness = QUICKNET[round_]
    value = seed_value(SeedSource.drand(round_), signature=signature)
    assert value.seed == randomness and value.evidence == {"signature": signature, "randomness": randomness}


def test_real_drand_mainnet_round_verifies_with_its_previous_signature():
    round_, previous, signature, randomness = MAINNET
    assert (
        seed_value(SeedSource.drand(round_, "mainnet"), signature=signature, previous_signature=previous).seed
        == randomness
    )
    with pytest.raises(SeedError, match="previous signature"):
        seed_value(SeedSource.drand(round_, "mainnet"), signature=signature)


def test_drand_publication_times_follow_genesis_and_period():
    chain = DRAND_CHAINS["quicknet"]
    # BEACONS.md, in UTC: 2026-09-17T15:23:39Z and 2023-09-15T11:00:03Z; inspect-kit keeps UTC+8.
    assert chain.published_at(32285085) == dt.datetime(2026, 9, 17, 23, 23, 39)
    assert chain.published_at(657413) == dt.datetime(2023, 9, 15, 19, 0, 3)
    assert chain.first_round_after(dt.datetime(2026, 9, 17, 23, 23, 38)) == 32285085
    assert chain.first_round_after(dt.datetime(2026, 9, 17, 23, 23, 39)) == 32285086


@pytest.mark.parametrize("change", ["round", "signature", "chain"])
def test_a_changed_round_signature_or_chain_is_refused(change):
    signature, _ = QUICKNET[ROUND]
    round_, chain = ROUND, "quicknet"
    if change == "round":
        round_ += 1
    elif change == "signature":
        signature = signature[:-2] + ("00" if signature[-2:] != "00" else "11")
    else:
        chain = "mainnet"
    with pytest.raises(SeedError, match="does not verify|previous signature"):
        seed_value(SeedSource.drand(round_, chain), signature=signature)
    # and a chain hash that is not the chain's own is refused when a source is read back
    with pytest.raises(SeedError, match="chain hash"):
        SeedSource.from_dict({**SeedSource.drand(ROUND).to_dict(), "chain_hash": "00" * 32})


# -- 1. correlated matters ----------------------------------------------------------------------------


def test_two_matters_over_the_same_entities_draw_independently():
    """Finding 1: one public seed, two matters, same 16 entities: different per-draw seeds, samples
    that overlap as chance says, and shared tickets only when a ticket group says so."""
    ids = [make_uscc(i) for i in range(16)]
    overlaps = []
    for k in range(200):
        public = f"{SEED} {k}"
        a = {
            c.id
            for c in draw_stratified(derive_seed(public, "STHJ-01", "2026Q1"), [(i, "S") for i in ids], {"S": 4})
            .stratum("S")
            .selected
        }
        b = {
            c.id
            for c in draw_stratified(derive_seed(public, "STHJ-02", "2026Q1"), [(i, "S") for i in ids], {"S": 4})
            .stratum("S")
            .selected
        }
        overlaps.append(len(a & b))
    assert 0.6 < sum(overlaps) / len(overlaps) < 1.4  # independent 4-of-16 draws overlap by 1 on average
    assert derive_seed(SEED, "STHJ-01", "2026Q1") != derive_seed(SEED, "STHJ-01", "2026Q2")
    # the rule is the documented one, reproducible with the standard library alone
    import hashlib

    assert (
        derive_seed(SEED, "G", "2026")
        == hashlib.sha256(
            json.dumps(
                ["inspect-kit/draw-seed/1", SEED, "G", "2026"], ensure_ascii=False, separators=(",", ":")
            ).encode()
        ).hexdigest()
    )


def test_matters_of_one_period_get_their_own_seeds_and_a_ticket_group_shares_them(demo_db, config):
    codes = ["STHJ-01", "STHJ-02"]
    service.prepare(demo_db, config, "2026Q1", codes, source=DICE, as_of=T0.date(), now=T0)
    a, b = service.run(demo_db, config, "2026Q1", codes, now=T1, seed=SEED)
    assert a.seed == b.seed == SEED and a.derived_seed != b.derived_seed
    assert a.derived_seed == derive_seed(SEED, "STHJ-01", "2026Q1")
    import dataclasses

    grouped = dataclasses.replace(
        config,
        matters=[
            m.model_copy(update={"ticket_group": "STHJ-SHARED"}) if m.code in codes else m for m in config.matters
        ],
    )
    service.prepare(demo_db, grouped, "2026Q2", codes, source=DICE, as_of=T0.date(), now=T1)
    c, d = service.run(demo_db, grouped, "2026Q2", codes, now=T1, seed=SEED)
    assert c.derived_seed == d.derived_seed == derive_seed(SEED, "STHJ-SHARED", "2026Q2")
    assert service.export_bundle(demo_db, c.id)["seed_derivation"]["ticket_group"] == "STHJ-SHARED"


# -- 2. frame switching -------------------------------------------------------------------------------


def test_run_refuses_any_frame_but_the_published_one(demo_db, config):
    f = service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T0, source=DICE)
    with pytest.raises(InspectError, match=f"published frame hash is {'0' * 64}.*hashes to {f.sha256}"):
        service.run_draw(demo_db, config, "STHJ-02", "2026Q1", now=T1, seed=SEED, frame_sha256="0" * 64)
    d = service.run_draw(demo_db, config, "STHJ-02", "2026Q1", now=T1, seed=SEED, frame_sha256=f.sha256.upper())
    assert d.frame_sha256 == f.sha256


def test_refreezing_after_the_seed_is_known_is_a_visible_redraw(demo_db, config):
    """Finding 2: exempt a drawn entity, prepare again, run: refused without --redraw --reason, and
    with them every frame frozen is listed in the bundle and the notice."""
    from inspect_kit.storage.models import Entity

    first = _draw(demo_db, config, "STHJ-02", "2026Q1")
    victim = first.tasks[0]["identifier"]
    with demo_db.begin() as c:  # the registry is not append-only: exempting is allowed
        c.execute(Entity.__table__.update().where(Entity.identifier == victim).values(exempt_reason="正面清单"))
    with pytest.raises(InspectError, match="already drawn.*--redraw --reason"):
        service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T1, source=DICE)
    # prepared but not yet drawn, and the witnessed value could already be known: a re-freeze too
    service.prepare_frame(demo_db, config, "STHJ-01", "2026Q1", as_of=T0.date(), now=T0, source=DICE)
    with pytest.raises(InspectError, match="could already be known.*--redraw --reason"):
        service.prepare_frame(demo_db, config, "STHJ-01", "2026Q1", as_of=T0.date(), now=T1, source=DICE)
    second = _draw(
        demo_db, config, "STHJ-02", "2026Q1", seed=SEED + " 2", prep=T1, now=T1, redraw=True, reason="正面清单更新"
    )
    assert victim not in {t["identifier"] for t in second.tasks} and second.redraw_of == first.id
    frames = [f for f in service.list_frames(demo_db, "2026Q1", "STHJ-02")]
    assert len(frames) == 2 and [f.drawn_by for f in frames] == [first.id, second.id]
    assert frames[1].commitment.redraw_reason == "正面清单更新"
    bundle = service.export_bundle(demo_db, second.id)
    assert [f["sha256"] for f in bundle["frames_of_period"]] == [f.sha256 for f in frames]
    assert verify_bundle(bundle).ok
    # the one-step draw commits and draws at once, and says so
    one = service.draw_now(demo_db, config, "2026", ["JYTY-01"], seed=SEED, source=DICE, as_of=T0.date(), now=T1)[0]
    assert service.export_bundle(demo_db, one.id)["commitment"]["one_step"] is True


def test_prepare_refuses_a_source_whose_value_exists_already(demo_db, config):
    """Finding 5: the round or lottery named must be published after the commitment."""
    with pytest.raises(InspectError, match="not after the commitment.*first after the commitment is"):
        service.prepare_frame(
            demo_db,
            config,
            "STHJ-02",
            "2026Q4",
            as_of=AFTER_ROUND.date(),
            now=AFTER_ROUND,
            source=SeedSource.drand(ROUND),
        )
    with pytest.raises(InspectError, match="not on a later day"):
        service.prepare_frame(
            demo_db,
            config,
            "STHJ-02",
            "2026Q1",
            as_of=T0.date(),
            now=T0,
            source=SeedSource.lottery("双色球", "2026002", T0.date()),
        )
    with pytest.raises(InspectError, match="drand seed is named before the draw"):  # one step: witnessed only
        service.draw_now(
            demo_db,
            config,
            "2026Q1",
            ["STHJ-02"],
            seed=SEED,
            source=SeedSource.drand(ROUND + 10**7),
            as_of=T0.date(),
            now=T0,
        )
    with demo_db.connect() as c:  # nothing was written by any of these
        assert c.execute(select(Frame.id)).first() is None


def test_a_drand_draw_end_to_end_and_its_checks(demo_db, config):
    signature, randomness = QUICKNET[ROUND]
    f = service.prepare_frame(
        demo_db,
        config,
        "STHJ-02",
        "2026Q4",
        as_of=BEFORE_ROUND.date(),
        now=BEFORE_ROUND,
        source=SeedSource.drand(ROUND),
    )
    with pytest.raises(InspectError, match="not published yet"):
        service.run_draw(demo_db, config, "STHJ-02", "2026Q4", now=BEFORE_ROUND, signature=signature)
    with pytest.raises(InspectError, match="does not verify"):
        service.run_draw(demo_db, config, "STHJ-02", "2026Q4", now=AFTER_ROUND, signature=QUICKNET[ROUND + 1][0])
    d = service.run_draw(demo_db, config, "STHJ-02", "2026Q4", now=AFTER_ROUND, signature=signature)
    assert d.seed == randomness and d.derived_seed == derive_seed(randomness, "STHJ-02", "2026Q4")
    bundle = service.export_bundle(demo_db, d.id)
    rows = bundle["frame"]["rows"]
    for s in bundle["strata"]:  # the independent package, given the derived seed
        ids = [i for i, st in rows if st == s["stratum"]]
        assert list(oracle(ids, seed=bundle["seed"], take=s["n"], output="id")) == [
            x["identifier"] for x in bundle["sample"] if x["stratum"] == s["stratum"]
        ]
    rep = verify_bundle(
        bundle,
        Expected(frame_sha256=f.sha256, seed=randomness, head=bundle["log"]["head"], commitment=f.commitment.sha256),
    )
    assert rep.ok, rep.problems
    # a bundle whose commitment is moved after the round, or whose signature is changed, is refused
    late = json.loads(json.dumps(bundle))
    late["commitment"]["committed_at"] = "2026-09-18T00:00:00"
    late["commitment"]["sha256"] = commitment_sha256(late["commitment"])
    problems = " ".join(verify_bundle(late).problems)
    assert "before the commitment" in problems
    forged = json.loads(json.dumps(bundle))
    forged["seed_source"]["evidence"]["signature"] = QUICKNET[ROUND + 1][0]
    assert "does not verify" in " ".join(verify_bundle(forged).problems)


# -- 3. self-consistent forgeries ---------------------------------------------------------------------


def _forge(bundle: dict, public_seed: str) -> dict:
    """What a determined forger can do offline: another seed, the sample, tickets, digests and even
    the log segment recomputed so that the bundle agrees with itself."""
    b = json.loads(json.dumps(bundle))
    d = b["seed_derivation"]
    d["public_seed"] = public_seed
    b["seed"] = derive_seed(public_seed, d["ticket_group"], d["period"], d.get("salt"))
    sizes = {s["stratum"]: s["n"] for s in b["strata"]}
    drawn = draw_stratified(b["seed"], b["frame"]["rows"], sizes)
    b["sample"] = [{"stratum": s, "identifier": c.id, "ticket": c.ticket, "rank": c.rank} for s, c in drawn.sample]
    b["record"]["sample_sha256"] = sample_sha256(
        [(x["stratum"], x["identifier"], x["ticket"], x["rank"]) for x in b["sample"]]
    )
    for r in b["log"]["records"]:
        if r["kind"] == "draw":
            r["content"].update(seed=public_seed, derived_seed=b["seed"], sample_sha256=b["record"]["sample_sha256"])
    contents = {(r["kind"], r["record_id"]): content_sha256(r["content"]) for r in b["log"]["records"]}
    entries = [entry_from_dict(e) for e in b["log"]["entries"]]
    prev = None
    rebuilt = []
    for e in entries:
        sha = contents.get((e.kind, e.record_id), e.content_sha256)
        e2 = (
            make_entry(prev, e.kind, e.record_id, sha, e.at)
            if prev
            else e.__class__(e.seq, e.kind, e.record_id, sha, e.prev_hash, "", e.at)
        )
        if prev is None:
            from inspect_kit.transparency.chain import entry_hash

            e2 = e.__class__(
                e.seq,
                e.kind,
                e.record_id,
                sha,
                e.prev_hash,
                entry_hash(e.seq, e.kind, e.record_id, sha, e.prev_hash, e.at),
                e.at,
            )
        rebuilt.append(e2)
        prev = e2
    b["log"]["entries"] = [e.to_dict() for e in rebuilt]
    b["log"]["head"] = rebuilt[-1].head
    return b


def test_a_self_consistent_forgery_fails_against_what_was_published(demo_db, config):
    """Finding 3: a bundle recomputed with another seed agrees with itself; the values published
    before it (frame hash, seed, commitment code, log head) expose it."""
    f = service.prepare_frame(demo_db, config, "SCJG-01", "2026", as_of=T0.date(), now=T0, source=DICE)
    d = service.run_draw(demo_db, config, "SCJG-01", "2026", now=T1, seed=SEED)
    genuine = service.export_bundle(demo_db, d.id)
    published = Expected(frame_sha256=f.sha256, seed=SEED, head=genuine["log"]["head"], commitment=f.commitment.sha256)
    assert verify_bundle(genuine, published).ok
    forged = _forge(genuine, "11111 22222 33333 44444")
    assert forged["sample"] != genuine["sample"]
    assert verify_bundle(forged).ok  # consistent with itself ...
    rep = verify_bundle(forged, published)  # ... but not with what was published before
    text_ = " ".join(rep.problems)
    assert not rep.ok and "public seed published earlier" in text_ and "log was rewritten" in text_
    # the database itself is not fooled: the stored draw re-derives to the genuine sample
    assert service.verify_draw(demo_db, d.id).ok


@pytest.mark.parametrize(
    "tamper, words",
    [
        (lambda b: b["record"].update(drawn_at="2026-01-05T08:00:00"), "predates its commitment"),
        (lambda b: b["record"].update(redraw_of=1), "without a reason"),
        (lambda b: b["record"].update(sample_sha256="0" * 64), "sample's SHA-256"),
        (lambda b: b["commitment"].update(frame_sha256="0" * 64), "commitment names frame"),
        (lambda b: b["commitment"].update(one_step=True), "commitment's code"),
        (lambda b: b.update(frames_of_period=[]), "not among the frames"),
        (lambda b: b["seed_derivation"].update(ticket_group="OTHER"), "another period or ticket group"),
        (lambda b: b["seed_source"].update(witnesses=["someone else"]), "differs from the one named"),
        (lambda b: b["log"]["records"][0]["content"].update(n_rows=1), "differs from what entry"),
    ],
)
def test_every_field_of_the_record_block_is_checked(demo_db, config, tamper, words):
    d = _draw(demo_db, config, "STHJ-02", "2026Q1")
    bundle = service.export_bundle(demo_db, d.id)
    assert verify_bundle(bundle).ok
    tamper(bundle)
    rep = verify_bundle(bundle)
    assert not rep.ok and words in " ".join(rep.problems), rep.problems


def test_verify_sees_a_changed_sample_digest_in_the_database(demo_db, config):
    d = _draw(demo_db, config, "STHJ-02", "2026Q1")
    _drop_triggers(demo_db)
    with demo_db.begin() as c:
        c.execute(text("UPDATE draws SET sample_sha256 = :z WHERE id = :i"), {"z": "0" * 64, "i": d.id})
    rep = service.verify_draw(demo_db, d.id)
    assert not rep.ok and any("sample's SHA-256" in p for p in rep.problems)
    assert any("was changed after it was logged" in p for p in _log_ok(demo_db).problems)


# -- 4. quiet re-draws and deletions ------------------------------------------------------------------


def _drop_triggers(engine):
    """What a dishonest operator with the database password can do: drop every guard."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            found = c.execute(
                text(
                    "SELECT t.tgname, r.relname FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid "
                    "WHERE NOT t.tgisinternal"
                )
            ).all()
            for name, table in found:
                c.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))
        else:
            for (name,) in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
                c.execute(text(f'DROP TRIGGER "{name}"'))


def test_dropped_triggers_and_delete_are_found_by_the_log(demo_db, config):
    d = _draw(demo_db, config, "STHJ-02", "2026Q1")
    head = _head(demo_db)
    assert _log_ok(demo_db, head).ok
    _drop_triggers(demo_db)
    with demo_db.begin() as c:
        c.execute(text("DELETE FROM tasks WHERE draw_id = :i"), {"i": d.id})
        c.execute(text("DELETE FROM draws WHERE id = :i"), {"i": d.id})
    rep = _log_ok(demo_db, head)
    assert not rep.ok and any(f"draw #{d.id} is missing" in p for p in rep.problems)
    # removing the log's tail too only moves the problem: the printed head is gone
    with demo_db.begin() as c:
        c.execute(text("DELETE FROM log_entries WHERE kind = 'draw'"))
    rep = _log_ok(demo_db, head)
    assert not rep.ok and any("before the head" in p or "missing" in p for p in rep.problems)


def test_a_restored_database_file_fails_the_printed_head(tmp_path, config, demo_db):
    if demo_db.dialect.name != "sqlite":
        pytest.skip("a file restore is a SQLite case (PostgreSQL: TRUNCATE, below)")
    path = demo_db.url.database
    service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T0, source=DICE)
    demo_db.dispose()
    shutil.copyfile(path, tmp_path / "before.db")
    service.run_draw(demo_db, config, "STHJ-02", "2026Q1", now=T1, seed=SEED)
    printed = _head(demo_db)  # what the drawn-list notice prints
    demo_db.dispose()
    shutil.copyfile(tmp_path / "before.db", path)  # the operator restores the file and draws again
    d = service.run_draw(demo_db, config, "STHJ-02", "2026Q1", now=T1, seed=SEED + " again")
    assert service.verify_draw(demo_db, d.id).ok and _log_ok(demo_db).ok  # consistent with itself ...
    rep = _log_ok(demo_db, printed)  # ... but not with the head printed on the notice
    assert not rep.ok and "rewritten" in " ".join(rep.problems)


@pytest.mark.postgres
def test_postgres_truncate_is_refused_and_found(demo_db, config):
    if demo_db.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _draw(demo_db, config, "STHJ-02", "2026Q1")
    head = _head(demo_db)
    with pytest.raises(Exception, match="append-only"):
        with demo_db.begin() as c:
            c.execute(text("TRUNCATE tasks, draws, commitments, seal_salts, unsealings, frames CASCADE"))
    _drop_triggers(demo_db)  # an operator who also drops the guards
    with demo_db.begin() as c:
        c.execute(text("TRUNCATE tasks, draws, seal_salts, unsealings, commitments, frames CASCADE"))
    rep = _log_ok(demo_db, head)
    assert not rep.ok and any("is missing from the database" in p for p in rep.problems)


def test_cli_verify_and_log_commands_say_what_is_wrong(tmp_path):
    db = tmp_path / "x.db"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), "--db", str(db), *map(str, args)],
            capture_output=True,
            text=True,
        )

    assert run("init").returncode == 0 and run("config", "load").returncode == 0
    assert run("registry", "import", "entities", REGISTRIES / "entities_sthj.csv").returncode == 0
    r = run(
        "draw",
        "prepare",
        "--quarter",
        "2026Q1",
        "--matter",
        "STHJ-02",
        "--witnessed",
        "掷骰",
        "--witness",
        "周文",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    frame = json.loads(r.stdout)[0]
    r = run("draw", "run", "--quarter", "2026Q1", "--matter", "STHJ-02", "--seed", SEED, "--frame-sha256", "ab" * 32)
    assert r.returncode == 1 and "published frame hash" in r.stderr and "Traceback" not in r.stderr
    r = run(
        "draw", "run", "--quarter", "2026Q1", "--matter", "STHJ-02", "--seed", SEED, "--frame-sha256", frame["sha256"]
    )
    assert r.returncode == 0, r.stderr
    head = run("log", "head").stdout.strip()
    assert run("log", "verify", "--head", head).returncode == 0
    assert run("draw", "export-bundle", "1", "-o", tmp_path / "b.json").returncode == 0
    ok = run(
        "verify",
        "--bundle",
        tmp_path / "b.json",
        "--expect-frame-sha256",
        frame["sha256"],
        "--expect-seed",
        SEED,
        "--expect-head",
        head,
        "--expect-commitment",
        frame["commitment"]["sha256"],
    )
    assert ok.returncode == 0, ok.stdout
    bad = run("verify", "--bundle", tmp_path / "b.json", "--expect-seed", SEED + "0")
    assert bad.returncode == 1 and "public seed published earlier" in bad.stdout
    all_ = run("verify")
    assert all_.returncode == 0 and "OK  transparency log" in all_.stdout
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    r = run("verify", "--bundle", deep)
    assert r.returncode == 1 and "nested too deeply" in r.stderr and "Traceback" not in r.stderr
    assert run("log", "verify", "--head", "1:" + "0" * 64).returncode == 1
    r = run("draw", "frames", "--year", "2026", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["drawn_by"] == 1


# -- sealed draws -------------------------------------------------------------------------------------


def test_a_sealed_draw_stays_secret_until_unsealed(demo_db, config, tmp_path):
    d = _draw(demo_db, config, "STHJ-02", "2026Q1", sealed=True)
    assert d.sealed and not d.unsealed
    with pytest.raises(InspectError, match="sealed until"):
        service.export_bundle(demo_db, d.id)
    assert service.verify_draw(demo_db, d.id).ok  # the tool keeps the salt and checks it
    com = service.list_frames(demo_db, "2026Q1", "STHJ-02")[0].commitment
    assert com.sealed and com.salt_sha256
    # the seed alone does not give the list: without the salt the sample differs
    inner = service.export_bundle(demo_db, d.id, include_secret=True)
    plain = derive_seed(SEED, "STHJ-02", "2026Q1")
    rows, n = inner["frame"]["rows"], inner["strata"][0]["n"]
    guess = list(oracle([i for i, _ in rows], seed=plain, take=n, output="id"))
    assert guess != [x["identifier"] for x in inner["sample"]]
    # the public notice shows the commitment and the public seed, and no entity
    from inspect_kit.publish import service as publish

    built = publish.build_draw_notice(demo_db, config, "2026Q1", issue_date=T1.date(), matters=["STHJ-02"])
    assert built.task_ids == [] and built.notice.files == []
    shown = json.dumps([s.__dict__ for s in built.notice.sections], ensure_ascii=False, default=str)
    assert "保密抽查" in shown and com.salt_sha256 in shown
    assert not any(t["identifier"] in shown for t in d.tasks)
    with pytest.raises(InspectError, match="sealed"):
        publish.build_results_notice(
            demo_db, config, "2026Q1", issue_date=dt.date(2026, 4, 15), matters=["STHJ-02"], allow_incomplete=True
        )
    with pytest.raises(InspectError, match="before the draw"):
        service.unseal(demo_db, "STHJ-02", "2026Q1", now=T0)
    service.unseal(demo_db, "STHJ-02", "2026Q1", now=dt.datetime(2026, 4, 1, 9))
    with pytest.raises(InspectError, match="was unsealed"):
        service.unseal(demo_db, "STHJ-02", "2026Q1", now=dt.datetime(2026, 4, 2, 9))
    bundle = service.export_bundle(demo_db, d.id)
    assert verify_bundle(bundle).ok and bundle["seed_derivation"]["salt"]
    after = publish.build_draw_notice(demo_db, config, "2026Q1", issue_date=dt.date(2026, 4, 1), matters=["STHJ-02"])
    assert len(after.task_ids) == len(d.tasks) and after.notice.files
    wrong = json.loads(json.dumps(bundle))
    wrong["seed_derivation"]["salt"] = "ab" * 32
    assert "salt does not match" in " ".join(verify_bundle(wrong).problems)
    assert _log_ok(demo_db).ok


# -- 6. list-file identifiers -------------------------------------------------------------------------


def test_list_file_uses_the_registry_identifier_rules(tmp_path):
    from inspect_kit.draw.store.listfile import draw_from_file

    good = make_uscc(577)
    full = good.translate({c: c + 0xFEE0 for c in map(ord, "0123456789ABCDEFGHJKLMNPQRTUWXY")})
    rows = [["代码"], [good.lower()], [full], [make_uscc(1)], [make_uscc(2)]]
    with pytest.raises(InspectError) as err:
        draw_from_file(
            write_csv(tmp_path / "a.csv", rows),
            id_column="代码",
            stratum_column=None,
            rate=None,
            n=1,
            rounding="ceil",
            seed=SEED,
        )
    assert "repeated" in str(err.value.problems) if hasattr(err.value, "problems") else "repeated" in str(err.value)
    bad = [["代码"], [good[:-1] + ("0" if good[-1] != "0" else "1")], [make_uscc(1)]]
    with pytest.raises(InspectError) as err:
        draw_from_file(
            write_csv(tmp_path / "b.csv", bad),
            id_column="代码",
            stratum_column=None,
            rate=None,
            n=1,
            rounding="ceil",
            seed=SEED,
        )
    assert "check character" in str(getattr(err.value, "problems", err.value))
    for seed in ("0", "0" * 30):
        with pytest.raises(InspectError, match="at least 20 characters|repeats one character"):
            draw_from_file(
                write_csv(tmp_path / "c.csv", rows[:2] + rows[3:]),
                id_column="代码",
                stratum_column=None,
                rate=None,
                n=1,
                rounding="ceil",
                seed=seed,
            )
    res = draw_from_file(
        write_csv(tmp_path / "d.csv", [["代码"], [" id-0001 "], ["ＩＤ－０００２"], ["ID-0003"]]),
        id_column="代码",
        stratum_column=None,
        rate=None,
        n=1,
        rounding="ceil",
        seed=SEED,
        id_scheme="other",
        other_id_pattern=r"^[0-9A-Z][0-9A-Z\-]{3,31}$",
    )
    assert [r[0] for r in res.bundle["frame"]["rows"]] == ["ID-0001", "ID-0002", "ID-0003"]
    assert res.bundle["identifiers"]["scheme"] == "other" and verify_bundle(res.bundle).ok
    assert any("no commitment" in n for n in verify_bundle(res.bundle).notes)


# -- 7. first use -------------------------------------------------------------------------------------


def test_an_empty_registry_is_refused_and_nothing_is_frozen(engine, config):
    from inspect_kit.config.sync import sync_config

    sync_config(engine, config, T0)
    with pytest.raises(InspectError, match="frame would be empty.*重点排污单位.*registry holds: no entities"):
        service.prepare(engine, config, "2026Q1", ["STHJ-01", "STHJ-02"], source=DICE, as_of=T0.date(), now=T0)
    with pytest.raises(InspectError, match="at least 20 characters"):
        service.draw_now(engine, config, "2026Q1", ["STHJ-01"], seed="12345", source=DICE, as_of=T0.date(), now=T0)
    with engine.connect() as c:
        assert c.execute(select(Frame.id)).first() is None and c.execute(select(Draw.id)).first() is None
    assert _log_ok(engine).ok


def test_a_registry_import_after_prepare_is_warned_about(demo_db, config, tmp_path, import_options):
    from inspect_kit.registry.importer import import_registry

    service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T0, source=DICE)
    import_registry(
        demo_db, "entities", REGISTRIES / "entities_sthj.csv", import_options(now=T0 + dt.timedelta(minutes=30))
    )
    d = service.run_draw(demo_db, config, "STHJ-02", "2026Q1", now=T1, seed=SEED)
    assert d.warnings and "after the frame was frozen" in d.warnings[0]


def test_one_step_redraw_and_the_year_listing(demo_db, config):
    first = service.draw_now(demo_db, config, "2026Q1", ["STHJ-02"], seed=SEED, source=DICE, as_of=T0.date(), now=T0)[0]
    with pytest.raises(InspectError, match="--redraw --reason"):
        service.draw_now(demo_db, config, "2026Q1", ["STHJ-02"], seed=SEED + "1", source=DICE, as_of=T0.date(), now=T1)
    again = service.draw_now(
        demo_db,
        config,
        "2026Q1",
        ["STHJ-02"],
        seed=SEED + "1",
        source=DICE,
        as_of=T0.date(),
        now=T1,
        redraw=True,
        reason="宣读错误",
    )[0]
    assert again.redraw_of == first.id and again.reason == "宣读错误"
    yearly = _draw(demo_db, config, "SCJG-01", "2026")
    listed = {d.id for d in service.list_draws(demo_db, year=2026)}
    assert listed == {first.id, again.id, yearly.id}
    assert {d.id for d in service.list_draws(demo_db, "2026")} == {yearly.id}


# -- every notice of the demo prints the log head and carries its entries -------------------------


def test_every_demo_notice_prints_a_head_that_the_log_still_extends(demo_run):
    import re

    from pypdf import PdfReader

    from inspect_kit.publish.document import embedded_files
    from inspect_kit.storage.db import make_engine
    from inspect_kit.transparency.chain import segment_problems

    out, run = demo_run
    assert run.returncode == 0, run.stderr[-2000:]
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) >= 8
    heads = []
    for pdf in pdfs:
        text = "".join("".join(p.extract_text() for p in PdfReader(pdf).pages).split())
        text = re.sub(r"—\d+—", "", text)  # page numbers: a page break may fall inside the hash
        printed = re.search(r"日志头为第(\d+)条，哈希值([0-9a-f]{64})", text)
        assert printed, f"{pdf.name} prints no log head"
        head = f"{printed.group(1)}:{printed.group(2)}"
        heads.append(head)
        files = embedded_files(pdf.read_bytes())
        carried = [
            json.loads(data)
            for name, data in files.items()
            if name.endswith(".json") and (name.startswith("log-") or name.startswith("draw-"))
        ]
        assert carried, f"{pdf.name} carries no log entries"
        for block in carried:
            block = block.get("log", block)
            chain = [entry_from_dict(e) for e in block["entries"]]
            assert block["head"] == head and chain[-1].head == head and segment_problems(chain) == []
    engine = make_engine(f"sqlite:///{out / 'inspect.db'}")
    with engine.connect() as conn:
        rep = log.verify_log(conn, heads)
    engine.dispose()
    assert rep.ok, rep.problems


# -- two operators at once ------------------------------------------------------------------------------


@pytest.mark.parametrize("one_step", [False, True])
def test_two_concurrent_draws_one_wins_the_other_writes_nothing(demo_db, config, one_step):
    """Real concurrent connections: both commands start together; exactly one draw is recorded, the
    loser gets a clear message, and no orphan frame or commitment is left behind."""
    import threading

    from sqlalchemy import func

    from inspect_kit.storage.models import Commitment

    if not one_step:
        service.prepare_frame(demo_db, config, "STHJ-02", "2026Q1", as_of=T0.date(), now=T0, source=DICE)
    start = threading.Barrier(2)
    outcome: list[object] = []

    def draw_it(seed: str) -> None:
        start.wait()
        try:
            if one_step:
                outcome.append(
                    service.draw_now(
                        demo_db, config, "2026Q1", ["STHJ-02"], seed=seed, source=DICE, as_of=T0.date(), now=T1
                    )[0]
                )
            else:
                outcome.append(service.run_draw(demo_db, config, "STHJ-02", "2026Q1", now=T1, seed=seed))
        except InspectError as exc:
            outcome.append(exc)

    threads = [threading.Thread(target=draw_it, args=(SEED + f" {k}",)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [o for o in outcome if isinstance(o, InspectError)]
    assert len(outcome) == 2 and len(errors) == 1, outcome
    assert re.search(r"already drawn|someone else|database is locked|busy", str(errors[0])), errors[0]
    with demo_db.connect() as c:
        assert c.execute(select(func.count()).select_from(Draw)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(Frame)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(Commitment)).scalar_one() == 1
    assert _log_ok(demo_db).ok
