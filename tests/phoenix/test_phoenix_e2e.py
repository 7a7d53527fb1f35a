"""llmtap's OpenTelemetry export against a real backend: Arize Phoenix, started here on
127.0.0.1 with a throwaway working directory, fed over OTLP/HTTP, read back over its
REST API. No Docker and no network: Phoenix's telemetry and downloads are switched off."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

try:  # looked up, not imported: Phoenix runs as a server in its own process
    version("arize-phoenix")
except PackageNotFoundError:
    pytest.skip("needs tests/phoenix/requirements.txt (nox -s phoenix)", allow_module_level=True)

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.exporters.otel import OTelExporter

PROJECT = "llmtap-e2e"
START_TIMEOUT_S = 180
READ_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Phoenix server of our own, its base URL; stopped (and its files gone) after."""
    workdir = tmp_path_factory.mktemp("phoenix")
    port = free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(workdir),  # SQLite lives here
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        "PHOENIX_ALLOWED_SANDBOX_PROVIDERS": "NONE",
    }
    log = (workdir / "phoenix.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "phoenix.server.main", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(server, url, workdir / "phoenix.log")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_until_healthy(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"Phoenix exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"Phoenix was not healthy after {START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


def spans_in_phoenix(url: str, expected: int) -> dict[str, dict[str, Any]]:
    """The project's spans by name, once `expected` of them have been ingested."""
    deadline = time.monotonic() + READ_TIMEOUT_S
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            spans = get_json(f"{url}/v1/projects/{PROJECT}/spans?limit=100")["data"]
        except urllib.error.HTTPError as error:  # the project appears with its first span
            if error.code != 404:
                raise
        if len(spans) >= expected:
            break
        time.sleep(0.5)
    return {span["name"]: span for span in spans}


def test_spans_reach_phoenix_with_names_tokens_and_parents(phoenix: str) -> None:
    resource = Resource.create(
        {"service.name": "llmtap-e2e", "openinference.project.name": PROJECT}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{phoenix}/v1/traces")))
    exporter = OTelExporter(tracer_provider=provider, capture_content=True, sdk_tracing=True)
    llmtap.configure(exporters=[exporter])
    try:
        with provider.get_tracer("app").start_as_current_span("POST /ask"):
            with llmtap.span("support-bot"), llmtap.span("lookup", kind="tool") as tool:
                tool.set_input('{"city": "Paris"}')
                tool.set_output("18C")
            with llmtap.span("answer", kind="agent"):
                llmtap.log_generation(
                    model="gpt-4o-mini",
                    provider="openai",
                    input="What is 2+2?",
                    output="4",
                    usage={"input_tokens": 1300, "output_tokens": 7, "cached_input_tokens": 1024},
                    finish_reason="stop",
                )
                llmtap.log_generation(
                    model="gpt-4o",
                    provider="openai",
                    input="again",
                    error={"type": "RateLimitError", "message": "slow down"},
                )
        assert llmtap.flush(timeout=10)
        assert provider.force_flush(10_000)
    finally:
        llmtap.configure(exporters=[MemoryExporter()])
        provider.shutdown()

    spans = spans_in_phoenix(phoenix, expected=6)
    assert set(spans) == {
        "POST /ask",
        "invoke_workflow support-bot",
        "execute_tool lookup",
        "invoke_agent answer",
        "chat gpt-4o-mini",
        "chat gpt-4o",
    }

    def parent(name: str) -> str | None:
        parent_id: str | None = spans[name]["parent_id"]
        return parent_id

    def span_id(name: str) -> str:
        return str(spans[name]["context"]["span_id"])

    assert parent("POST /ask") is None
    assert parent("invoke_workflow support-bot") == span_id("POST /ask")
    assert parent("execute_tool lookup") == span_id("invoke_workflow support-bot")
    assert parent("invoke_agent answer") == span_id("POST /ask")
    assert parent("chat gpt-4o-mini") == span_id("invoke_agent answer")
    assert len({span["context"]["trace_id"] for span in spans.values()}) == 1

    chat = spans["chat gpt-4o-mini"]
    attributes = chat["attributes"]
    assert chat["span_kind"] == "LLM"  # Phoenix read the GenAI attributes
    assert attributes["gen_ai.usage.input_tokens"] == 1300
    assert attributes["gen_ai.usage.output_tokens"] == 7
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert attributes["llm.token_count.prompt"] == 1300
    assert attributes["llm.token_count.completion"] == 7
    assert attributes["llm.token_count.prompt_details.cache_read"] == 1024
    assert spans["execute_tool lookup"]["span_kind"] == "TOOL"
    assert spans["invoke_agent answer"]["span_kind"] == "AGENT"

    failed = spans["chat gpt-4o"]
    assert failed["status_code"] == "ERROR"
    assert failed["status_message"] == "slow down"
    assert failed["attributes"]["error.type"] == "RateLimitError"
