"""anthropic>=2 traces its own calls with OpenTelemetry; llmtap leaves those spans as
they are. Run in a child process: an OTel tracer provider can be set only once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import anthropic
import pytest

pytest.importorskip("opentelemetry.sdk", reason="needs opentelemetry-sdk")
if int(anthropic.__version__.split(".")[0]) < 2:
    pytest.skip("the SDK's own tracing arrived in anthropic 2.0", allow_module_level=True)

TESTS = Path(__file__).resolve().parents[1]
CLEAN_ENV = {
    k: v for k, v in os.environ.items() if not k.startswith(("LLMTAP_", "ANTHROPIC_", "OTEL_"))
}

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import llmtap
    from llmtap.exporters import MemoryExporter
    from support.fake_anthropic import FakeAnthropic

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)
    TIMING = {"gen_ai.response.time_to_first_chunk"}
    REQUEST = {"model": "claude-sonnet-4-6", "max_tokens": 5,
               "messages": [{"role": "user", "content": "hi"}]}

    def calls():
        client = FakeAnthropic().client()
        client.messages.create(**REQUEST)
        list(client.messages.create(**REQUEST, stream=True))
        with client.messages.stream(**REQUEST) as stream:
            stream.get_final_message()
        with client.messages.stream(**REQUEST) as stream:
            next(iter(stream))
        seen = [
            [s.name, s.status.status_code.name,
             {k: v for k, v in sorted(s.attributes.items()) if k not in TIMING}]
            for s in spans.get_finished_spans()
        ]
        spans.clear()
        return seen

    memory = MemoryExporter()
    llmtap.configure(exporters=[memory])
    plain = calls()
    llmtap.instrument_anthropic()
    traced = calls()
    llmtap.flush()
    print(json.dumps({"plain": plain, "traced": traced, "records": len(memory.records)}))
    """
)


def test_the_sdks_own_spans_are_unchanged() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        cwd=TESTS,
        env={**CLEAN_ENV, "PYTHONPATH": str(TESTS), "LLMTAP_EXPORTERS": "none"},
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["traced"] == result["plain"]
    assert len(result["plain"]) == 4
    assert [span[1] for span in result["plain"]] == ["OK", "OK", "OK", "UNSET"]
    assert result["records"] == 4
