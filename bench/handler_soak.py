"""Handler soak: does per-run state return to empty after 100,000 framework runs?

LangChain and LlamaIndex report a run's start and end as separate callbacks, so their
llmtap handlers keep each run in flight in a bounded map (`llmtap.runs.OpenRuns`). This
drives real runs through each framework, with the llmtap handler installed, in a fixed
mix, and samples every 10,000 runs: the size of every piece of per-run state the
handler keeps, and the process's RSS (from /proc/self/statm).

LangChain (langchain-core's `FakeListChatModel`, through `llmtap.langchain_callback()`
passed in `config`): a prompt | model | parser chain (four nested runs), sync and
async; a streamed model run; a chain that fails after the model; a stream dropped after
its first chunk (finished `incomplete`); and, 1 run in 50, a chat-model start whose end
never arrives (as a framework bug would leave it), which the handler's bounded map must
evict. State: the handler's open runs, and the process-wide weak run index.

LlamaIndex (`MockLLM` and `MockEmbedding`, with `llmtap.instrument_llamaindex()`):
complete and chat, sync and async; streamed completions; a stream dropped after its
first chunk; an LLM that raises; and, 1 run in 10, a query over a small vector index
(query, retrieve, embed, synthesize and LLM spans nested). State: the tracker's open
spans and model calls, and LlamaIndex's own open-span maps on the llmtap handler.

Records go to a no-op exporter, so the RSS figure is the handlers' and frameworks' own.
Checked: the open-run maps are back to 0 at the end (LangChain: to the abandoned runs
still held, never above the handler's limit), and RSS growth after the warm-up is under
5 MiB.

    python bench/handler_soak.py                       # 100,000 runs per framework
    python bench/handler_soak.py --runs 20000 --warmup 5000        # quick
    python bench/handler_soak.py --framework langchain             # one of them

A framework that is not installed is skipped. Results: bench/results/handler_soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import llmtap
from harness import NoopExporter, loadavg, reference_us
from soak import SAMPLE_EVERY, TARGET_GROWTH_MIB, rss_bytes, slope_per_100k

RESULTS = Path(__file__).resolve().parent / "results" / "handler_soak.json"
ABANDON_EVERY = 50
LANGCHAIN_LIMIT = 300
"""The LangChain handler's max_open_runs here: reached by the abandoned runs (one in 50)
within the warm-up, so eviction runs from then on, the bound is seen to hold, and the
map's filling up is not counted as growth."""

Step = Callable[[int], Awaitable[None]]
Probe = Callable[[], dict[str, int]]


# -- LangChain -------------------------------------------------------------------------


def langchain_workload() -> tuple[Step, Probe, dict[str, int]]:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.messages import HumanMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda

    from llmtap_langchain import state

    handler = llmtap.langchain_callback(max_open_runs=LANGCHAIN_LIMIT)
    config: Any = {"callbacks": [handler]}
    answers = ["Orders placed before 14:00 ship the same day.", "Policy 7.1 applies."]
    model = FakeListChatModel(responses=answers)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You answer logistics questions."), ("human", "{question}")]
    )
    chain = prompt | model | StrOutputParser()

    def refuse(text: str) -> str:
        raise ValueError(f"answer refused: {text[:10]}")

    failing = chain | RunnableLambda(refuse)
    inputs = {"question": "What is the cut-off for same-day dispatch?"}
    messages = [HumanMessage("What is the cut-off for same-day dispatch?")]
    serialized = {"name": "FakeListChatModel", "kwargs": {}}

    async def step(i: int) -> None:
        kind = i % 10
        if i % ABANDON_EVERY == ABANDON_EVERY - 1:
            # A start whose end never comes, as a framework bug or a killed worker would
            # leave it; the handler must bound it.
            handler.on_chat_model_start(serialized, [messages], run_id=uuid.uuid4())
        elif kind <= 3:
            chain.invoke(inputs, config=config)
        elif kind <= 5:
            await chain.ainvoke(inputs, config=config)
        elif kind == 6:
            for _ in model.stream(messages, config=config):
                pass
        elif kind == 7:
            with contextlib.suppress(ValueError):
                failing.invoke(inputs, config=config)
        else:
            stream = model.stream(messages, config=config)
            next(stream)
            stream.close()  # dropped after one chunk: finished incomplete

    def probe() -> dict[str, int]:
        return {"open_runs": handler.open_runs, "run_index": len(state._index)}

    return step, probe, {"open_runs_limit": LANGCHAIN_LIMIT}


