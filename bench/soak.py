"""Soak: does a long run of instrumented OpenAI calls grow the process's memory?

Calls `chat.completions.create` and `responses.create` with `instrument_openai()` on, in
a fixed mix: sync and async, non-stream and 10-delta streams, through both APIs (eight
kinds in turn). Records go to llmtap's default SQLite exporter on a temp file (or to a
no-op exporter with `--exporter noop`), with default queue settings.

* `--mode wrapper`: the SDK's `create` is replaced by a function returning a pre-parsed
  response or stream (openai_overhead.py's own-cost setup), so every call runs
  llmtap's real caller path and the worker its real resolver, about 100x faster than
  the SDK. 1,000,000 calls by default.
* `--mode sdk`: the real SDK end to end over openai_overhead.py's mock transport.
  100,000 calls by default. The SDK grows on its own here (openai 3.54 with httpx2:
  about 4 KB a call over this mix, 22 KB per async chat stream, without llmtap), so
  compare with the same run `--uninstrumented`.

RSS is read from /proc/self/statm every 10,000 calls. The figure checked is its growth
from the end of the warm-up to the end (target under 5 MiB), both taken after a flush()
and a full collection; the slope over that span and the queue length at each sample are
printed too, since a queue filling up because the worker is behind holds records
without leaking them. At the end: llmtap.stats(),
and the store's row count against calls made minus records dropped.

    python bench/soak.py --mode wrapper                # 1M calls, a few minutes
    python bench/soak.py --mode sdk                    # 100k calls, 5-10 minutes
    python bench/soak.py --mode wrapper --calls 100000 --warmup 20000   # quick

Results: bench/results/soak-<mode>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import llmtap
from harness import NoopExporter, loadavg, reference_us
from llmtap.exporters import SQLiteExporter

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_GROWTH_MIB = 5.0
SAMPLE_EVERY = 10_000
PROGRESS_EVERY = 100_000
PAGE = os.sysconf("SC_PAGE_SIZE")

# (api, name, async, text deltas or content chunks; 0 = not a stream): one call of each
# in turn.
MIX = [
    ("chat", "sync non-stream", False, 0),
    ("chat", "sync stream 10", False, 10),
    ("chat", "async non-stream", True, 0),
    ("chat", "async stream 10", True, 10),
    ("responses", "sync non-stream", False, 0),
    ("responses", "sync stream 10", False, 10),
    ("responses", "async non-stream", True, 0),
    ("responses", "async stream 10", True, 10),
]


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class Soak:
    def __init__(self, mode: str, calls: int, warmup: int) -> None:
        # Imported here: handler_soak.py shares this module's sampling without the SDK.
        from openai_overhead import Case

        canned = mode == "wrapper"
        self.cases = [Case(*case, canned) for case in MIX]
        self.calls = calls
        self.warmup = warmup
        self.samples: list[dict[str, Any]] = []
        self.made = 0

    async def run(self) -> None:
        """All calls from one event loop: async ones are awaited, sync ones called."""
        cases, n = self.cases, len(self.cases)
        seen_per_kind = [case.seen for case in cases]
        self.sample()
        while self.made < self.calls:
            block = min(SAMPLE_EVERY, self.calls - self.made)
            for i in range(self.made, self.made + block):
                case = cases[i % n]
                seen = await case.async_call() if case.is_async else case.sync_call()
                if seen != seen_per_kind[i % n]:
                    raise RuntimeError(f"{case.name}: {seen} chunks, expected {case.seen}")
            self.made += block
            if self.made in (self.warmup, self.calls):
                # The two samples compared: an empty queue (records waiting for a busy
                # worker are not a leak) and no garbage awaiting collection.
                llmtap.flush(timeout=600)
                gc.collect()
            self.sample()

    def sample(self) -> None:
        stats = llmtap.stats()
        self.samples.append(
            {
                "calls": self.made,
                "rss": rss_bytes(),
                "queued": stats["queued"],
                "dropped": stats["dropped"],
                "t": time.perf_counter(),
            }
        )
        if self.made % PROGRESS_EVERY == 0:
            last = self.samples[-1]
            print(
                f"  ... {self.made:,} calls, RSS {last['rss'] / 2**20:.1f} MiB, queued "
                f"{last['queued']:,}, dropped {last['dropped']:,}",
                file=sys.stderr,
                flush=True,
            )


def slope_per_100k(points: list[tuple[int, int]]) -> float:
    """Least-squares bytes per 100,000 calls."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in points) / var * 100_000


