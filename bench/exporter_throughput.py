"""Records per second from `PIPELINE.submit()` to the file, through the real pipeline.

For SQLiteExporter and JSONLExporter (fresh files in a temp dir), with 100,000 realistic
chat records (the shape llmtap-openai produces: GenAI input/output messages, settings,
usage, provider_usage, metadata; already resolved, so no resolver runs):

* caller side: µs per `submit()` with the worker asleep (no-op exporter, batch size
  above the record count), and with the worker busy (held inside an export, so every
  submit also signals it); then that worker alone draining the queue in normal batches
  of 512 in `llmtap.flush()`, in records/s;
* end to end: submit all records from one thread with the default batch size and flush
  interval (the worker drains concurrently), then `llmtap.flush()`; records/s over the
  whole, and the caller's µs per record while the worker competes for the GIL;
* 8 threads: the same records submitted by 8 threads at once (call path saturated),
  then `llmtap.flush()`; records/s, and drops, with the queue raised to hold everything
  and again with the default queue size (10,000).

Every run checks the rows or lines on disk. "On disk" means written to the file (the
OS page cache): SQLite runs in WAL mode with synchronous=NORMAL, JSONL does not fsync.

    python bench/exporter_throughput.py               # about a minute on 2 cores
    python bench/exporter_throughput.py --repeats 3   # medians of 3, steadier
    python bench/exporter_throughput.py -n 20000    # quicker

Results: a table, and bench/results/exporter_throughput.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import llmtap
from llmtap import PIPELINE, Record, Usage
from llmtap.exporters import JSONLExporter, SQLiteExporter
from llmtap.ids import new_span_id, new_trace_id

RESULTS = Path(__file__).resolve().parent / "results" / "exporter_throughput.json"
TARGET_RECORDS_PER_S = 50_000
THREADS = 8
DEFAULT_QUEUE_SIZE = 10_000

INPUT = [
    {
        "role": "system",
        "parts": [
            {
                "type": "text",
                "content": "You are a concise assistant for a logistics company. Answer in "
                "plain English, cite the relevant policy section when you can, and never "
                "invent numbers.",
            }
        ],
    },
    {
        "role": "user",
        "parts": [
            {
                "type": "text",
                "content": "What is the cut-off time for same-day dispatch from Leeds?",
            }
        ],
    },
    {
        "role": "assistant",
        "parts": [
            {
                "type": "text",
                "content": "Orders placed before 14:00 UK time ship the same day (policy 4.2).",
            }
        ],
    },
    {
        "role": "user",
        "parts": [
            {
                "type": "text",
                "content": "And if the order contains hazardous goods? Summarise the extra "
                "checks, who signs off, and how long it usually adds.",
            }
        ],
    },
]
OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {
                "type": "text",
                "content": "Hazardous goods follow policy 7.1: the order is held for a "
                "documentation check, the dangerous-goods safety adviser signs off the "
                "packaging and the UN labels, and the carrier must confirm ADR capacity. In "
                "practice this adds four to six working hours, so same-day dispatch applies "
                "only to orders placed before 10:00.",
            }
        ],
        "finish_reason": "stop",
    }
]
PROVIDER_USAGE = {
    "completion_tokens": 128,
    "prompt_tokens": 412,
    "total_tokens": 540,
    "completion_tokens_details": {
        "accepted_prediction_tokens": 0,
        "audio_tokens": 0,
        "reasoning_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
    "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 256},
}


def make_records(n: int) -> list[Record]:
    """`n` resolved chat records; messages are shared, ids, times and usage are not."""
    now = time.time()
    records = []
    for i in range(n):
        start = now + i * 0.001
        duration = 1.2 + (i % 100) * 0.01
        records.append(
            Record(
                id=new_span_id(),
                trace_id=new_trace_id(),
                name="chat gpt-4o-mini",
                kind="generation",
                operation="chat",
                provider="openai",
                integration="llmtap-openai",
                request_model="gpt-4o-mini",
                response_model="gpt-4o-mini-2024-07-18",
                response_id=f"chatcmpl-B9MBs8CjcvOU2jLn{i:010d}",
                input=INPUT,
                output=OUTPUT,
                settings={"temperature": 0.2, "max_tokens": 512},
                finish_reason="stop",
                usage=Usage(
                    input_tokens=412,
                    output_tokens=128,
                    cached_input_tokens=256,
                    reasoning_tokens=0,
                ),
                stream=False,
                start_time=start,
                end_time=start + duration,
                duration_s=duration,
                status="ok",
                server_address="api.openai.com",
                provider_usage=PROVIDER_USAGE,
                metadata={
                    "openai.system_fingerprint": "fp_06737a9306",
                    "openai.service_tier": "default",
                },
            )
        )
    return records


# -- exporters ----------------------------------------------------------------------


class GatedExporter:
    """Holds the worker in its first export() until `open()`, then passes batches on.

    While it holds, the caller submits alone (the worker waits without the GIL), and the
    queue fills; after `open()` the worker drains it in normal batches, timed alone.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = threading.Event()

    def open(self) -> None:
        self.gate.set()

    def export(self, records: Any) -> None:
        self.gate.wait()
        self.inner.export(records)

    def shutdown(self) -> None:
        self.gate.set()
        self.inner.shutdown()


