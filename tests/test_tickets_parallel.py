"""Tickets on both cores: the forked path gives the one-core bytes and the package's sample.

inspect_kit.hashing.PARALLEL_MIN is lowered in these tests so that small random instances take the forked path;
each test also checks that the workers really hashed (the parent never touched their slices), so
none of them passes by quietly running on one core.
"""

from __future__ import annotations

import threading

import pytest
from consistent_sampler import first_ticket, sampler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_kit import hashing as H
from inspect_kit import sha256_kernel
from inspect_kit.draw.core import sampler as S

CHINESE = "企业甲乙丙丁戊己庚辛壬癸市场监管局统一社会信用代码（）·-"
ANY_TEXT = st.characters(exclude_categories=("Cs",))  # every character UTF-8 can encode
ids_strategy = st.lists(
    st.text(alphabet=st.sampled_from(CHINESE) | ANY_TEXT, min_size=1, max_size=24), min_size=2, max_size=60, unique=True
)
seeds = st.text(alphabet=st.sampled_from("0123456789 年月日第期号") | ANY_TEXT, min_size=1, max_size=30)


def oracle(seed: str, ids: list[str], n: int) -> list[tuple[str, str]]:
    return [
        (t.id, t.ticket_number)
        for t in sampler(ids, seed=seed, with_replacement=False, take=n, output="ticket", digits=100)
    ]


@pytest.fixture
def forked(monkeypatch):
    """Fork from 2 ids on, and record which slices this process hashed itself. The forked path is
    hashlib's, taken where the C extension is not built: it is disabled here."""
    monkeypatch.setattr(sha256_kernel, "available", lambda: False)
    monkeypatch.setattr(H, "PARALLEL_MIN", 2)
    monkeypatch.setattr(H, "spare_cores", lambda: 1)  # as on an idle two-core machine
    monkeypatch.setattr(H, "CHUNK", 7)  # slices are hashed in chunks: make their seams frequent
    here: list[tuple[int, int]] = []
    real = H._hash_slice

    def spy(seed_state, id_list, lo, hi):
        here.append((lo, hi))
        return real(seed_state, id_list, lo, hi)

    monkeypatch.setattr(H, "_hash_slice", spy)
    return here


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=seeds, ids=ids_strategy, data=st.data())
def test_forked_select_equals_one_core_and_the_package(forked, seed, ids, data):
    n = data.draw(st.integers(0, len(ids)))
    workers = min(data.draw(st.integers(2, 3)), len(ids))
    forked.clear()
    block = S.digest_block(seed, ids, workers)
    first = len(ids) // workers  # this process hashed the first slice, in chunks, and nothing else
    assert forked == [(lo, min(lo + 7, first)) for lo in range(0, first, 7)]
    assert block == b"".join(S._digests(seed, ids))  # byte-identical to the one-core path
    assert H.parallel_workers(len(ids)) >= 2
    drawn = S.select(seed, ids, n)  # the default path forks here too
    assert [(s.id, s.ticket) for s in drawn] == oracle(seed, ids, n)
    assert S.tickets(seed, ids) == [first_ticket(i, seed).ticket_number for i in ids]


def test_forked_path_refuses_duplicates_in_any_slice(forked):
    ids = [f"市场主体{k}" for k in range(40)]
    for dup_at in (0, 25, 39):  # the duplicate lands in the parent's slice or a worker's
        with pytest.raises(ValueError, match="duplicate identifiers: \\['市场主体7'\\]"):
            S.select("种子", ids[:dup_at] + ["市场主体7"] + ids[dup_at:], 3)
    assert forked and all(hi <= 21 for _, hi in forked)  # workers hashed the other slices (of 41 ids)


def test_a_failed_worker_is_replaced_by_this_process(forked, monkeypatch):
    ids = [f"E{k:04d}" for k in range(200)]
    expected = oracle("s", ids, 20)
    broken = {
        "no process could be started": ("_fork_hasher", lambda *args: None),
        "a worker sends garbage": ("_hash_into_pipe", lambda seed_state, id_list, lo, hi, send: send.send_bytes(b"x")),
        "a worker dies silently": ("_hash_into_pipe", lambda *args: None),
    }
    for name, (attribute, replacement) in broken.items():
        with monkeypatch.context() as patch:
            patch.setattr(H, attribute, replacement)
            forked.clear()
            assert [(s.id, s.ticket) for s in S.select("s", ids, 20)] == expected, name
            assert (198, 200) in forked, name  # this process hashed the worker's slice (100..200) itself


def test_small_inputs_busy_machines_and_threaded_processes_stay_on_one_core(monkeypatch):
    assert H.parallel_workers(H.PARALLEL_MIN - 1) == 1
    monkeypatch.setattr(H, "PARALLEL_MIN", 2)
    monkeypatch.setattr(H.os, "sched_getaffinity", lambda pid: {0, 1})
    for load, workers in ((0.0, 2), (1.0, 2), (1.4, 2), (1.6, 1), (2.0, 1), (7.5, 1)):
        monkeypatch.setattr(H.os, "getloadavg", lambda load=load: (load, load, load))
        assert H.parallel_workers(1000) == workers, load  # a busy core is not worth a worker
    monkeypatch.setattr(H.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert H.parallel_workers(1000) == 1  # forking a threaded process can deadlock the child
    finally:
        stop.set()
        thread.join()
