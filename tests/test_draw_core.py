"""The draw core: tickets against the consistent-sampler oracle, frames, bundles, fairness."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
from typing import Any

import numpy as np
import pytest
from consistent_sampler import first_ticket, sampler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_kit.draw import (
    CoverageRule,
    QuotaRule,
    build_bundle,
    canonical_frame_bytes,
    draw_stratified,
    format_ticket,
    frame_sha256,
    select,
    ticket,
    ticket_key,
    ticket_keys,
    tickets,
    verify_bundle,
)
from inspect_kit.draw.core import sampler as sampler_module


def oracle(seed: str, ids: list[str], n: int) -> list[str]:
    return list(sampler(ids, seed=seed, with_replacement=False, take=n, output="id"))


# --- fixed vectors, computed once with consistent_sampler 1.0.10 ------------------------------

FIXED_TICKETS = [
    (
        "01382438112797316654",
        "AB-130",  # the package's own docstring example
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854",
    ),
    (
        "01382438112797316654",
        "91310115MA1K3YJ12X",
        "0.09603011858619207249308271290097470190987910978636886903678590382630817646395",
    ),
    (
        "0",
        "AB-130",  # 77 digits: x has 77 decimal digits
        "0.1080197093303677096850754402605818405137511435224518798475672720417592441942",
    ),
    ("00", "91110000100000000A", "0.41979181338655883734274703333016878854075638064326241381385349313874918573424"),
    ("20260105", "企业-甲", "0.83691660813606222653131103070628928823516055873135213082155153127523129525233"),
]
USCC_30 = [f"9133{k:014d}" for k in range(30)]
FIXED_SAMPLES = [
    (
        "20260105",
        6,
        [
            "913300000000000006",
            "913300000000000015",
            "913300000000000020",
            "913300000000000004",
            "913300000000000011",
            "913300000000000021",
        ],
    ),
    (
        "0",
        5,
        ["913300000000000028", "913300000000000004", "913300000000000029", "913300000000000012", "913300000000000026"],
    ),
    (
        "00",
        5,
        ["913300000000000012", "913300000000000026", "913300000000000024", "913300000000000004", "913300000000000002"],
    ),
]


@pytest.mark.parametrize("seed,identifier,expected", FIXED_TICKETS)
def test_fixed_ticket_vectors(seed: str, identifier: str, expected: str) -> None:
    assert ticket(seed, identifier) == expected
    assert first_ticket(identifier, seed).ticket_number == expected


@pytest.mark.parametrize("seed,n,expected", FIXED_SAMPLES)
def test_fixed_sample_vectors(seed: str, n: int, expected: list[str]) -> None:
    drawn = select(seed, USCC_30, n)
    assert [s.id for s in drawn] == expected
    assert [s.rank for s in drawn] == list(range(1, n + 1))
    assert oracle(seed, USCC_30, n) == expected


def test_seed_is_a_string_not_a_number() -> None:
    assert [s.id for s in select("0", USCC_30, 5)] != [s.id for s in select("00", USCC_30, 5)]


# --- equality with the oracle over random seeds and populations --------------------------------

ids_strategy = st.lists(st.text(min_size=1, max_size=20), min_size=0, max_size=60, unique=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.text(min_size=1, max_size=30), ids=ids_strategy, data=st.data())
def test_select_equals_oracle(seed: str, ids: list[str], data: st.DataObject) -> None:
    n = data.draw(st.integers(0, len(ids)))
    drawn = select(seed, ids, n)
    assert [s.id for s in drawn] == oracle(seed, ids, n)
    assert [s.ticket for s in drawn] == [first_ticket(s.id, seed).ticket_number for s in drawn]


@settings(max_examples=100, deadline=None)
@given(seed=st.text(min_size=1), ids=ids_strategy)
def test_tickets_equal_oracle(seed: str, ids: list[str]) -> None:
    assert tickets(seed, ids) == [first_ticket(i, seed).ticket_number for i in ids]


def test_larger_population_equals_oracle() -> None:
    rng = random.Random(7)
    ids = [f"91{rng.randrange(10**16):016d}" for _ in range(5000)]
    for seed in ("1", "8249 1733 0926", "beacon:4f3c9a"):
        assert [s.id for s in select(seed, ids, 400)] == oracle(seed, ids, 400)


@pytest.mark.parametrize("path", ["hashlib", "compiled"])
@pytest.mark.parametrize("digits", [3, 6])
def test_prefix_ties_are_settled_exactly(monkeypatch: pytest.MonkeyPatch, digits: int, path: str) -> None:
    """With a 3-digit prefix, 3,000 ids share prefixes all the time; the result must not move. The
    C extension's keys (9 digits) are cut to `digits` here, as sampler._PREFIX_DIGITS is for hashlib."""
    from inspect_kit import sha256_kernel

    if path == "hashlib":
        monkeypatch.setattr(sha256_kernel, "available", lambda: False)
        monkeypatch.setattr(sampler_module, "_PREFIX_DIGITS", digits)
    elif not sha256_kernel.available():
        pytest.skip("the C extension inspect_kit._sha256x is not built")
    else:
        real = sha256_kernel._hash

        def cut(*args: Any, **kwargs: Any) -> tuple[bytes | None, bytes | None]:
            block, keys = real(*args, **kwargs)
            if keys is not None:
                keys = (np.frombuffer(keys, dtype=np.uint64) // np.uint64(10 ** (9 - digits))).tobytes()
            return block, keys

        monkeypatch.setattr(sha256_kernel, "_hash", cut)
    ids = [f"E{k:05d}" for k in range(3000)]
    for seed in ("a", "b", "c"):
        for n in (1, 17, 999, 3000):
            assert [s.id for s in select(seed, ids, n)] == oracle(seed, ids, n)


def test_sample_does_not_depend_on_input_order() -> None:
    ids = [f"ID{k:04d}" for k in range(500)]
    shuffled = ids[:]
    random.Random(3).shuffle(shuffled)
    assert select("42", ids, 50) == select("42", shuffled, 50)


# --- keys: order-equivalent to the package's string order --------------------------------------

digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=78)