def store_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("wrapper", "sdk"), default="wrapper")
    parser.add_argument("--calls", type=int, help="default 1,000,000 (wrapper), 100,000 (sdk)")
    parser.add_argument(
        "--warmup", type=int, help="calls before the baseline RSS (default 50,000, or half)"
    )
    parser.add_argument("--exporter", choices=("sqlite", "noop"), default="sqlite")
    parser.add_argument(
        "--uninstrumented",
        action="store_true",
        help="the same calls without llmtap: the SDK's own growth, to compare with",
    )
    args = parser.parse_args()
    calls = args.calls or (1_000_000 if args.mode == "wrapper" else 100_000)
    warmup = args.warmup if args.warmup is not None else min(50_000, calls // 2)
    # Samples land on multiples of SAMPLE_EVERY, so the warm-up ends on one.
    warmup = max(SAMPLE_EVERY, warmup // SAMPLE_EVERY * SAMPLE_EVERY)
    if calls <= warmup:
        parser.error(f"--calls must be above the warm-up ({warmup:,})")

    kind = "uninstrumented" if args.uninstrumented else "instrumented"
    print(
        f"Soak, {args.mode} mode: {calls:,} {kind} OpenAI calls ({len(MIX)} kinds in "
        f"turn), {args.exporter} exporter, warm-up {warmup:,}. Load average "
        f"{', '.join(f'{x:.2f}' for x in loadavg() or ())}; reference loop "
        f"{reference_us():.0f} µs."
    )
    from openai_overhead import CannedCreate

    canned = CannedCreate() if args.mode == "wrapper" else None
    with tempfile.TemporaryDirectory(prefix="llmtap-soak-") as tmp:
        path = Path(tmp) / "llmtap.db"
        exporter = SQLiteExporter(path) if args.exporter == "sqlite" else NoopExporter()
        if canned is not None:
            canned.install()
        if not args.uninstrumented:
            llmtap.instrument_openai()
        llmtap.configure(exporters=[exporter])  # default queue size, batch and interval
        soak = Soak(args.mode, calls, warmup)
        start = time.perf_counter()
        try:
            asyncio.run(soak.run())
        finally:
            called = time.perf_counter()
            flushed = llmtap.flush(timeout=600)
            done = time.perf_counter()
            llmtap.uninstrument_openai()
            if canned is not None:
                canned.restore()
        stats = llmtap.stats()
        rows = store_rows(path) if args.exporter == "sqlite" and not args.uninstrumented else None
        db_bytes = sum(p.stat().st_size for p in Path(tmp).iterdir())
        llmtap.configure(exporters=[])  # closes the store before the dir goes

    samples = soak.samples
    base = next(s for s in samples if s["calls"] == warmup)
    after = [s for s in samples if s["calls"] >= warmup]
    growth = samples[-1]["rss"] - base["rss"]
    peak = max(s["rss"] for s in after) - base["rss"]
    slope = slope_per_100k([(s["calls"], s["rss"]) for s in after])
    mib = 1024 * 1024

    print(f"\n{'calls':>10} {'RSS MiB':>8} {'queued':>7} {'dropped':>9} {'calls/s':>8}")
    step = max(1, len(samples) // 20)
    previous = samples[0]
    for s in samples[1:]:
        if s["calls"] % (step * SAMPLE_EVERY) and s is not samples[-1] and s is not base:
            continue
        rate = (s["calls"] - previous["calls"]) / max(s["t"] - previous["t"], 1e-9)
        mark = "  <- end of warm-up" if s is base else ""
        print(
            f"{s['calls']:>10,} {s['rss'] / mib:>8.1f} {s['queued']:>7,} {s['dropped']:>9,} "
            f"{rate:>8,.0f}{mark}"
        )
        previous = s
    print(
        f"\n{calls:,} calls in {called - start:.0f} s ({calls / (called - start):,.0f}/s); "
        f"final flush {done - called:.1f} s{'' if flushed else ' (TIMED OUT)'}."
    )
    print(
        f"RSS after warm-up {base['rss'] / mib:.1f} MiB, at the end "
        f"{samples[-1]['rss'] / mib:.1f} MiB: growth {growth / mib:+.2f} MiB, peak "
        f"{peak / mib:+.2f} MiB, slope {slope / mib:+.3f} MiB per 100k calls."
    )
    kept = calls - stats["dropped"]
    print(
        f"llmtap.stats(): exported {stats['exported']:,}, dropped {stats['dropped']:,}, "
        f"queued {stats['queued']}, failures {stats['export_failures'] or 'none'}, faults "
        f"{stats['faults'] or 'none'}, evicted runs {stats['evicted_runs']}."
    )
    verdicts = []

    def check(label: str, ok: bool, value: Any, target: Any) -> None:
        verdict = "PASS" if ok else "FAIL"
        print(f"  {verdict}  {label}")
        verdicts.append({"check": label, "value": value, "target": target, "verdict": verdict})

    check(
        f"RSS growth after warm-up {growth / mib:+.2f} MiB (target < {TARGET_GROWTH_MIB} MiB)",
        growth < TARGET_GROWTH_MIB * mib,
        growth,
        TARGET_GROWTH_MIB * mib,
    )
    if rows is not None:
        check(
            f"store rows {rows:,} = calls {calls:,} - dropped {stats['dropped']:,}",
            rows == kept,
            rows,
            kept,
        )
    check("no export failures or faults", not (stats["export_failures"] or stats["faults"]), 0, 0)
    if stats["dropped"]:
        print(
            f"  INFO  {stats['dropped']:,} records dropped: the worker did not keep up with "
            "the caller (queue full), see the queued column."
        )

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"soak-{args.mode}{'-uninstrumented' if args.uninstrumented else ''}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "soak",
                "mode": args.mode,
                "exporter": args.exporter,
                "instrumented": not args.uninstrumented,
                "calls": calls,
                "warmup": warmup,
                "python": sys.version.split()[0],
                "loadavg_end": loadavg(),
                "seconds": called - start,
                "flush_s": done - called,
                "store_bytes": db_bytes,
                "rows": rows,
                "stats": stats,
                "rss_growth_bytes": growth,
                "rss_peak_growth_bytes": peak,
                "rss_slope_bytes_per_100k": slope,
                "samples": samples,
                "verdicts": verdicts,
            },
            indent=2,
        )
    )
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