# -- LlamaIndex ------------------------------------------------------------------------


def llamaindex_workload() -> tuple[Step, Probe, dict[str, int]]:
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.base.llms.types import ChatMessage, CompletionResponse
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
    from llama_index.core.llms.callbacks import llm_completion_callback
    from llama_index.core.llms.mock import MockLLM

    from llmtap_llamaindex.handlers import LlmtapSpanHandler

    class FailingLLM(MockLLM):
        """A real LlamaIndex LLM class whose completion fails inside the callbacks."""

        @llm_completion_callback()
        def complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponse:
            raise ValueError("upstream refused the prompt")

    llmtap.instrument_llamaindex()
    handler = next(h for h in get_dispatcher().span_handlers if isinstance(h, LlmtapSpanHandler))
    tracker = handler._tracker
    llm = MockLLM(max_tokens=24)
    failing = FailingLLM()
    Settings.llm = llm
    Settings.embed_model = MockEmbedding(embed_dim=8)
    documents = [
        Document(text=f"Policy {n}.1: orders with hazardous goods are checked for {n} hours.")
        for n in range(1, 6)
    ]
    engine = VectorStoreIndex.from_documents(documents).as_query_engine(similarity_top_k=2)
    prompt = "What is the cut-off time for same-day dispatch from Leeds?"
    chat = [ChatMessage(role="user", content=prompt)]

    async def step(i: int) -> None:
        kind = i % 10
        if kind == 0:
            engine.query(prompt)
        elif kind <= 2:
            llm.complete(prompt)
        elif kind == 3:
            llm.chat(chat)
        elif kind == 4:
            await llm.acomplete(prompt)
        elif kind == 5:
            await llm.achat(chat)
        elif kind == 6:
            for _ in llm.stream_complete(prompt):
                pass
        elif kind == 7:
            stream = llm.stream_chat(chat)
            next(stream)
            stream.close()  # dropped after one chunk
        else:
            with contextlib.suppress(ValueError):
                failing.complete(prompt)

    def probe() -> dict[str, int]:
        return {
            "tracker_spans": len(tracker.spans),
            "tracker_calls": len(tracker.calls),
            "handler_open_spans": len(handler.open_spans),
            "handler_completed_spans": len(handler.completed_spans),
            "handler_dropped_spans": len(handler.dropped_spans),
        }

    return step, probe, {}


WORKLOADS: dict[str, tuple[str, Callable[[], tuple[Step, Probe, dict[str, int]]]]] = {
    "langchain": ("langchain_core", langchain_workload),
    "llamaindex": ("llama_index.core", llamaindex_workload),
}


# -- the soak --------------------------------------------------------------------------


async def soak(name: str, runs: int, warmup: int) -> dict[str, Any]:
    step, probe, limits = WORKLOADS[name][1]()
    samples: list[dict[str, Any]] = []

    def sample(done: int) -> None:
        samples.append({"runs": done, "rss": rss_bytes(), "t": time.perf_counter(), **probe()})

    sample(0)
    done = 0
    while done < runs:
        for i in range(done, done + SAMPLE_EVERY):
            await step(i)
        done += SAMPLE_EVERY
        if done in (warmup, runs):
            # The two samples compared: records exported (a queued record keeps its run's
            # resolver alive) and no garbage awaiting collection.
            if not llmtap.flush(timeout=120):
                print(f"  WARN {name}: flush timed out")
            gc.collect()
        sample(done)
    return {"framework": name, "runs": runs, "warmup": warmup, "limits": limits, "samples": samples}