@settings(max_examples=500)
@given(a=digit_strings, b=digit_strings)
def test_ticket_key_orders_like_strings(a: str, b: str) -> None:
    ta, tb = "0." + a, "0." + b
    assert (ticket_key(ta) < ticket_key(tb)) == (ta < tb)
    assert (ticket_key(ta) == ticket_key(tb)) == (ta == tb)


@pytest.mark.parametrize("a,b", [("123", "1230"), ("1230", "1231"), ("10", "9"), ("0", "00")])
def test_ticket_key_prefix_cases(a: str, b: str) -> None:
    assert ("0." + a < "0." + b) and ticket_key("0." + a) < ticket_key("0." + b)


def test_ticket_keys_sort_like_the_package() -> None:
    ids = [f"K{k}" for k in range(2000)]
    keys = ticket_keys("seed", ids)
    by_key = [i for _, i in sorted(zip(keys, ids))]
    assert by_key == oracle("seed", ids, len(ids))


SPECIAL_X = [0, 5, 10**63, 10**64 - 1, 10**64, 10**76 - 1, 10**76, 10**77, 2**256 - 1]


@settings(max_examples=200)
@given(
    digests=st.lists(
        st.binary(min_size=32, max_size=32) | st.sampled_from([x.to_bytes(32, "big") for x in SPECIAL_X]),
        min_size=1,
        max_size=20,
    )
)
def test_digest_to_ticket_and_prefix(digests: list[bytes]) -> None:
    """Padding below 10**64, 64..78 digits, and the 9-digit prefix, on arbitrary digests."""
    expected = [
        "0." + "{:064d}".format(int.from_bytes(d, "big"))[::-1]  # sha256_uniform, from x
        for d in digests
    ]
    assert [sampler_module._ticket_from_digest(d) for d in digests] == expected
    words = sampler_module._digest_words(digests)
    for digits in (3, 6, 9):
        prefix = sampler_module._prefix_keys(words, digits)
        assert prefix.tolist() == [int(t[2 : 2 + digits]) for t in expected]


# --- input checks and publication ---------------------------------------------------------------


