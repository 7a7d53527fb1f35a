"""End to end through the real openai SDK: recorded traffic in, GenAI spans and metrics out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.exporters.otel import OTelExporter
from support.cassettes import (
    PROJECT_CASSETTES,
    SHARED_CASSETTES,
    load_cassette,
    replay,
    request_body,
)

openai = pytest.importorskip("openai")

SPANS = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(SPANS))


@pytest.fixture
def metrics_in() -> Iterator[InMemoryMetricReader]:
    SPANS.clear()
    reader = InMemoryMetricReader()
    exporter = OTelExporter(
        tracer_provider=PROVIDER,
        meter_provider=MeterProvider([reader]),
        capture_content=True,
        sdk_tracing=True,
    )
    llmtap.configure(exporters=[exporter])
    llmtap.instrument_openai()
    yield reader
    llmtap.uninstrument_openai()
    llmtap.flush()
    llmtap.configure(exporters=[MemoryExporter()])


def finished() -> dict[str, ReadableSpan]:
    assert llmtap.flush(timeout=10)
    return {span.name: span for span in SPANS.get_finished_spans()}


def ids(span: ReadableSpan) -> tuple[int, int] | None:
    context = span.context
    return None if context is None else (context.trace_id, context.span_id)


def parent_of(span: ReadableSpan) -> tuple[int, int] | None:
    parent = span.parent
    return None if parent is None else (parent.trace_id, parent.span_id)


def test_an_azure_stream_is_one_client_span_under_the_app_and_llmtap_spans(
    metrics_in: InMemoryMetricReader,
) -> None:
    path = PROJECT_CASSETTES / "openai" / "chat_stream_azure_prompt_filter.yaml"
    cassette, _ = load_cassette(path)
    body = request_body(cassette["interactions"][0])
    app = PROVIDER.get_tracer("app")
    with replay(path), app.start_as_current_span("POST /ask"), llmtap.span("answer"):
        client = openai.AzureOpenAI(
            api_key="sk-test",
            azure_endpoint="https://llmtap-demo.openai.azure.com",
            api_version="2024-10-21",
            max_retries=0,
        )
        for _ in client.chat.completions.create(**body):
            pass

    spans = finished()
    assert set(spans) == {"POST /ask", "invoke_workflow answer", "chat gpt-4o-mini"}
    call, workflow, request = (
        spans["chat gpt-4o-mini"],
        spans["invoke_workflow answer"],
        spans["POST /ask"],
    )
    assert call.kind is SpanKind.CLIENT
    assert parent_of(call) == ids(workflow)
    # Needs Record.otel_parent: the run nests under the app's span, in its trace.
    assert parent_of(workflow) == ids(request)

    attributes = dict(call.attributes or {})
    assert 0 < float(attributes.pop("gen_ai.response.time_to_first_chunk")) < 10
    output = json.loads(str(attributes.pop("gen_ai.output.messages")))
    assert output[0]["parts"] == [{"type": "text", "content": "This is a test."}]
    assert json.loads(str(attributes.pop("gen_ai.input.messages")))[0]["role"] == "user"
    assert {k: v for k, v in attributes.items() if not k.startswith("llmtap.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "chatcmpl-e9BMWbLZPXOCUMK8wRjjf6Mdrehl4",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 14,
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "server.address": "llmtap-demo.openai.azure.com",
    }

    data = metrics_in.get_metrics_data()
    assert data is not None
    names = {m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
    assert names == {
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
        "gen_ai.server.time_to_first_token",
    }


SHARED = SHARED_CASSETTES / "openai"


@pytest.mark.parametrize(
    "name", ["chat_prompt_caching_cached_tokens", "chat_nonstream_gpt5_nano_reasoning_tokens"]
)
def test_cache_and_reasoning_tokens_reach_the_span(
    metrics_in: InMemoryMetricReader, name: str
) -> None:
    path: Path = SHARED / f"{name}.yaml"
    if not path.exists():
        pytest.skip("../shared/cassettes is not present")
    cassette, truth = load_cassette(path)
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    spans: list[ReadableSpan] = []
    with replay(path):
        for interaction in cassette["interactions"]:
            client.chat.completions.create(**request_body(interaction))
            assert llmtap.flush(timeout=10)
            spans = list(SPANS.get_finished_spans())
    call = spans[truth["primary_interaction_index"]]
    attributes: dict[str, Any] = dict(call.attributes or {})
    assert call.name == f"chat {truth['request_model']}"
    assert attributes["gen_ai.response.model"] == truth["response_model"]
    assert attributes["gen_ai.usage.input_tokens"] == truth["input_tokens"]
    assert attributes["gen_ai.usage.output_tokens"] == truth["output_tokens"]
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == truth["cached_tokens"]
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == truth["reasoning_tokens"]
    assert attributes["gen_ai.response.finish_reasons"] == tuple(truth["finish_reasons"])
