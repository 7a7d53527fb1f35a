"""One small setup function per contestant: how to turn it on and off, drain it, and read
what it exported.

Runs inside the contestant's venv (the worker calls `CONTESTANTS[name].setup(sink_url)`),
so every tracer import is inside a function. The driver imports this module only for the
table of names, venvs and providers.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

OPENAI = ("openai",)
BOTH = ("openai", "anthropic")


def _none(provider: str) -> None:
    """Nothing to do for this contestant."""


def _same(provider: str, client: Any) -> Any:
    return client


@dataclass
class Tracer:
    """A contestant, set up in the worker.

    `enable`/`disable` turn it on and off for one provider outside the timed blocks;
    `disable=None` means it cannot be turned off once on (baselines are then measured
    first). `wrap` turns a bare client into an instrumented one (LangSmith wraps client
    objects; the others patch the SDK and return the client as it is). `drain` flushes
    and empties the sink; `exported` flushes and returns the text of everything
    exported since the last drain.
    """

    enable: Callable[[str], None]
    disable: Callable[[str], None] | None
    drain: Callable[[], None]
    exported: Callable[[], str]
    wrap: Callable[[str, Any], Any] = _same
    method: str = "instrument/uninstrument between blocks"


@dataclass(frozen=True)
class Contestant:
    venv: str
    providers: tuple[str, ...]
    setup: Callable[[str], Tracer]
    distributions: Sequence[str] = field(default_factory=tuple)


def spans_text(spans: Sequence[Any]) -> str:
    """Names, attributes and events of finished OpenTelemetry spans, as JSON text."""
    return json.dumps(
        [
            {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "events": [{e.name: dict(e.attributes or {})} for e in span.events],
            }
            for span in spans
        ],
        default=str,
    )


def otel_pipeline() -> tuple[Any, Callable[[], None], Callable[[], str]]:
    """A TracerProvider with an InMemorySpanExporter behind a BatchSpanProcessor."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))

    def drain() -> None:
        provider.force_flush()
        exporter.clear()

    def exported() -> str:
        provider.force_flush()
        return spans_text(exporter.get_finished_spans())

    return provider, drain, exported


def otel_instrumentors(instrumentors: dict[str, Any]) -> Tracer:
    """OpenTelemetry instrumentors (one per provider), toggled with (un)instrument()."""
    provider, drain, exported = otel_pipeline()
    return Tracer(
        enable=lambda p: instrumentors[p].instrument(tracer_provider=provider),
        disable=lambda p: instrumentors[p].uninstrument(),
        drain=drain,
        exported=exported,
    )


def setup_openllmetry(sink_url: str) -> Tracer:
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    tracer = otel_instrumentors(
        {"openai": OpenAIInstrumentor(), "anthropic": AnthropicInstrumentor()}
    )
    # Its uninstrument() leaves the `Completions.create` wrapper in place (still doing most
    # of its work), so baselines after a toggle would include it: measure them first.
    tracer.disable = None
    tracer.method = "uninstrument() leaves its wrapper: baseline blocks first, then instrumented"
    return tracer


def setup_openinference(sink_url: str) -> Tracer:
    from openinference.instrumentation.anthropic import AnthropicInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor

    return otel_instrumentors(
        {"openai": OpenAIInstrumentor(), "anthropic": AnthropicInstrumentor()}
    )


def setup_otelv2(sink_url: str) -> Tracer:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    return otel_instrumentors({"openai": OpenAIInstrumentor()})


def llmtap_tracer(exported: Callable[[], str], drain: Callable[[], None]) -> Tracer:
    import llmtap

    return Tracer(
        enable=lambda p: getattr(llmtap, f"instrument_{p}")(),
        disable=lambda p: getattr(llmtap, f"uninstrument_{p}")(),
        drain=drain,
        exported=exported,
    )


def setup_llmtap_memory(sink_url: str) -> Tracer:
    import llmtap
    from llmtap.exporters import MemoryExporter

    memory = MemoryExporter()
    llmtap.configure(exporters=[memory])

    def drain() -> None:
        llmtap.flush()
        memory.clear()

    def exported() -> str:
        llmtap.flush()
        return json.dumps([r.to_dict() for r in memory.records], default=str)

    return llmtap_tracer(exported, drain)


