"""`OpenRuns`: per-run state that can never grow without bound."""

from __future__ import annotations

import threading

import pytest

import llmtap
from llmtap.faults import fault_counts
from llmtap.runs import OpenRuns


def test_runs_that_never_end_are_evicted_oldest_first_and_counted() -> None:
    evicted: list[int] = []
    runs: OpenRuns[str, int] = OpenRuns(evicted.append, limit=3)
    before = llmtap.stats()["evicted_runs"]
    for n in range(5):
        runs.put(f"run{n}", n)
    assert len(runs) == 3
    assert evicted == [0, 1]
    assert runs.get("run0") is None
    assert runs.pop("run4") == 4
    assert llmtap.stats()["evicted_runs"] == before + 2


def test_ending_a_run_frees_it() -> None:
    runs: OpenRuns[str, int] = OpenRuns(lambda _: None, limit=10)
    runs.put("a", 1)
    assert runs.pop("a") == 1
    assert runs.pop("a") is None
    assert len(runs) == 0


def test_a_failing_eviction_hook_is_a_counted_fault_not_an_exception() -> None:
    def broken(_: int) -> None:
        raise RuntimeError("boom")

    runs: OpenRuns[str, int] = OpenRuns(broken, limit=1)
    runs.put("a", 1)
    runs.put("b", 2)
    assert fault_counts()["runs.evict"] == 1


def test_concurrent_puts_and_pops_keep_the_bound() -> None:
    runs: OpenRuns[tuple[int, int], int] = OpenRuns(lambda _: None, limit=100)

    def work(thread: int) -> None:
        for n in range(2000):
            runs.put((thread, n), n)
            if n % 2:
                runs.pop((thread, n))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) <= 100


def test_clear_returns_the_open_runs() -> None:
    runs: OpenRuns[str, int] = OpenRuns(lambda _: None)
    runs.put("a", 1)
    assert runs.clear() == [1]
    assert len(runs) == 0


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        OpenRuns(lambda _: None, limit=0)
