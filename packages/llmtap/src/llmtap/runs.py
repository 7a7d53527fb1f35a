"""Per-run state for callback-style integrations, bounded so it can never leak.

LangChain and LlamaIndex report a run's start and end as separate callbacks. A run
whose end never arrives (a cancelled task, a generator dropped unread, a framework bug)
would otherwise keep its state for the life of the process. `OpenRuns` keeps at most
`limit` runs; the oldest is evicted, handed to `on_evict` (which finishes its record as
incomplete, so nothing is silently lost) and counted in `llmtap.stats()`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from llmtap.faults import report_fault

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_LIMIT = 10_000

_evicted = 0
_evicted_lock = threading.Lock()


def evicted_runs() -> int:
    """Runs evicted by every `OpenRuns` in this process (reported by `llmtap.stats()`)."""
    return _evicted


class OpenRuns(Generic[K, V]):
    """A thread-safe, insertion-ordered map of runs in flight, bounded by `limit`."""

    def __init__(self, on_evict: Callable[[V], None], limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"OpenRuns limit must be at least 1, got {limit}")
        self._runs: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._on_evict = on_evict
        self.limit = limit

    def put(self, key: K, value: V) -> None:
        evicted: list[V] = []
        with self._lock:
            self._runs[key] = value
            while len(self._runs) > self.limit:
                evicted.append(self._runs.popitem(last=False)[1])
        if evicted:
            self._evict(evicted)

    def get(self, key: K) -> V | None:
        return self._runs.get(key)

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._runs.pop(key, None)

    def clear(self) -> list[V]:
        """Forget every run; return them so the caller can finish them."""
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
        return runs

    def __len__(self) -> int:
        return len(self._runs)

    def _evict(self, runs: list[V]) -> None:
        global _evicted
        with _evicted_lock:
            _evicted += len(runs)
        for run in runs:
            try:
                self._on_evict(run)
            except Exception as exc:
                report_fault("runs.evict", exc)