class NoopExporter:
    def export(self, records: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass


class Target:
    def __init__(self, name: str, directory: Path) -> None:
        self.name = name
        self.directory = directory
        self.runs = 0
        self.path = directory

    def new_exporter(self) -> Any:
        self.runs += 1
        if self.name == "SQLite":
            self.path = self.directory / f"run{self.runs}.db"
            return SQLiteExporter(self.path)
        self.path = self.directory / f"run{self.runs}.jsonl"
        return JSONLExporter(self.path)

    def on_disk(self) -> int:
        if self.name == "SQLite":
            with sqlite3.connect(self.path) as conn:
                return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
        with open(self.path, "rb") as file:
            return sum(1 for _ in file)

    def size_bytes(self) -> int:
        return os.path.getsize(self.path)


# -- runs ----------------------------------------------------------------------------


def flush_all() -> None:
    if not llmtap.flush(timeout=600):
        raise RuntimeError("llmtap.flush() timed out")


def submit_loop(records: list[Record]) -> None:
    submit = PIPELINE.submit
    for record in records:
        submit(record)


def submit_threads(records: list[Record]) -> None:
    slices = [records[i::THREADS] for i in range(THREADS)]
    barrier = threading.Barrier(THREADS + 1)

    def work(part: list[Record]) -> None:
        barrier.wait()
        submit_loop(part)

    threads = [threading.Thread(target=work, args=(part,)) for part in slices]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()


def measure(
    target: Target | None,
    records: list[Record],
    submit: Callable[[list[Record]], None],
    before_flush: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Time `submit(records)`, then `before_flush()` (untimed) and `llmtap.flush()`."""
    before = llmtap.stats()
    gc.collect()
    start = time.perf_counter_ns()
    submit(records)
    submitted = time.perf_counter_ns()
    if before_flush is not None:
        before_flush()
    drain_start = time.perf_counter_ns()
    flush_all()
    done = time.perf_counter_ns()
    after = llmtap.stats()
    n = len(records)
    dropped = after["dropped"] - before["dropped"]
    exported = after["exported"] - before["exported"]
    kept = n - dropped
    total_s = (submitted - start + done - drain_start) / 1e9
    result = {
        "records": n,
        "submit_s": (submitted - start) / 1e9,
        "flush_s": (done - drain_start) / 1e9,
        "submit_us_per_record": (submitted - start) / 1e3 / n,
        "records_per_s": kept / total_s,
        "drain_records_per_s": kept / ((done - drain_start) / 1e9),
        "exported": exported,
        "dropped": dropped,
        "export_failures": after["export_failures"],
    }
    if target is not None:
        result["on_disk"] = on_disk = target.on_disk()
        result["file_bytes"] = target.size_bytes()
        if on_disk != kept or exported != kept:
            print(
                f"  WARN {target.name}: submitted {n}, dropped {dropped}, exported {exported}, "
                f"on disk {on_disk}"
            )
    return result


def caller_idle(records: list[Record]) -> dict[str, Any]:
    """submit() with the worker asleep (batch size above the record count)."""
    n = len(records)
    llmtap.configure(
        exporters=[NoopExporter()], queue_size=n + 1, batch_size=n + 1, flush_interval_s=3600.0
    )
    return measure(None, records, submit_loop)


def run_target(target: Target, records: list[Record], repeats: int) -> dict[str, Any]:
    n = len(records)
    runs: dict[str, list[dict[str, Any]]] = {
        "gated": [],
        "end_to_end": [],
        "threads": [],
        "threads_default_queue": [],
    }
    for _ in range(repeats):
        # The worker held in its first export: the caller's cost while the worker is
        # behind, then the worker alone draining everything in normal batches.
        gated = GatedExporter(target.new_exporter())
        llmtap.configure(exporters=[gated], queue_size=n + 1)
        runs["gated"].append(measure(target, records, submit_loop, gated.open))
        llmtap.configure(exporters=[target.new_exporter()], queue_size=n + 1)
        runs["end_to_end"].append(measure(target, records, submit_loop))
        llmtap.configure(exporters=[target.new_exporter()], queue_size=n + 1)
        runs["threads"].append(measure(target, records, submit_threads))
    # Once: how many a saturated call path loses with the queue size left at its default.
    llmtap.configure(exporters=[target.new_exporter()], queue_size=DEFAULT_QUEUE_SIZE)
    runs["threads_default_queue"].append(measure(target, records, submit_threads))

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    return {
        "exporter": target.name,
        "worker_behind_submit_us": med("gated", "submit_us_per_record"),
        "worker_only_records_per_s": med("gated", "drain_records_per_s"),
        "end_to_end_records_per_s": med("end_to_end", "records_per_s"),
        "end_to_end_submit_us": med("end_to_end", "submit_us_per_record"),
        "threads_records_per_s": med("threads", "records_per_s"),
        "threads_submit_us": med("threads", "submit_us_per_record"),
        "threads_dropped": max(r["dropped"] for r in runs["threads"]),
        "default_queue_records_per_s": med("threads_default_queue", "records_per_s"),
        "default_queue_dropped": runs["threads_default_queue"][0]["dropped"],
        "bytes_per_record": med("end_to_end", "file_bytes") / n,
        "runs": runs,
    }


def machine() -> dict[str, Any]:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        sum(i * i for i in range(10_000))
        best = min(best, time.perf_counter_ns() - start)
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "reference_loop_us": best / 1e3,
        "sqlite": sqlite3.sqlite_version,
        "llmtap": version("llmtap"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1, help="median over repeats")
    args = parser.parse_args()

    info = machine()
    print(
        f"llmtap {info['llmtap']} / SQLite {info['sqlite']} / Python {info['python']} on "
        f"{info['cpu_count']} CPUs ({info['platform']})"
    )
    print(
        f"Load average at start: {', '.join(f'{x:.2f}' for x in info['loadavg_start'] or ())}; "
        f"reference loop {info['reference_loop_us']:.0f} µs (sum of 10k squares, best of 5)."
    )
    start = time.perf_counter()
    records = make_records(args.records)
    print(
        f"{args.records:,} chat records built in {time.perf_counter() - start:.1f} s; "
        f"median of {args.repeats} repeats, {THREADS} threads for the threaded runs."
    )

    idle = [caller_idle(records) for _ in range(args.repeats)]
    idle_submit_us = statistics.median(r["submit_us_per_record"] for r in idle)
    results = []
    with tempfile.TemporaryDirectory(prefix="llmtap-bench-") as tmp:
        for name in ("SQLite", "JSONL"):
            directory = Path(tmp) / name
            directory.mkdir()
            results.append(run_target(Target(name, directory), records, args.repeats))
        llmtap.configure(exporters=[])  # closes the files before the dir goes

    print(f"\nsubmit() with the worker idle: {idle_submit_us:.2f} µs per record (caller side)")
    header = (
        f"{'exporter':<8} {'behind µs':>9} {'worker/s':>9} {'e2e rec/s':>10} "
        f"{'e2e sub µs':>10} {f'{THREADS}thr rec/s':>10} {'drops':>6} "
        f"{'q=10k kept/s':>12} {'q=10k drops':>11} {'B/rec':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['exporter']:<8} {r['worker_behind_submit_us']:>9.2f} "
            f"{r['worker_only_records_per_s']:>9,.0f} {r['end_to_end_records_per_s']:>10,.0f} "
            f"{r['end_to_end_submit_us']:>10.2f} {r['threads_records_per_s']:>10,.0f} "
            f"{r['threads_dropped']:>6} {r['default_queue_records_per_s']:>12,.0f} "
            f"{r['default_queue_dropped']:>11,} {r['bytes_per_record']:>6.0f}"
        )
    print(
        "\nbehind µs = caller's cost per submit() while the worker is busy (held in an "
        "export); worker/s = the worker alone\ndraining the queue in normal batches; e2e = "
        "one thread submits while the worker drains, then flush(); e2e sub µs = caller's\n"
        f"cost per submit() meanwhile; {THREADS}thr = {THREADS} threads submit at once (queue "
        "holds every record); q=10k = the same\nwith the default queue size: records kept "
        "per second and records dropped; B/rec = file bytes per record."
    )
    verdicts = []
    for r in results:
        for label, key in (
            ("end to end", "end_to_end_records_per_s"),
            (f"{THREADS} threads", "threads_records_per_s"),
        ):
            value = r[key]
            v = "PASS" if value >= TARGET_RECORDS_PER_S else "FAIL"
            print(
                f"  {v}  {r['exporter']} {label}: {value:,.0f} records/s "
                f"(target ≥ {TARGET_RECORDS_PER_S:,})"
            )
            verdicts.append(
                {
                    "check": f"{r['exporter']} {label}",
                    "value": value,
                    "target": TARGET_RECORDS_PER_S,
                    "verdict": v,
                }
            )
        if r["threads_dropped"]:
            print(f"  WARN {r['exporter']}: {r['threads_dropped']} records dropped")

    faults = llmtap.stats()["faults"]
    if faults:
        print(f"WARNING: llmtap reported internal faults: {faults}")
    info["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"Total {time.perf_counter() - start:.0f} s.")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "exporter_throughput",
                "machine": info,
                "settings": {
                    "records": args.records,
                    "repeats": args.repeats,
                    "threads": THREADS,
                    "default_queue_size": DEFAULT_QUEUE_SIZE,
                },
                "target_records_per_s": TARGET_RECORDS_PER_S,
                "caller_idle_submit_us": idle_submit_us,
                "caller_idle_runs": idle,
                "results": results,
                "verdicts": verdicts,
                "faults": faults,
            },
            indent=2,
        )
    )
    print(f"Wrote {RESULTS}")


if __name__ == "__main__":
    main()