def setup_llmtap_sqlite(sink_url: str) -> Tracer:
    """The default configuration (no configure() call): SQLite, in a temporary file."""
    folder = tempfile.mkdtemp(prefix="llmtap-peers-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    db = os.path.join(folder, "llmtap.db")
    os.environ["LLMTAP_DB"] = db
    import llmtap

    since = [time.time()]

    def drain() -> None:
        llmtap.flush()
        since[0] = time.time()

    def exported() -> str:
        llmtap.flush()
        with sqlite3.connect(db) as connection:
            rows = connection.execute(
                "SELECT data FROM records WHERE start_time >= ?", (since[0],)
            ).fetchall()
        return "\n".join(row[0] for row in rows)

    return llmtap_tracer(exported, drain)


def sink_reader(path: str) -> tuple[Callable[[], None], Callable[[], str]]:
    """Marks and reads the sink's log of request bodies."""
    offset = [0]

    def mark() -> None:
        offset[0] = os.path.getsize(path) if os.path.exists(path) else 0

    def read() -> str:
        if not os.path.exists(path):
            return ""
        with open(path, "rb") as log:
            log.seek(offset[0])
            return log.read().decode("utf-8", "replace")

    return mark, read


def setup_langfuse(sink_url: str) -> Tracer:
    """Langfuse's spans go to an in-memory exporter; its base_url is the local sink, so
    any other request it makes stays on 127.0.0.1 (the sink counts them)."""
    from langfuse import Langfuse
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    client = Langfuse(
        public_key="pk-lf-bench",
        secret_key="sk-lf-bench",
        base_url=sink_url,
        span_exporter=exporter,
    )

    def enable(provider: str) -> None:
        import langfuse.openai  # noqa: F401 - patches the openai SDK on import, for good

    def drain() -> None:
        client.flush()
        exporter.clear()

    def exported() -> str:
        client.flush()
        return spans_text(exporter.get_finished_spans())

    return Tracer(
        enable=enable,
        disable=None,
        drain=drain,
        exported=exported,
        method="patches on import: baseline blocks first, then instrumented blocks",
    )


def setup_langsmith(sink_url: str) -> Tracer:
    """Tracing on; the background thread uploads (zstd multipart) to the local sink,
    which runs in its own process. LangSmith has no offline mode for tracing."""
    os.environ.update(
        LANGSMITH_TRACING="true",
        LANGSMITH_ENDPOINT=sink_url,
        LANGSMITH_API_KEY="lsv2_pt_bench",
        LANGSMITH_PROJECT="peers-bench",
    )
    from langsmith import Client
    from langsmith.wrappers import wrap_anthropic, wrap_openai

    client = Client()
    mark, read = sink_reader(os.environ["PEERS_SINK_LOG"])
    wrappers = {"openai": wrap_openai, "anthropic": wrap_anthropic}

    def drain() -> None:
        client.flush()
        mark()

    def exported() -> str:
        client.flush()
        return read()

    return Tracer(
        enable=_none,
        disable=_none,
        drain=drain,
        exported=exported,
        wrap=lambda p, c: wrappers[p](c, tracing_extra={"client": client}),
        method="wrapped and bare clients in alternate blocks",
    )


def setup_logfire(sink_url: str) -> Tracer:
    """send_to_logfire=False, console off, spans to an in-memory exporter (batched).
    instrument_*() instruments at once and returns a context manager: entered here, its
    exit uninstruments."""
    import logfire
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    logfire.configure(
        send_to_logfire=False,
        console=False,
        additional_span_processors=[BatchSpanProcessor(exporter)],
    )
    active: dict[str, Any] = {}

    def enable(provider: str) -> None:
        active[provider] = getattr(logfire, f"instrument_{provider}")()
        active[provider].__enter__()

    def disable(provider: str) -> None:
        if provider in active:
            active.pop(provider).__exit__(None, None, None)

    def drain() -> None:
        logfire.force_flush()
        exporter.clear()

    def exported() -> str:
        logfire.force_flush()
        return spans_text(exporter.get_finished_spans())

    return Tracer(
        enable=enable,
        disable=disable,
        drain=drain,
        exported=exported,
        method="instrument_*() and its context manager's exit between blocks",
    )


SDKS = ("openai", "anthropic", "httpx2", "pydantic")
OTEL = ("opentelemetry-sdk",)
CONTESTANTS: dict[str, Contestant] = {
    "llmtap_memory": Contestant(
        "llmtap", BOTH, setup_llmtap_memory, ("llmtap", "llmtap-openai", "llmtap-anthropic")
    ),
    "llmtap_sqlite": Contestant(
        "llmtap", BOTH, setup_llmtap_sqlite, ("llmtap", "llmtap-openai", "llmtap-anthropic")
    ),
    "openllmetry": Contestant(
        "openllmetry",
        BOTH,
        setup_openllmetry,
        (
            "opentelemetry-instrumentation-openai",
            "opentelemetry-instrumentation-anthropic",
            *OTEL,
        ),
    ),
    "openinference": Contestant(
        "openinference",
        BOTH,
        setup_openinference,
        (
            "openinference-instrumentation-openai",
            "openinference-instrumentation-anthropic",
            *OTEL,
        ),
    ),
    "otelv2": Contestant(
        "otelv2",
        OPENAI,
        setup_otelv2,
        ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai", *OTEL),
    ),
    "langfuse": Contestant("langfuse", OPENAI, setup_langfuse, ("langfuse", *OTEL)),
    "langsmith": Contestant("langsmith", BOTH, setup_langsmith, ("langsmith",)),
    "logfire": Contestant("logfire", BOTH, setup_logfire, ("logfire-sdk", *OTEL)),
}
LLMTAP = ("llmtap_memory", "llmtap_sqlite")