def report(result: dict[str, Any]) -> list[dict[str, Any]]:
    name, samples, warmup = result["framework"], result["samples"], result["warmup"]
    keys = [k for k in samples[0] if k not in ("runs", "rss", "t")]
    mib = 1024 * 1024
    print(f"\n{name}: {result['runs']:,} runs, warm-up {warmup:,}")
    print(f"{'runs':>9} {'RSS MiB':>8} {'runs/s':>7} " + " ".join(f"{k:>14}" for k in keys))
    previous = samples[0]
    for s in samples:
        rate = (s["runs"] - previous["runs"]) / max(s["t"] - previous["t"], 1e-9)
        mark = "  <- end of warm-up" if s["runs"] == warmup else ""
        print(
            f"{s['runs']:>9,} {s['rss'] / mib:>8.1f} {rate:>7,.0f} "
            + " ".join(f"{s[k]:>14,}" for k in keys)
            + mark
        )
        previous = s
    base = next(s for s in samples if s["runs"] == warmup)
    end = samples[-1]
    growth = end["rss"] - base["rss"]
    slope = slope_per_100k([(s["runs"], s["rss"]) for s in samples if s["runs"] >= warmup])
    print(f"RSS slope after warm-up: {slope / mib:+.3f} MiB per 100k runs.")
    stats = llmtap.stats()
    print(
        f"llmtap.stats(): exported {stats['exported']:,}, dropped {stats['dropped']:,}, "
        f"evicted runs {stats['evicted_runs']:,}, faults {stats['faults'] or 'none'}."
    )
    checks: list[tuple[str, bool, Any, Any]] = [
        (
            f"{name} RSS growth after warm-up {growth / mib:+.2f} MiB "
            f"(target < {TARGET_GROWTH_MIB} MiB)",
            growth < TARGET_GROWTH_MIB * mib,
            growth,
            TARGET_GROWTH_MIB * mib,
        )
    ]
    limit = result["limits"].get("open_runs_limit")
    for key in keys:
        peak = max(s[key] for s in samples)
        if key == "open_runs" and limit is not None:
            checks.append(
                (
                    f"{name} {key} at most {limit:,} throughout (peak {peak:,}, end {end[key]:,})",
                    peak <= limit,
                    peak,
                    limit,
                )
            )
        elif key == "run_index" and limit is not None:
            # Weak: holds exactly the runs the handler still owns.
            checks.append(
                (
                    f"{name} {key} {end[key]:,} = open runs {end['open_runs']:,} at the end",
                    end[key] == end["open_runs"],
                    end[key],
                    end["open_runs"],
                )
            )
        else:
            checks.append((f"{name} {key} back to 0 (peak {peak:,})", end[key] == 0, end[key], 0))
    checks.append((f"{name} no faults", not stats["faults"], stats["faults"], {}))
    verdicts = []
    for label, ok, value, target in checks:
        verdict = "PASS" if ok else "FAIL"
        print(f"  {verdict}  {label}")
        verdicts.append({"check": label, "value": value, "target": target, "verdict": verdict})
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=("all", *WORKLOADS), default="all")
    parser.add_argument("--runs", type=int, default=100_000, help="runs per framework")
    parser.add_argument("--warmup", type=int, default=20_000)
    args = parser.parse_args()
    runs = max(SAMPLE_EVERY, args.runs // SAMPLE_EVERY * SAMPLE_EVERY)
    warmup = max(SAMPLE_EVERY, args.warmup // SAMPLE_EVERY * SAMPLE_EVERY)
    if runs <= warmup:
        parser.error(f"--runs must be above the warm-up ({warmup:,})")
    print(
        f"Handler soak: {runs:,} runs per framework, sampled every {SAMPLE_EVERY:,}. Load "
        f"average {', '.join(f'{x:.2f}' for x in loadavg() or ())}; reference loop "
        f"{reference_us():.0f} µs."
    )
    llmtap.configure(exporters=[NoopExporter()])
    names = list(WORKLOADS) if args.framework == "all" else [args.framework]
    results, verdicts = [], []
    for name in names:
        module = WORKLOADS[name][0]
        if importlib.util.find_spec(module.split(".")[0]) is None:
            print(f"\n{name}: skipped, {module} is not installed")
            continue
        result = asyncio.run(soak(name, runs, warmup))
        result["verdicts"] = report(result)
        results.append(result)
        verdicts += result["verdicts"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "handler_soak",
                "python": sys.version.split()[0],
                "loadavg_end": loadavg(),
                "results": results,
                "verdicts": verdicts,
            },
            indent=2,
        )
    )
    print(f"Wrote {RESULTS}")


if __name__ == "__main__":
    main()
