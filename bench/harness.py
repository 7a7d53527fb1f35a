"""What the overhead benchmarks share: interleaved timing, per-chunk figures, reporting.

Each provider script defines its cases (what one call does, sync or async, and how many
chunks it yields) and how to switch llmtap on and off; this module times them the same
way for every provider. For every case, interleaved rounds each time one block of calls
uninstrumented and one instrumented (the order alternating per round); a block's
per-call time is its wall time over its calls, and each side's figure is the median over
rounds. The background worker is kept out of the timed blocks (flush interval of an
hour; `llmtap.flush()` runs between blocks and is timed as the off-path "worker" cost).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import llmtap

TARGET_CALL_US = 20.0
TARGET_CHUNK_US = 0.5
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# -- the conversation every benchmark sends ----------------------------------------

SYSTEM = (
    "You are a concise assistant for a logistics company. Answer in plain English, cite "
    "the relevant policy section when you can, and never invent numbers."
)
TURNS: list[dict[str, Any]] = [
    {"role": "user", "content": "What is the cut-off time for same-day dispatch from Leeds?"},
    {
        "role": "assistant",
        "content": "Orders placed before 14:00 UK time ship the same day (policy 4.2).",
    },
    {
        "role": "user",
        "content": "And if the order contains hazardous goods? Summarise the extra checks, "
        "who signs off, and how long it usually adds.",
    },
]
MESSAGES: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, *TURNS]
"""The chat-shaped conversation: the system prompt, then the turns."""
ANSWER = (
    "Hazardous goods follow policy 7.1: the order is held for a documentation check, the "
    "dangerous-goods safety adviser signs off the packaging and the UN labels, and the "
    "carrier must confirm ADR capacity. In practice this adds four to six working hours, "
    "so same-day dispatch applies only to orders placed before 10:00."
)


# -- stand-ins for the SDK's streams, for the "own cost" sections --------------------


class NoopExporter:
    def export(self, records: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass


class FakeStream:
    """Stands in for an SDK stream: yields pre-parsed chunks, no HTTP, no parsing."""

    def __init__(self, chunks: list[Any]) -> None:
        self._iterator = iter(chunks)

    def __iter__(self) -> Any:
        return self._iterator

    def __next__(self) -> Any:
        return next(self._iterator)

    def close(self) -> None:
        pass


class AsyncFakeStream:
    def __init__(self, chunks: list[Any]) -> None:
        self._iterator = _agen(chunks)

    def __aiter__(self) -> Any:
        return self._iterator

    async def __anext__(self) -> Any:
        return await self._iterator.__anext__()

    async def close(self) -> None:
        pass


async def _agen(chunks: list[Any]) -> Any:
    for chunk in chunks:
        yield chunk


def sse_data(body: bytes) -> list[dict[str, Any]]:
    """The JSON `data:` payloads of an SSE body, in order ([DONE] left out)."""
    return [
        json.loads(line[len("data: ") :])
        for event in body.decode().split("\n\n")
        for line in event.split("\n")
        if line.startswith("data: {")
    ]


def sse_events(events: list[dict[str, Any]]) -> bytes:
    """`event: <type>` and `data: {...}` lines, as the Anthropic and Responses APIs send."""
    return b"".join(
        f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode()
        for e in events
    )


# -- cases ---------------------------------------------------------------------------


class Case(Protocol):
    """One benchmarked call. `chunks` is what the per-chunk figures divide by; `seen` is
    what one call returns (the chunks the caller iterated), checked on both sides."""

    api: str
    name: str
    is_async: bool
    content_chunks: int
    stream: bool
    chunks: int
    seen: int

    def sync_call(self) -> int: ...

    async def async_call(self) -> int: ...


def count(stream: Iterable[Any]) -> int:
    n = 0
    for _ in stream:
        n += 1
    return n


async def acount(stream: Any) -> int:
    n = 0
    async for _ in stream:
        n += 1
    return n


class Canned(Protocol):
    """Puts canned-result functions in place of the SDK's methods, and back."""

    def install(self) -> None: ...

    def restore(self) -> None: ...


# -- timing --------------------------------------------------------------------------


