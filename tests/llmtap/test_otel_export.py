"""`OTelExporter`: records as GenAI spans and metrics (semantic conventions v1.41.0),
checked attribute by attribute with the OpenTelemetry SDK's in-memory readers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.exporters.otel import OTelExporter
from llmtap.faults import fault_counts
from llmtap.record import Record

START = 1_750_000_000.25
END = START + 1.5
NS = 1_000_000_000

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864]  # fmt: skip
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92]  # fmt: skip
FIRST_TOKEN_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
                       2.5, 5.0, 7.5, 10.0]  # fmt: skip


@dataclass
class Otel:
    """An SDK wired to in-memory readers, and llmtap exporting to it."""

    provider: TracerProvider
    spans_out: InMemorySpanExporter
    metrics_in: InMemoryMetricReader
    exporter: OTelExporter

    def spans(self) -> list[ReadableSpan]:
        assert llmtap.flush(timeout=10)
        return sorted(self.spans_out.get_finished_spans(), key=lambda s: s.start_time or 0)

    def span(self) -> ReadableSpan:
        [span] = self.spans()
        return span

    def metrics(self) -> dict[str, Any]:
        assert llmtap.flush(timeout=10)
        data = self.metrics_in.get_metrics_data()
        return {
            metric.name: metric
            for resource in (data.resource_metrics if data else ())
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }


def make_otel(**options: Any) -> Otel:
    spans_out = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans_out))
    metrics_in = InMemoryMetricReader()
    options.setdefault("sdk_tracing", True)  # leave os.environ alone unless a test asks
    exporter = OTelExporter(
        tracer_provider=provider, meter_provider=MeterProvider([metrics_in]), **options
    )
    llmtap.configure(exporters=[exporter])
    return Otel(provider, spans_out, metrics_in, exporter)


@pytest.fixture
def otel_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv(CAPTURE_ENV, raising=False)
    yield make_otel
    llmtap.flush()
    llmtap.configure(exporters=[MemoryExporter()])  # shuts the OTel exporter down


@pytest.fixture
def otel(otel_factory: Any) -> Otel:
    result: Otel = otel_factory()
    return result


@pytest.fixture
def exported(otel: Otel) -> Callable[[], list[Record]]:
    """The records themselves, from a MemoryExporter beside the OTel exporter."""
    memory = MemoryExporter()
    llmtap.configure(exporters=[otel.exporter, memory])

    def records() -> list[Record]:
        assert llmtap.flush(timeout=10)
        return memory.records

    return records


@pytest.fixture
def content_otel(otel_factory: Any) -> Otel:
    result: Otel = otel_factory(capture_content=True)
    return result


def chat(**overrides: Any) -> Record:
    arguments: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2+2?"},
        ],
        "output": "4",
        "usage": {"input_tokens": 12, "output_tokens": 3},
        "start_time": START,
        "end_time": END,
        "finish_reason": "stop",
        "cost_usd": 0.25,
    }
    arguments.update(overrides)
    return llmtap.log_generation(**arguments)


# -- inference spans ---------------------------------------------------------------------


def test_a_chat_call_is_a_client_span_named_operation_and_model(otel: Otel) -> None:
    record = chat()
    span = otel.span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.start_time == int(START * NS)
    assert span.end_time == int(END * NS)
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "llmtap"
    assert span.instrumentation_scope.schema_url == "https://opentelemetry.io/schemas/1.41.0"
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "llmtap.kind": "generation",
        "llmtap.integration": "manual",
        "llmtap.cost_usd": 0.25,
    }
    assert span.context is not None
    assert f"{span.context.span_id:016x}" == record.id


def test_request_settings_and_response_fields_use_the_convention_names(otel: Otel) -> None:
    chat(
        settings={
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 40,
            "max_completion_tokens": 100,
            "seed": 7,
            "n": 2,
            "stop": ["\n\n", "END"],
            "presence_penalty": 0.5,
            "frequency_penalty": 0.25,
            "response_format": {"type": "json_schema", "json_schema": {"name": "x"}},
            "logit_bias": {"50256": -100},
        },
        response_id="chatcmpl-1",
        response_model="gpt-4o-mini-2024-07-18",
        output=[
            {"role": "assistant", "parts": [], "finish_reason": "stop"},
            {"role": "assistant", "parts": [], "finish_reason": "length"},
        ],
        finish_reason=None,
        server_address="api.openai.com",
    )
    attributes = otel.span().attributes or {}
    assert {k: v for k, v in attributes.items() if k.startswith(("gen_ai.", "server."))} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.seed": 7,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.stop_sequences": ("\n\n", "END"),
        "gen_ai.request.presence_penalty": 0.5,
        "gen_ai.request.frequency_penalty": 0.25,
        "gen_ai.output.type": "json",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ("stop", "length"),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "server.address": "api.openai.com",
    }


def test_one_choice_and_no_stream_leave_their_conditional_attributes_out(otel: Otel) -> None:
    chat(settings={"n": 1, "stop": "END", "max_tokens": 5, "max_output_tokens": 9})
    attributes = otel.span().attributes or {}
    assert "gen_ai.request.choice.count" not in attributes
    assert "gen_ai.request.stream" not in attributes
    assert attributes["gen_ai.request.stop_sequences"] == ("END",)
    assert attributes["gen_ai.request.max_tokens"] == 5


def test_a_stream_has_the_stream_flag_and_time_to_first_chunk(otel: Otel) -> None:
    chat(stream=True, time_to_first_token_s=0.25)
    attributes = otel.span().attributes or {}
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["gen_ai.response.time_to_first_chunk"] == 0.25


def test_cache_and_reasoning_tokens_are_subsets_of_input_and_output(otel: Otel) -> None:
    chat(
        usage={
            "input_tokens": 1300,
            "output_tokens": 500,
            "cached_input_tokens": 1024,
            "cache_creation_input_tokens": 200,
            "reasoning_tokens": 448,
        }
    )
    attributes = otel.span().attributes or {}
    assert {k: v for k, v in attributes.items() if k.startswith("gen_ai.usage.")} == {
        "gen_ai.usage.input_tokens": 1300,
        "gen_ai.usage.output_tokens": 500,
        "gen_ai.usage.cache_read.input_tokens": 1024,
        "gen_ai.usage.cache_creation.input_tokens": 200,
        "gen_ai.usage.reasoning.output_tokens": 448,
    }


def test_unreported_usage_is_absent_not_zero(otel: Otel) -> None:
    chat(usage=None)
    attributes = otel.span().attributes or {}
    assert not [k for k in attributes if k.startswith("gen_ai.usage.")]


def test_an_error_sets_error_type_the_status_and_an_exception_event(otel: Otel) -> None:
    chat(error=TimeoutError("upstream timed out"), output=None, usage=None)
    span = otel.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "upstream timed out"
    assert (span.attributes or {})["error.type"] == "TimeoutError"
    [event] = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {}) == {
        "exception.type": "TimeoutError",
        "exception.message": "upstream timed out",
    }
    assert event.timestamp == int(END * NS)


def test_an_incomplete_call_is_not_an_error(otel: Otel) -> None:
    chat(status="incomplete")
    span = otel.span()
    assert span.status.status_code is StatusCode.UNSET
    assert (span.attributes or {})["llmtap.status"] == "incomplete"
    assert "error.type" not in (span.attributes or {})


def test_embeddings_are_a_client_span_with_dimensions_and_input_tokens(otel: Otel) -> None:
    chat(
        operation="embeddings",
        model="text-embedding-3-small",
        input="hello",
        output=None,
        usage={"input_tokens": 2},
        settings={"dimensions": 256, "encoding_format": "float"},
        finish_reason=None,
    )
    span = otel.span()
    assert span.name == "embeddings text-embedding-3-small"
    assert span.kind is SpanKind.CLIENT
    attributes = span.attributes or {}
    assert attributes["gen_ai.operation.name"] == "embeddings"
    assert attributes["gen_ai.embeddings.dimension.count"] == 256
    assert attributes["gen_ai.request.encoding_formats"] == ("float",)
    assert attributes["gen_ai.usage.input_tokens"] == 2
    assert "gen_ai.response.finish_reasons" not in attributes


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("completion", "text_completion"),
        ("fim", "text_completion"),
        ("responses", "chat"),
        ("image", "image"),
    ],
)
def test_llmtap_operations_map_to_well_known_values(
    otel: Otel, operation: str, expected: str
) -> None:
    chat(operation=operation)
    span = otel.span()
    assert (span.attributes or {})["gen_ai.operation.name"] == expected
    assert span.name == f"{expected} gpt-4o-mini"


def test_context_becomes_conversation_user_tags_and_metadata(otel: Otel) -> None:
    with llmtap.context(
        thread_id="conv-7", user_id="u-1", tags=["beta"], metadata={"team": "search", "n": 3}
    ):
        chat(metadata={"nested": {"a": [1, 2]}})
    attributes = otel.span().attributes or {}
    assert attributes["gen_ai.conversation.id"] == "conv-7"
    assert attributes["user.id"] == "u-1"
    assert attributes["llmtap.tags"] == ("beta",)
    assert attributes["llmtap.metadata.team"] == "search"
    assert attributes["llmtap.metadata.n"] == 3
    assert json.loads(str(attributes["llmtap.metadata.nested"])) == {"a": [1, 2]}


def test_without_a_thread_no_conversation_id_is_made_up(otel: Otel) -> None:
    chat()
    assert "gen_ai.conversation.id" not in (otel.span().attributes or {})


# -- other record kinds -------------------------------------------------------------------


def test_span_kinds_map_to_operations_names_and_span_kinds(otel: Otel) -> None:
    # A chain at the top of a run is the workflow; a nested chain is plumbing.
    with llmtap.span("support-bot"), llmtap.span("triage", kind="agent"):
        for name, kind in [
            ("prepare", "chain"),
            ("get_weather", "tool"),
            ("docs", "retrieval"),
            ("ChatOpenAI", "llm"),
            ("parse", "step"),
        ]:
            with llmtap.span(name, kind=kind):
                pass
    spans = {span.name: span for span in otel.spans()}
    expected = {
        "invoke_workflow support-bot": (SpanKind.INTERNAL, "invoke_workflow"),
        "invoke_agent triage": (SpanKind.INTERNAL, "invoke_agent"),
        "prepare": (SpanKind.INTERNAL, None),
        "execute_tool get_weather": (SpanKind.INTERNAL, "execute_tool"),
        "retrieval docs": (SpanKind.CLIENT, "retrieval"),
        "ChatOpenAI": (SpanKind.INTERNAL, None),
        "parse": (SpanKind.INTERNAL, None),
    }
    assert {
        name: (span.kind, (span.attributes or {}).get("gen_ai.operation.name"))
        for name, span in spans.items()
    } == expected
    assert spans["invoke_workflow support-bot"].attributes == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "support-bot",
        "llmtap.kind": "chain",
    }
    assert (spans["invoke_agent triage"].attributes or {})["gen_ai.agent.name"] == "triage"
    assert (spans["execute_tool get_weather"].attributes or {})["gen_ai.tool.name"] == (
        "get_weather"
    )
    assert spans["ChatOpenAI"].attributes == {"llmtap.kind": "llm"}


def test_an_llm_step_carries_no_usage_and_its_generation_carries_it(otel: Otel) -> None:
    with llmtap.span("ChatOpenAI", kind="llm"):
        chat(start_time=None, end_time=None)
    spans = {span.name: span for span in otel.spans()}
    step_attributes = spans["ChatOpenAI"].attributes or {}
    assert not [k for k in step_attributes if k.startswith("gen_ai.")]
    assert (spans["chat gpt-4o-mini"].attributes or {})["gen_ai.usage.input_tokens"] == 12
    assert "gen_ai.client.token.usage" in otel.metrics()


# -- content capture -----------------------------------------------------------------------

CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
}
TOOLS = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]


def content_of(otel: Otel) -> dict[str, Any]:
    attributes = otel.span().attributes or {}
    return {k: json.loads(str(v)) for k, v in attributes.items() if k in CONTENT_KEYS}


def test_content_is_off_by_default(otel: Otel) -> None:
    chat(tools=TOOLS)
    assert content_of(otel) == {}


def test_content_on_spans_is_json_in_the_genai_message_shape(content_otel: Otel) -> None:
    record = chat(tools=TOOLS)
    assert content_of(content_otel) == {
        "gen_ai.input.messages": [
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {"role": "user", "parts": [{"type": "text", "content": "What is 2+2?"}]},
        ],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "4"}],
                "finish_reason": "stop",
            }
        ],
        "gen_ai.tool.definitions": [
            {
                "type": "function",
                "name": "add",
                "description": None,
                "parameters": {"type": "object"},
            }
        ],
    }
    assert record.system_instructions is None


@pytest.mark.parametrize("value", ["true", "TRUE", "span_only", "SPAN_AND_EVENT"])
def test_the_env_variable_turns_content_on(
    otel_factory: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(CAPTURE_ENV, value)
    otel = otel_factory()
    chat()
    assert set(content_of(otel)) == {"gen_ai.input.messages", "gen_ai.output.messages"}


@pytest.mark.parametrize("value", ["false", "NO_CONTENT", "EVENT_ONLY", "maybe"])
def test_other_env_values_leave_content_off(
    otel_factory: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(CAPTURE_ENV, value)
    otel = otel_factory()
    chat()
    assert content_of(otel) == {}


def test_the_argument_wins_over_the_env_variable(
    otel_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPTURE_ENV, "true")
    otel = otel_factory(capture_content=False)
    chat()
    assert content_of(otel) == {}


def test_llmtaps_own_content_switch_strips_content_before_any_exporter(
    otel_factory: Any,
) -> None:
    otel = otel_factory(capture_content=True)
    llmtap.configure(exporters=[otel.exporter], capture_content=False)
    chat()
    assert content_of(otel) == {}
    assert (otel.span().attributes or {})["gen_ai.response.finish_reasons"] == ("stop",)


def test_tool_content_is_its_arguments_and_result(content_otel: Otel) -> None:
    with llmtap.span("add", kind="tool") as tool:
        tool.set_input('{"a": 1, "b": 2}')
        tool.set_output("3")
    attributes = content_otel.span().attributes or {}
    assert attributes["gen_ai.tool.call.arguments"] == '{"a": 1, "b": 2}'
    assert attributes["gen_ai.tool.call.result"] == "3"
    assert "gen_ai.input.messages" not in attributes


def test_retrieval_content_is_its_query_text(content_otel: Otel) -> None:
    with llmtap.span("docs", kind="retrieval") as retrieval:
        retrieval.set_input("opening hours")
    attributes = content_otel.span().attributes or {}
    assert attributes["gen_ai.retrieval.query.text"] == "opening hours"


# -- parentage, ids and times ---------------------------------------------------------------


def ids(span: ReadableSpan) -> tuple[str, str, str | None]:
    assert span.context is not None
    parent = None if span.parent is None else f"{span.parent.span_id:016x}"
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}", parent


def test_spans_keep_record_ids_so_children_nest_under_parents_exported_later(
    otel: Otel, exported: Callable[[], list[Record]]
) -> None:
    with llmtap.span("run"), llmtap.span("lookup", kind="tool"):
        chat(start_time=None, end_time=None)
    spans = otel.spans()
    records = {record.name: record for record in exported()}
    by_name = {span.name: span for span in spans}
    run, tool, call = records["run"], records["lookup"], records["chat gpt-4o-mini"]
    assert ids(by_name["invoke_workflow run"]) == (run.trace_id, run.id, None)
    assert ids(by_name["execute_tool lookup"]) == (run.trace_id, tool.id, run.id)
    assert ids(by_name["chat gpt-4o-mini"]) == (run.trace_id, call.id, tool.id)
    # The child was exported before its parent: the order records finish in.
    first = otel.spans_out.get_finished_spans()[0]
    assert first.name == "chat gpt-4o-mini"


def test_span_times_are_the_records_times(otel: Otel, exported: Callable[[], list[Record]]) -> None:
    with llmtap.span("run"):
        chat(start_time=None, end_time=None)
    spans = {span.name: span for span in otel.spans()}
    for record in exported():
        name = record.name if record.kind == "generation" else f"invoke_workflow {record.name}"
        span = spans[name]
        assert record.end_time is not None
        assert span.start_time == int(record.start_time * NS)
        assert span.end_time == int(record.end_time * NS)


def test_a_record_nests_under_the_otel_span_current_when_it_started(otel: Otel) -> None:
    # Needs Record.otel_parent and the capture in generation.new_record.
    app = otel.provider.get_tracer("app")
    with app.start_as_current_span("POST /ask") as request:
        with llmtap.span("agent", kind="agent"):
            chat(start_time=None, end_time=None)
        chat(start_time=None, end_time=None, model="gpt-4o")
    outer = request.get_span_context()
    spans = {span.name: span for span in otel.spans()}
    request_ids = ids(spans["POST /ask"])
    agent_ids = ids(spans["invoke_agent agent"])
    assert agent_ids[0] == request_ids[0] == f"{outer.trace_id:032x}"
    assert agent_ids[2] == request_ids[1]
    assert ids(spans["chat gpt-4o-mini"])[2] == agent_ids[1]
    assert ids(spans["chat gpt-4o"])[:3:2] == (request_ids[0], request_ids[1])


def test_without_an_otel_exporter_no_otel_span_is_captured(memory: MemoryExporter) -> None:
    provider = TracerProvider()
    with provider.get_tracer("app").start_as_current_span("request") as request:
        record = chat()
    assert record.parent_id is None
    assert record.trace_id != f"{request.get_span_context().trace_id:032x}"


def test_other_spans_of_the_same_provider_keep_random_ids(otel: Otel) -> None:
    chat()
    otel.spans()
    with otel.provider.get_tracer("llmtap").start_as_current_span("not a record") as span:
        other = span.get_span_context()
    [record_span] = [s for s in otel.spans() if s.name != "not a record"]
    assert record_span.context is not None
    assert other.span_id != record_span.context.span_id


# -- robustness and set-up ------------------------------------------------------------------


def test_a_bad_record_is_counted_and_the_rest_of_the_batch_is_exported(otel: Otel) -> None:
    bad = Record(id="not-hex", trace_id="also-not-hex", name="bad", start_time=START)
    good = Record(id="00000000000000aa", trace_id="0" * 31 + "1", name="good", kind="step")
    good.start_time, good.end_time = START, END
    otel.exporter.export([bad, good])
    assert [span.name for span in otel.spans_out.get_finished_spans()] == ["good"]
    assert fault_counts()["exporter.OTelExporter.record"] == 1


def test_the_global_providers_are_looked_up_at_export_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = OTelExporter(sdk_tracing=True)  # created before OpenTelemetry is set up
    spans_out = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans_out))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    record = Record(id="00000000000000ab", trace_id="0" * 31 + "2", name="late", kind="step")
    record.start_time, record.end_time = START, END
    exporter.export([record])
    exporter.shutdown()
    assert [span.name for span in spans_out.get_finished_spans()] == ["late"]


def test_anthropic_sdk_tracing_is_switched_off_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    OTelExporter(sdk_tracing=True).shutdown()
    assert "ANTHROPIC_OPEN_TELEMETRY" not in os.environ
    OTelExporter().shutdown()
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY"] == "false"


def test_an_explicit_anthropic_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "true")
    OTelExporter().shutdown()
    assert os.environ["ANTHROPIC_OPEN_TELEMETRY"] == "true"


# -- metrics -------------------------------------------------------------------------------


def points(metric: Any) -> list[HistogramDataPoint]:
    return list(metric.data.data_points)


def test_token_usage_is_a_histogram_per_token_type(otel: Otel) -> None:
    chat(server_address="api.openai.com", response_model="gpt-4o-mini-2024-07-18")
    metric = otel.metrics()["gen_ai.client.token.usage"]
    assert metric.unit == "{token}"
    common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "server.address": "api.openai.com",
    }
    by_type = {point.attributes["gen_ai.token.type"]: point for point in points(metric)}
    assert {k: dict(p.attributes or {}) for k, p in by_type.items()} == {
        "input": {**common, "gen_ai.token.type": "input"},
        "output": {**common, "gen_ai.token.type": "output"},
    }
    assert (by_type["input"].sum, by_type["output"].sum) == (12, 3)
    assert list(by_type["input"].explicit_bounds) == TOKEN_BUCKETS


def test_operation_duration_is_in_seconds_with_error_type_on_failure(otel: Otel) -> None:
    chat()
    chat(error=ValueError("bad request"), usage=None, output=None)
    metric = otel.metrics()["gen_ai.client.operation.duration"]
    assert metric.unit == "s"
    [ok, failed] = sorted(points(metric), key=lambda p: "error.type" in (p.attributes or {}))
    assert "error.type" not in (ok.attributes or {})
    assert (failed.attributes or {})["error.type"] == "ValueError"
    assert ok.sum == pytest.approx(1.5)
    assert list(ok.explicit_bounds) == DURATION_BUCKETS


def test_time_to_first_token_is_recorded_for_streams_only(otel: Otel) -> None:
    chat(stream=True, time_to_first_token_s=0.3)
    chat(time_to_first_token_s=0.3)
    metrics = otel.metrics()
    for name, buckets in (
        ("gen_ai.client.operation.time_to_first_chunk", DURATION_BUCKETS),
        ("gen_ai.server.time_to_first_token", FIRST_TOKEN_BUCKETS),
    ):
        [point] = points(metrics[name])
        assert metrics[name].unit == "s"
        assert (point.count, point.sum) == (1, pytest.approx(0.3))
        assert list(point.explicit_bounds) == buckets
        assert dict(point.attributes or {}) == {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini",
        }


def test_spans_that_are_not_model_calls_record_no_metrics(otel: Otel) -> None:
    with llmtap.span("run"), llmtap.span("t", kind="tool"):
        pass
    assert otel.metrics() == {}