def test_non_string_ids_and_duplicates_are_refused() -> None:
    with pytest.raises(TypeError, match="canonical str"):
        select("1", ["a", 7], 1)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="tuple"):
        ticket("1", ("a", "b"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate identifiers: \\['b'\\]"):
        select("1", ["a", "b", "c", "b"], 1)
    with pytest.raises(ValueError, match="0..3"):
        select("1", ["a", "b", "c"], 4)
    with pytest.raises(ValueError, match="seed"):
        select("", ["a"], 1)


def test_duplicates_found_among_many() -> None:
    ids = [f"U{k}" for k in range(20000)] + ["U12345"]
    with pytest.raises(ValueError, match="U12345"):
        select("s", ids, 10)


def test_format_ticket_keeps_at_least_18_digits() -> None:
    full = FIXED_TICKETS[0][2]
    assert format_ticket(full) == "0.262997141228380084"
    assert format_ticket(full, 30) == full[:32]
    with pytest.raises(ValueError, match="18"):
        format_ticket(full, 9)


# --- fairness -----------------------------------------------------------------------------------


def test_inclusion_frequencies_are_binomial() -> None:
    """Over 2,000 seeds each of 20 entities is drawn ~n/N of the time (5 sigma, no flakes)."""
    ids = [f"91330100MA{k:08d}" for k in range(20)]
    n, seeds = 5, 2000
    counts = dict.fromkeys(ids, 0)
    for s in range(seeds):
        for chosen in select(f"{s:06d}", ids, n):
            counts[chosen.id] += 1
    p = n / len(ids)
    mean, sigma = seeds * p, math.sqrt(seeds * p * (1 - p))
    assert all(abs(c - mean) < 5 * sigma for c in counts.values()), counts
    assert sum(counts.values()) == n * seeds


# --- frames ------------------------------------------------------------------------------------


def test_canonical_frame_bytes_format() -> None:
    rows = [("b2", "重点"), ("a1", "一般"), ("b", "一般")]
    data = canonical_frame_bytes(rows)
    assert data == "a1\t一般\nb\t一般\nb2\t重点\n".encode()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert frame_sha256(rows) == hashlib.sha256(data).hexdigest()
    assert frame_sha256(list(reversed(rows))) == frame_sha256(rows)
    assert canonical_frame_bytes([]) == b""


@pytest.mark.parametrize(
    "rows,message",
    [
        ([("a\tb", "S")], "U\\+0009"),
        ([("a", "S\n")], "U\\+000A"),
        ([("a\u2028", "S")], "U\\+2028"),
        ([("a", "S"), ("a", "T")], "'a' appears more than once"),
        ([("", "S")], "identifier is empty"),
        ([(1, "S")], "identifier must be a str"),
        ([("a",)], "expected \\(identifier, stratum\\)"),
    ],
)
def test_bad_frames_are_refused(rows: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        canonical_frame_bytes(rows)


def test_draw_stratified_per_stratum_and_order_free() -> None:
    rows = [(f"91{k:016d}", "AB"[k % 2]) for k in range(200)]
    result = draw_stratified("777", rows, {"A": 10, "B": 3})
    assert [(s.stratum, s.N, s.n, len(s.selected)) for s in result.strata] == [("A", 100, 10, 10), ("B", 100, 3, 3)]
    a_ids = [i for i, s in rows if s == "A"]
    assert [c.id for c in result.stratum("A").selected] == oracle("777", a_ids, 10)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert draw_stratified("777", shuffled, {"A": 10, "B": 3}) == result
    assert result.frame_sha256 == frame_sha256(rows)
    with pytest.raises(ValueError, match="no sample size for strata \\['B'\\]"):
        draw_stratified("777", rows, {"A": 1})
    with pytest.raises(ValueError, match="outside 0..100"):
        draw_stratified("777", rows, {"A": 101, "B": 0})


# --- bundles -----------------------------------------------------------------------------------


def make_bundle() -> dict:
    rows = [(f"91330100{k:010d}", ("重点", "一般", "新增")[k % 3]) for k in range(90)]
    return build_bundle(
        seed="3849 1023 7745",
        seed_source="public dice roll, 2026-01-05 09:30",
        matter="排污许可执行情况检查",
        period="2026Q1",
        rows=rows,
        rules={
            "重点": QuotaRule.of("25%"),
            "一般": QuotaRule.of("1:10", "round"),
            "新增": CoverageRule(period=0, periods=4, drawn_before=0),
        },
    )


def test_bundle_contents_and_verification() -> None:
    bundle = make_bundle()
    assert bundle["format"] == "inspect-kit/draw-bundle" and bundle["version"] == 1
    assert bundle["algorithm"] == {"name": "consistent-sampler-sha256", "version": "1.0.10"}
    strata = {e["stratum"]: e for e in bundle["strata"]}
    assert strata["重点"]["n"] == 8 and strata["重点"]["explanation"] == "N=30, quota 25%, ceil(7.5)=8"
    assert strata["一般"]["n"] == 3 and strata["新增"]["n"] == 7
    assert len(bundle["sample"]) == 18
    assert verify_bundle(bundle).ok, verify_bundle(bundle).problems
    assert verify_bundle(json.loads(json.dumps(bundle, ensure_ascii=False))).ok
    ids = [r[0] for r in bundle["frame"]["rows"] if r[1] == "重点"]
    listed = [s["identifier"] for s in bundle["sample"] if s["stratum"] == "重点"]
    assert listed == oracle(bundle["seed"], ids, 8)


def test_tampered_frame_fails() -> None:
    bundle = make_bundle()
    bundle["frame"]["rows"].append(["91330100ZZZZZZZZZZ", "重点"])
    report = verify_bundle(bundle)
    assert not report.ok
    assert any(p.startswith("frame hash mismatch") for p in report.problems)
    assert any("'重点': N is 30, but the frame has 31" in p for p in report.problems)


def test_changed_seed_fails() -> None:
    bundle = make_bundle()
    bundle["seed"] = "3849 1023 7746"
    problems = verify_bundle(bundle).problems
    assert any(p.startswith("sample differs in stratum") for p in problems)
    assert any("none of the 18 listed tickets belongs to seed '3849 1023 7746'" in p for p in problems)


def test_changed_sample_fails() -> None:
    bundle = make_bundle()
    drawn = {s["identifier"] for s in bundle["sample"]}
    intruder = next(r for r in bundle["frame"]["rows"] if r[1] == "重点" and r[0] not in drawn)
    swapped = next(s for s in bundle["sample"] if s["stratum"] == "重点")
    gone = swapped["identifier"]
    swapped["identifier"] = intruder[0]
    problems = verify_bundle(bundle).problems
    differs = [p for p in problems if p.startswith("sample differs in stratum '重点'")]
    assert len(differs) == 1 and repr(intruder[0]) in differs[0] and repr(gone) in differs[0]
    assert any(p.startswith(f"ticket of {intruder[0]!r}") for p in problems)


def test_sample_outside_frame_and_wrong_n_fail() -> None:
    bundle = make_bundle()
    bundle["sample"][0]["identifier"] = "NOT-IN-FRAME"
    bundle["strata"][0]["n"] += 1
    problems = verify_bundle(bundle).problems
    assert "identifier 'NOT-IN-FRAME' in the sample is not in the frame" in problems
    label = bundle["strata"][0]["stratum"]
    assert any(p.startswith(f"stratum {label!r}: n=") and "does not follow from the quota" in p for p in problems)


def test_reordered_sample_and_malformed_bundle() -> None:
    bundle = make_bundle()
    reordered = copy.deepcopy(bundle)
    reordered["sample"][0], reordered["sample"][1] = reordered["sample"][1], reordered["sample"][0]
    assert any("same ids, other order" in p for p in verify_bundle(reordered).problems)
    duplicated = copy.deepcopy(bundle)
    duplicated["frame"]["rows"].append(list(duplicated["frame"]["rows"][0]))
    assert verify_bundle(duplicated).problems == [
        f"frame: identifier {duplicated['frame']['rows'][0][0]!r} appears more than once"
    ]
    bundle["sample"][2]["rank"] = "3"
    assert verify_bundle(bundle).problems == ["sample entry 3: 'rank' is not a int"]
    del bundle["frame"]
    assert verify_bundle(bundle).problems == ["'frame' is missing or not a dict"]


def test_per_inspector_bundle_round_trip() -> None:
    rows = [(f"E{k:03d}", "AB"[k % 4 == 0]) for k in range(80)]
    rule = QuotaRule.of("5×inspectors")
    bundle = build_bundle(
        seed="9",
        seed_source="test",
        matter="m",
        period="2026-03",
        rows=rows,
        rules={"A": rule, "B": rule},
        on_duty_inspectors=3,
    )
    assert {e["stratum"]: e["n"] for e in bundle["strata"]} == {"A": 11, "B": 4}  # 15 = 11.25 + 3.75
    assert bundle["on_duty_inspectors"] == 3
    assert verify_bundle(bundle).ok
    bundle["on_duty_inspectors"] = 4
    assert any("does not follow from the quota" in p for p in verify_bundle(bundle).problems)


def test_numpy_string_arrays_are_accepted_as_plain_str():
    import numpy as np
    from consistent_sampler import sampler as reference

    ids = [f"91360199{i:09d}X" for i in range(200)]
    seed = "numpy seed 0123456789"
    expected = list(reference(ids, seed=seed, take=7, output="id"))
    assert [s.id for s in select(seed, np.array(ids), 7)] == expected
    assert [s.id for s in select(seed, np.array(ids, dtype=object), 7)] == expected
    assert all(type(s.id) is str for s in select(seed, np.array(ids), 7))
    with pytest.raises(TypeError):
        select(seed, np.arange(10), 3)