CLOCKS: dict[str, Callable[[], int]] = {
    "wall": time.perf_counter_ns,
    # This thread's CPU time: what other processes take of a shared machine's cores
    # does not count, so a busy machine adds far less noise.
    "cpu": time.thread_time_ns,
}


def sync_block(case: Case, calls: int, clock: Callable[[], int]) -> float:
    """Nanoseconds per call for `calls` back-to-back calls."""
    call = case.sync_call
    start = clock()
    for _ in range(calls):
        call()
    return (clock() - start) / calls


async def async_block(case: Case, calls: int, clock: Callable[[], int]) -> float:
    call = case.async_call
    start = clock()
    for _ in range(calls):
        await call()
    return (clock() - start) / calls


class Runner:
    """Runs a block of calls, sync or on one persistent event loop, gc as configured.

    Time spent in garbage collections during a block is summed from `gc.callbacks`: it
    is exact, unlike the wall-clock medians, and shows what objects kept alive cost.
    """

    def __init__(self, disable_gc: bool, clock: str = "wall") -> None:
        self.disable_gc = disable_gc
        self.clock = CLOCKS[clock]
        self.loop = asyncio.new_event_loop()
        self.in_block = False
        self.gc_ns = 0
        self._gc_started = 0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if not self.in_block:
            return
        if phase == "start":
            self._gc_started = self.clock()
        elif self._gc_started:
            self.gc_ns += self.clock() - self._gc_started
            self._gc_started = 0

    def block(self, case: Case, calls: int) -> tuple[float, float]:
        """(wall ns per call, gc ns per call) for `calls` back-to-back calls."""
        if self.disable_gc:
            gc.disable()
        self.gc_ns = self._gc_started = 0
        self.in_block = True
        try:
            if case.is_async:
                per_call = self.loop.run_until_complete(async_block(case, calls, self.clock))
            else:
                per_call = sync_block(case, calls, self.clock)
        finally:
            self.in_block = False
            gc.enable()
        return per_call, self.gc_ns / calls

    def once(self, case: Case) -> int:
        if case.is_async:
            return self.loop.run_until_complete(_call_async(case))
        return case.sync_call()

    def close(self) -> None:
        gc.callbacks.remove(self._on_gc)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


async def _call_async(case: Case) -> int:
    return await case.async_call()


def flush_ns() -> int:
    start = time.perf_counter_ns()
    if not llmtap.flush(timeout=60):
        raise RuntimeError("llmtap.flush() timed out")
    return time.perf_counter_ns() - start


