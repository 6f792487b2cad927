"""The browser's own verifier (inspect_kit/web/static/verify.js), run under Node: the same tickets as
the `consistent-sampler` package on random instances (Chinese and astral identifiers and seeds), every
demo draw's bundle OK, and each kind of tampering reported as what it is. Its drand check
(drand-verify.js with the vendored @noble/curves) accepts the real quicknet and mainnet rounds of
shared/BEACONS.md and refuses a flipped bit, a wrong round, a wrong chain and a seed that is not the
round's randomness, agreeing with PyPI drand-verify on every case."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from consistent_sampler import first_ticket
from consistent_sampler import sampler as oracle

from tests.test_draw_trust import MAINNET, QUICKNET  # the real rounds of shared/BEACONS.md

ROOT = Path(__file__).resolve().parents[1]
VERIFY_JS = ROOT / "inspect_kit" / "web" / "static" / "verify.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (the verifier is plain JavaScript)")

RUNNER = """
const v = require(process.argv[1]);
const d = require(require("path").join(require("path").dirname(process.argv[1]), "drand-verify.js"));
let input = "";
process.stdin.setEncoding("utf8");  // decodes across chunk boundaries (a Chinese character may be split)
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", async () => {
  const jobs = JSON.parse(input);
  const out = [];
  for (const job of jobs) {
    if (job.select) out.push(await v.select(job.seed, job.ids, job.n));
    else if (job.coordination) {
      try { out.push(await v.coordinatedSelect(await v.coordinationKey(job.coordination, job.derivation), job.ids, job.n)); }
      catch (e) { out.push({ error: String(e.message || e) }); }
    }
    else if (job.drand) out.push(d.checkDrand(job.drand, job.public_seed));
    else out.push(await v.verifyBundle(job.bundle));
  }
  process.stdout.write(JSON.stringify(out, (k, x) => typeof x === "bigint" ? x.toString() : x));
});
"""


def run_js(jobs: list[dict]) -> list:
    r = subprocess.run(
        [NODE, "-e", RUNNER, str(VERIFY_JS)],
        input=json.dumps(jobs, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


ALPHABETS = ["0123456789ABCDEFGHJKLMNPQRTUWXY", "青山县宏图佳和养殖有限公司", "abcXYZ-_ 😀𝔘é"]


def test_tickets_and_samples_match_the_package_on_random_instances():
    rng = random.Random(20261129)
    jobs, expected = [], []
    for k in range(40):
        alphabet = ALPHABETS[k % 3]
        ids = list(
            {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 18))) for _ in range(rng.randint(1, 60))}
        )
        seed = "".join(rng.choice(ALPHABETS[(k + 1) % 3]) for _ in range(rng.randint(1, 30)))
        n = rng.randint(0, len(ids))
        drawn = list(oracle(ids, seed=seed, with_replacement=False, take=n, output="id"))
        jobs.append({"select": True, "seed": seed, "ids": ids, "n": n})
        expected.append([[i, first_ticket(i, seed).ticket_number] for i in drawn])  # full-precision tickets
    for got, want in zip(run_js(jobs), expected):
        assert [[x["id"], x["ticket"]] for x in got] == want


def test_coordinated_tickets_match_the_python_rule_on_random_instances():
    """Both coordination rules, both modes, with and without a sealed draw's salt, Chinese and
    astral identifiers: the same sample and 78-digit tickets as inspect_kit.draw.core.coordination."""
    from inspect_kit.draw.core.coordination import Coordination, coordinated_select

    rng = random.Random(1995)  # Ohlsson
    jobs, expected = [], []
    for k in range(36):
        alphabet = ALPHABETS[k % 3]
        ids = list(
            {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 18))) for _ in range(rng.randint(1, 50))}
        )
        slots = rng.randint(1, 4)
        mode = "negative" if k % 2 else "positive"
        rotation = "2026Q2" if k % 3 == 0 else None  # rule 1 every third instance
        coord = Coordination(f"年度种子 {k} 😀", f"组{k % 5}", mode, rng.randrange(slots), slots, rotation)  # type: ignore[arg-type]
        derivation = {"public_seed": f"03 09 14 {k}"} | ({"salt": f"{k:064x}"} if k % 4 == 1 else {})
        at_draw = Coordination.of_bundle(coord.to_dict(), derivation)
        n = rng.randint(0, len(ids))
        jobs.append({"coordination": coord.to_dict(), "derivation": derivation, "ids": ids, "n": n})
        expected.append([[c.id, c.ticket] for c in coordinated_select(at_draw, ids, n)])
    jobs.append(
        {"coordination": Coordination("S", "g", "positive", 0, 1).to_dict(), "derivation": None, "ids": ["A"], "n": 1}
    )
    got = run_js(jobs)
    for g, want in zip(got, expected):
        assert [[x["id"], x["ticket"]] for x in g] == want
    assert "public seed" in got[-1]["error"]  # a rule-2 entry without its seed derivation is refused


@pytest.fixture(scope="module")
def demo_bundles(demo_run):
    """Every draw of the demo, exported as the notice attaches it."""
    import sys

    out, run = demo_run
    assert run.returncode == 0, run.stderr[-2000:]
    bundles = []
    for draw_id in range(1, 13):
        path = out.parent / f"bundle-{draw_id}.json"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspect_kit",
                "--db",
                str(out / "inspect.db"),
                "draw",
                "export-bundle",
                str(draw_id),
                "-o",
                str(path),
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        bundles.append(json.loads(path.read_text(encoding="utf-8")))
    return bundles


def test_every_demo_bundle_verifies_in_javascript(demo_bundles):
    coordinated = [b["matter"] for b in demo_bundles if "coordination" in b]
    assert sorted(coordinated) == ["LH-01"] + ["STHJ-01"] * 4  # the demo county coordinates them
    reports = run_js([{"bundle": b} for b in demo_bundles])
    assert all(r["coordination"]["ok"] for r in reports if r["coordination"])
    assert [r["problems"] for r in reports] == [[]] * len(demo_bundles)
    assert all(r["ok"] and r["frame"]["ok"] and r["seed"]["ok"] for r in reports)
    kinds = {s.get("coverage") is not None for b in demo_bundles for s in b["strata"]}
    assert kinds == {True, False}  # coverage draws and quota draws both re-derived
    largest = max(demo_bundles, key=lambda b: len(b["frame"]["rows"]))
    assert len(largest["frame"]["rows"]) == 2915


def _tampered(bundle: dict) -> dict[str, dict]:
    def copy() -> dict:
        return json.loads(json.dumps(bundle))

    row_added, seed_changed, reordered, n_changed = copy(), copy(), copy(), copy()
    stratum = bundle["strata"][0]["stratum"]
    row_added["frame"]["rows"].append(["91360199MA00000001", stratum])
    seed_changed["seed_derivation"]["public_seed"] += "0"
    first = [x for x in reordered["sample"] if x["stratum"] == stratum]
    first[0]["rank"], first[1]["rank"] = first[1]["rank"], first[0]["rank"]
    reordered["sample"].sort(key=lambda x: (x["stratum"], x["rank"]))
    n_changed["strata"][0]["n"] += 1
    return {"row added": row_added, "seed changed": seed_changed, "sample reordered": reordered, "n changed": n_changed}


def test_each_tampering_is_shown_as_what_it_is(demo_bundles):
    bundle = next(b for b in demo_bundles if len(b["sample"]) >= 4 and b["strata"][0]["n"] >= 2)
    cases = _tampered(bundle)
    reports = dict(zip(cases, run_js([{"bundle": b} for b in cases.values()])))
    assert all(not r["ok"] for r in reports.values())
    assert "frame hash mismatch" in " ".join(reports["row added"]["problems"])
    assert not reports["seed changed"]["seed"]["ok"] and "not derived from the public seed" in " ".join(
        reports["seed changed"]["problems"]
    )
    assert "same ids, other order" in " ".join(reports["sample reordered"]["problems"])
    assert "does not follow from the quota" in " ".join(reports["n changed"]["problems"])


def test_a_tampered_coordinated_bundle_is_caught(demo_bundles):
    """A coordinated draw re-derived with another mode, another public seed, or a coordination that
    is not the committed one (and a wrong ticket): each is reported."""
    bundle = next(b for b in demo_bundles if b["matter"] == "LH-01")
    cases = {}
    for name in ("mode", "public seed", "uncommitted", "ticket"):
        cases[name] = json.loads(json.dumps(bundle))
    cases["mode"]["coordination"]["mode"] = cases["mode"]["commitment"]["coordination"]["mode"] = "negative"
    cases["public seed"]["seed_derivation"]["public_seed"] += "1"
    cases["uncommitted"]["coordination"]["yearly_seed"] += "!"
    cases["ticket"]["sample"][0]["ticket"] = "0." + "1" * 78
    reports = dict(zip(cases, run_js([{"bundle": b} for b in cases.values()])))
    assert all(not r["ok"] for r in reports.values())
    assert "sample differs" in " ".join(reports["mode"]["problems"])
    assert "sample differs" in " ".join(reports["public seed"]["problems"])
    assert "not the one its commitment names" in " ".join(reports["uncommitted"]["problems"])
    assert "ticket of" in " ".join(reports["ticket"]["problems"])
    again = run_js([{"bundle": bundle}])[0]
    assert again["ok"] and again["coordination"]["rule"] == "inspect-kit/prn/2"


# -- drand: real rounds (shared/BEACONS.md), checked by the vendored BLS12-381 -------------------------

QUICKNET_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
QUICKNET_ROUNDS = QUICKNET  # round: (signature, randomness), from tests.test_draw_trust
MAINNET_ROUND, MAINNET_PREVIOUS, MAINNET_SIGNATURE, MAINNET_RANDOMNESS = MAINNET


def _flip(hex_text: str, bit: int) -> str:
    raw = bytearray(bytes.fromhex(hex_text))
    raw[bit // 8] ^= 1 << (bit % 8)
    return raw.hex()


def _source(chain: str, round_: int, signature: str, previous: str | None = None) -> dict:
    evidence = {"signature": signature} | ({"previous_signature": previous} if previous else {})
    return {"kind": "drand", "chain": chain, "round": round_, "evidence": evidence}


def _drand_cases() -> dict[str, tuple[dict, str, bool]]:
    """name: (seed_source, public seed, whether it must verify)."""
    cases: dict[str, tuple[dict, str, bool]] = {}
    for r, (sig, rnd) in QUICKNET_ROUNDS.items():
        cases[f"quicknet {r}"] = (_source("quicknet", r, sig) | {"chain_hash": QUICKNET_HASH}, rnd, True)
        cases[f"quicknet {r} next round"] = (_source("quicknet", r + 1, sig), rnd, False)
        for bit in (0, 7, 200, 383):  # the flag bits, inside x, the last bit
            cases[f"quicknet {r} bit {bit} flipped"] = (_source("quicknet", r, _flip(sig, bit)), rnd, False)
    cases["mainnet"] = (
        _source("mainnet", MAINNET_ROUND, MAINNET_SIGNATURE, MAINNET_PREVIOUS),
        MAINNET_RANDOMNESS,
        True,
    )
    cases["mainnet previous round"] = (
        _source("mainnet", MAINNET_ROUND - 1, MAINNET_SIGNATURE, MAINNET_PREVIOUS),
        MAINNET_RANDOMNESS,
        False,
    )
    for bit in (3, 500, 767):
        cases[f"mainnet bit {bit} flipped"] = (
            _source("mainnet", MAINNET_ROUND, _flip(MAINNET_SIGNATURE, bit), MAINNET_PREVIOUS),
            MAINNET_RANDOMNESS,
            False,
        )
    cases["mainnet previous signature flipped"] = (
        _source("mainnet", MAINNET_ROUND, MAINNET_SIGNATURE, _flip(MAINNET_PREVIOUS, 100)),
        MAINNET_RANDOMNESS,
        False,
    )
    sig, rnd = QUICKNET_ROUNDS[32285085]
    cases["quicknet signature named as mainnet"] = (_source("mainnet", 32285085, sig, MAINNET_SIGNATURE), rnd, False)
    return cases


def _python_accepts(source: dict) -> bool:
    import drand_verify

    ev = source["evidence"]
    try:
        if source["chain"] == "mainnet":
            drand_verify.verify_mainnet(source["round"], ev["previous_signature"], ev["signature"])
        else:
            drand_verify.verify_quicknet(source["round"], ev["signature"])
    except ValueError:
        return False
    return True


def test_drand_signatures_of_real_rounds_verify_and_every_bit_flip_or_wrong_round_is_refused():
    cases = _drand_cases()
    reports = dict(zip(cases, run_js([{"drand": src, "public_seed": seed} for src, seed, _ in cases.values()])))
    for name, (src, seed, valid) in cases.items():
        report = reports[name]
        assert report["ok"] is valid, (name, report)
        assert _python_accepts(src) is valid, name  # the same verdict as PyPI drand-verify
        assert report["round"] == src["round"] and report["chain"] == src["chain"]
        if valid:
            assert report["randomness"] == seed and report["problems"] == []
        else:
            assert f"the signature of drand {src['chain']} round {src['round']} does not verify" in report["problems"]


def test_drand_seed_must_be_the_rounds_randomness_and_the_chain_hash_the_chains():
    sig, rnd = QUICKNET_ROUNDS[657413]
    good = _source("quicknet", 657413, sig)
    other_seed, bad_randomness, bad_hash, no_signature, unknown = run_js(
        [
            {"drand": good, "public_seed": QUICKNET_ROUNDS[32285085][1]},
            {"drand": good | {"evidence": {"signature": sig, "randomness": "00" * 32}}, "public_seed": rnd},
            {"drand": good | {"chain_hash": "00" * 32}, "public_seed": rnd},
            {"drand": good | {"evidence": {}}, "public_seed": rnd},
            {"drand": good | {"chain": "testnet"}, "public_seed": rnd},
        ]
    )
    assert not other_seed["ok"] and "is not the drand round's randomness " + rnd in other_seed["problems"][0]
    assert not bad_randomness["ok"] and "is not sha256(signature)" in bad_randomness["problems"][0]
    assert not bad_hash["ok"] and "is not the quicknet chain's" in bad_hash["problems"][0]
    assert not no_signature["ok"] and "the drand signature is not hexadecimal bytes" in no_signature["problems"]
    assert not unknown["ok"] and unknown["problems"] == ['unknown drand chain "testnet"']


def test_demo_drand_bundle_verifies_and_a_flipped_signature_fails_the_bundle(demo_bundles):
    bundle = next(b for b in demo_bundles if b["seed_source"]["kind"] == "drand")
    assert bundle["seed_source"]["round"] == 32285085
    forged = json.loads(json.dumps(bundle))
    forged["seed_source"]["evidence"]["signature"] = _flip(bundle["seed_source"]["evidence"]["signature"], 200)
    good, bad = run_js([{"bundle": bundle}, {"bundle": forged}])
    assert good["ok"] and good["drand"] == {
        "ok": True,
        "chain": "quicknet",
        "round": 32285085,
        "randomness": QUICKNET_ROUNDS[32285085][1],
        "problems": [],
    }
    assert not bad["ok"] and not bad["drand"]["ok"]
    assert "the signature of drand quicknet round 32285085 does not verify" in bad["problems"]
    others = run_js([{"bundle": b} for b in demo_bundles if b["seed_source"]["kind"] != "drand"])
    assert all(r["drand"] is None for r in others)  # no drand source: nothing new said