def measure_case(
    runner: Runner,
    case: Case,
    set_instrumented: Callable[[bool], None],
    rounds: int,
    block_ms: float,
    warmup_s: float,
) -> dict[str, Any]:
    # Warm up both sides (imports, pydantic validators, code caches) and check that both
    # see the same chunks: nothing hidden, nothing injected.
    seen = {}
    for on in (False, True):
        set_instrumented(on)
        deadline = time.perf_counter() + warmup_s / 2
        while True:
            seen[on] = runner.once(case)
            if time.perf_counter() > deadline:
                break
        flush_ns()
    if seen[False] != case.seen or seen[True] != case.seen:
        raise RuntimeError(f"{case.name}: chunk counts differ: {seen} vs {case.seen}")

    set_instrumented(False)
    probe, _ = runner.block(case, 5)
    calls = max(2, round(block_ms * 1e6 / probe))
    # Collected once here, not before every block: a full collection costs tens of ms
    # with the SDK loaded. Alternating the order spreads collections over both sides.
    gc.collect()

    base: list[float] = []
    inst: list[float] = []
    gc_base: list[float] = []
    gc_inst: list[float] = []
    worker: list[float] = []
    before = llmtap.stats()
    for r in range(rounds):
        for on in (False, True) if r % 2 == 0 else (True, False):
            set_instrumented(on)
            per_call, gc_per_call = runner.block(case, calls)
            set_instrumented(False)
            if on:
                inst.append(per_call)
                gc_inst.append(gc_per_call)
                worker.append(flush_ns() / calls)
            else:
                base.append(per_call)
                gc_base.append(gc_per_call)
    after = llmtap.stats()

    base_med = statistics.median(base) / 1e3
    inst_med = statistics.median(inst) / 1e3
    paired = sorted((i - b) / 1e3 for i, b in zip(inst, base, strict=True))
    return {
        "case": case.name,
        "api": case.api,
        "async": case.is_async,
        "stream": case.stream,
        "content_chunks": case.content_chunks,
        "chunks_per_call": case.chunks,
        "calls_per_block": calls,
        "rounds": rounds,
        "baseline_us": base_med,
        "instrumented_us": inst_med,
        "overhead_us": inst_med - base_med,
        "overhead_paired_median_us": statistics.median(paired),
        "overhead_paired_iqr_us": [
            paired[len(paired) // 4],
            paired[(3 * len(paired)) // 4],
        ],
        "ratio": inst_med / base_med,
        # Means keep the rare, long collections (a full one every few dozen streams)
        # that the medians leave out.
        "overhead_mean_us": (statistics.fmean(inst) - statistics.fmean(base)) / 1e3,
        "gc_baseline_us": statistics.fmean(gc_base) / 1e3,
        "gc_instrumented_us": statistics.fmean(gc_inst) / 1e3,
        "gc_overhead_us": (statistics.fmean(gc_inst) - statistics.fmean(gc_base)) / 1e3,
        "worker_us_per_record": statistics.median(worker) / 1e3,
        "records_expected": rounds * calls,
        "records_exported": after["exported"] - before["exported"],
        "dropped": after["dropped"] - before["dropped"],
        "baseline_rounds_us": [x / 1e3 for x in base],
        "instrumented_rounds_us": [x / 1e3 for x in inst],
    }


def add_per_chunk(results: list[dict[str, Any]], calls_of: dict[str, str] | None = None) -> None:
    """Per-chunk figures for stream cases, from the overheads measured above.

    `calls_of` names, for an API without non-stream cases of its own (a stream helper),
    the API whose non-stream overhead its net figure subtracts.
    """
    by_name = {r["case"]: r for r in results}
    for r in results:
        if not r["stream"]:
            continue
        chunks = r["chunks_per_call"]
        api = (calls_of or {}).get(r["api"], r["api"])
        call = by_name[f"{api} {'async' if r['async'] else 'sync'} non-stream"]
        r["per_chunk_all_in_us"] = r["overhead_us"] / chunks
        r["per_chunk_net_us"] = (r["overhead_us"] - call["overhead_us"]) / chunks
    for api in dict.fromkeys(r["api"] for r in results):
        long, short = by_name.get(f"{api} sync stream 200"), by_name.get(f"{api} sync stream 10")
        if not (long and short):
            continue
        slope = (long["overhead_us"] - short["overhead_us"]) / (
            long["chunks_per_call"] - short["chunks_per_call"]
        )
        long["per_chunk_slope_us"] = short["per_chunk_slope_us"] = slope
        intercept = short["overhead_us"] - slope * short["chunks_per_call"]
        long["per_stream_fixed_us"] = short["per_stream_fixed_us"] = intercept


# -- reporting ----------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


def print_table(
    title: str, results: list[dict[str, Any]], unit: Callable[[str], str]
) -> list[dict[str, Any]]:
    """The section's table, its target checks (returned) and its noise and gc notes;
    `unit(api)` names what a stream of that API yields ("chunk", "event")."""
    print(f"\n{title}")
    header = (
        f"{'case':<26} {'calls':>5} {'base µs':>8} {'instr µs':>8} {'ovh µs':>7} "
        f"{'mean ovh':>8} {'ratio':>6} {'gc base/instr µs':>16} {'chunk all-in':>12} "
        f"{'chunk net':>9} {'worker µs':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        all_in = f"{r['per_chunk_all_in_us']:.3f}" if r["stream"] else "-"
        net = f"{r['per_chunk_net_us']:.3f}" if r["stream"] else "-"
        gc_cols = f"{r['gc_baseline_us']:.1f} / {r['gc_instrumented_us']:.1f}"
        print(
            f"{r['case']:<26} {r['calls_per_block']:>5} {r['baseline_us']:>8.1f} "
            f"{r['instrumented_us']:>8.1f} {r['overhead_us']:>7.1f} "
            f"{r['overhead_mean_us']:>8.1f} {r['ratio']:>6.3f} {gc_cols:>16} {all_in:>12} "
            f"{net:>9} {r['worker_us_per_record']:>9.1f}"
        )
    checks = []
    apis = list(dict.fromkeys(r["api"] for r in results))
    for api in apis:
        mine = [r for r in results if r["api"] == api]
        per = unit(api)
        for r in mine:
            if not r["stream"]:
                checks.append((f"{r['case']}: overhead per call", r["overhead_us"], TARGET_CALL_US))
        for r in mine:
            if r["stream"] and r["content_chunks"] >= 100:
                checks.append(
                    (f"{r['case']}: per {per}, net", r["per_chunk_net_us"], TARGET_CHUNK_US)
                )
                checks.append(
                    (f"{r['case']}: per {per}, all-in", r["per_chunk_all_in_us"], TARGET_CHUNK_US)
                )
        long = next((r for r in mine if "per_chunk_slope_us" in r), None)
        if long is not None:
            slope, fixed = long["per_chunk_slope_us"], long["per_stream_fixed_us"]
            checks.append(
                (f"{api} sync stream: per {per}, slope 200 vs 10", slope, TARGET_CHUNK_US)
            )
            checks.append((f"{api} sync stream: per-stream fixed cost", fixed, TARGET_CALL_US))
    verdicts = []
    for label, value, target in checks:
        v = verdict(value, target)
        print(f"  {v}  {label:<50} {value:8.3f} µs (target ≤ {target} µs)")
        verdicts.append({"check": label, "value": value, "target": target, "verdict": v})
    print("  noise (half the IQR of per-round instr - base, µs per call):")
    for api in apis:
        noise = ", ".join(
            f"{r['case'][len(api) + 1 :]} "
            f"±{(r['overhead_paired_iqr_us'][1] - r['overhead_paired_iqr_us'][0]) / 2:.1f}"
            for r in results
            if r["api"] == api
        )
        print(f"    {api}: {noise}")
    for r in results:
        if r["stream"] and r["gc_overhead_us"] > 1:
            print(
                f"  note {r['case']}: garbage collection adds {r['gc_overhead_us']:.1f} µs per "
                f"call = {r['gc_overhead_us'] / r['chunks_per_call']:.2f} µs per "
                f"{unit(r['api'])} (mean)"
            )
    for r in results:
        if r["records_exported"] != r["records_expected"] or r["dropped"]:
            print(
                f"  WARN {r['case']}: exported {r['records_exported']} of "
                f"{r['records_expected']} records, dropped {r['dropped']}"
            )
    return verdicts


def reference_us() -> float:
    """A fixed pure-Python workload, to compare machines: best of 5, in µs."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        sum(i * i for i in range(10_000))
        best = min(best, time.perf_counter_ns() - start)
    return best / 1e3


def loadavg() -> tuple[float, float, float] | None:
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def machine(sdk: dict[str, str], packages: Iterable[str]) -> dict[str, Any]:
    """The machine note: interpreter, platform, load, reference loop, then `sdk` (the
    SDK's and HTTP library's versions) and the installed versions of `packages`."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": loadavg(),
        "reference_loop_us": reference_us(),
        **sdk,
        **{name.replace("-", "_"): version(name) for name in packages},
    }


def run_section(
    runner: Runner,
    title: str,
    cases: list[Case],
    set_instrumented: Callable[[bool], None],
    unit: Callable[[str], str],
    *,
    transport: str,
    exporter: Any,
    canned: Canned | None,
    rounds: int,
    block_ms: float,
    warmup_s: float,
    calls_of: dict[str, str] | None = None,
) -> dict[str, Any]:
    # The worker runs only at flush(), between blocks: the timed blocks hold the caller's
    # path alone. Its cost is reported separately (worker µs/record). batch_size is
    # raised too, or a block of more than 512 calls would wake the worker mid-block.
    llmtap.configure(exporters=[exporter], flush_interval_s=3600.0, batch_size=1_000_000)
    if canned:
        canned.install()
    try:
        results = [
            measure_case(runner, case, set_instrumented, rounds, block_ms, warmup_s)
            for case in cases
        ]
    finally:
        if canned:
            canned.restore()
    add_per_chunk(results, calls_of)
    verdicts = print_table(f"== {title} ==", results, unit)
    return {
        "section": title,
        "transport": transport,
        "exporter": type(exporter).__name__,
        "rounds": rounds,
        "block_ms": block_ms,
        "results": results,
        "verdicts": verdicts,
    }


# -- the scripts' common frame ---------------------------------------------------------


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block-ms", type=float, default=40.0, help="baseline block length")
    parser.add_argument("--warmup-s", type=float, default=0.5, help="warm-up per case")
    parser.add_argument("--no-gc", action="store_true", help="disable gc in timed blocks")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 10 ms blocks")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="time blocks by wall clock, or by this thread's CPU time (for a busy machine)",
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.block_ms, args.warmup_s = 3, 10.0, 0.1
    return args


def print_intro(info: dict[str, Any], versions: str, args: argparse.Namespace, notes: str) -> None:
    """The machine lines, the method line and the script's own `notes` on its streams."""
    print(f"{versions} / Python {info['python']} on {info['cpu_count']} CPUs ({info['platform']})")
    print(
        f"Load average at start: {', '.join(f'{x:.2f}' for x in info['loadavg_start'] or ())}; "
        f"reference loop {info['reference_loop_us']:.0f} µs (sum of 10k squares, best of 5)."
    )
    print(
        f"Interleaved rounds (uninstrumented block, instrumented block, order alternating); "
        f"{'thread CPU time; ' if args.clock == 'cpu' else ''}"
        f"gc {'disabled' if args.no_gc else 'enabled'} "
        "in timed blocks;\nfigures are medians over rounds of each block's mean per call. " + notes
    )


def run_sections(
    args: argparse.Namespace, sections: Callable[[Runner, Path], list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], float]:
    """Runs the script's sections with a runner and a temp dir; (results, seconds)."""
    started = time.perf_counter()
    runner = Runner(args.no_gc, args.clock)
    with tempfile.TemporaryDirectory(prefix="llmtap-bench-") as tmp:
        results = sections(runner, Path(tmp))
        llmtap.configure(exporters=[])  # closes an SQLite file before the dir goes
    runner.close()
    return results, time.perf_counter() - started


def finish(
    name: str,
    info: dict[str, Any],
    args: argparse.Namespace,
    sections: list[dict[str, Any]],
    elapsed: float,
    short_chunks: str,
    settings: dict[str, Any] | None = None,
) -> None:
    """The closing notes, and the results JSON in bench/results/<name>.json.
    `short_chunks` says how many chunks the 10-chunk streams yield, per API."""
    print(
        "\nColumns: base/instr = median µs per call; ovh = instr - base; mean ovh = the same "
        "from means (keeps rare full gc);\ngc = mean µs per call inside gc collections "
        "(gc.callbacks); chunk all-in = ovh / chunks (or events) per call; chunk net = "
        "(ovh - same-API, same-kind non-stream ovh) / chunks;\nslope = (ovh 200 - ovh 10) "
        f"/ 190, intercept = ovh 10 - slope * chunks of the 10 stream ({short_chunks}): "
        "the per-stream cost before any chunk;\n"
        "worker = off-path µs per record spent in llmtap.flush() (resolve + export), not on "
        "the caller's path."
    )
    faults = llmtap.stats()["faults"]
    if faults:
        print(f"WARNING: llmtap reported internal faults: {faults}")
    info["loadavg_end"] = loadavg()
    print(
        f"Total {elapsed:.0f} s; load average at end "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_end'] or ())}."
    )
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "benchmark": name,
                "machine": info,
                "settings": {
                    "rounds": args.rounds,
                    "block_ms": args.block_ms,
                    "warmup_s": args.warmup_s,
                    "gc_disabled_in_blocks": args.no_gc,
                    "clock": args.clock,
                    "flush_interval_s": 3600.0,
                    "batch_size": 1_000_000,
                    **(settings or {}),
                },
                "targets": {"per_call_us": TARGET_CALL_US, "per_chunk_us": TARGET_CHUNK_US},
                "sections": sections,
                "faults": faults,
                "elapsed_s": elapsed,
            },
            indent=2,
        )
    )
    print(f"Wrote {path}")
