"""`llmtap export`: JSON Lines, flat CSV, and OTLP replay, over a time window."""

from __future__ import annotations

import csv
import http.server
import io
import json
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import llmtap
from llmtap.cli import main
from llmtap.cli.export import CSV_COLUMNS
from llmtap.exporters import MemoryExporter, SQLiteExporter
from llmtap.record import Record
from llmtap.store import Store, as_record
from llmtap.terminal import Progress

START = 1795313248.123456  # 2026-11-22T02:07:28.123456Z
HOUR = 3600.0


@contextmanager
def recording(path: Path) -> Iterator[None]:
    llmtap.configure(exporters=[SQLiteExporter(path)])
    try:
        yield
    finally:
        llmtap.flush()
        llmtap.configure(exporters=[MemoryExporter()])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A chain with two generations at START, and one generation a day earlier."""
    path = tmp_path / "llmtap.db"
    with recording(path), llmtap.span("plan", kind="chain"):
        llmtap.log_generation(
            model="gpt-4o-mini",
            provider="openai",
            usage={"input_tokens": 12, "output_tokens": 5, "cached_input_tokens": 4},
            start_time=START,
            end_time=START + 0.5,
            time_to_first_token_s=0.125,
            stream=True,
            cost_usd=0.0001,
            tags=["a", "b"],
            response_model="gpt-4o-mini-2024-07-18",
        )
        llmtap.log_generation(
            model="claude-x",
            provider="anthropic",
            start_time=START + 1,
            end_time=START + 3,
            error={"type": "APIError", "message": "overloaded"},
        )
        llmtap.log_generation(
            model="gpt-4o-mini", provider="openai", start_time=START - 24 * HOUR, end_time=START
        )
    return path


def stored(path: Path) -> list[dict[str, Any]]:
    with Store(path) as store:
        return [json.loads(data) for data in store.scan()]


def test_jsonl_is_every_stored_record_in_start_order(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", str(db)]) == 0

    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert records == stored(db)
    assert len(records) == 4
    assert [r["start_time"] for r in records] == sorted(r["start_time"] for r in records)


def test_since_and_until_select_by_start_time(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", str(db), "--until", "2026-11-22T00:00:00Z"]) == 0

    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["start_time"] == "2026-11-21T02:07:28.123456+00:00"


def test_csv_has_flat_columns(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "csv", "--db", str(db), "--since", "2026-11-22"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    by_model = {row["request_model"]: row for row in rows if row["kind"] == "generation"}
    openai = by_model["gpt-4o-mini"]
    assert {k: openai[k] for k in CSV_COLUMNS if k not in ("id", "trace_id", "parent_id")} == {
        "kind": "generation",
        "name": "chat gpt-4o-mini",
        "operation": "chat",
        "provider": "openai",
        "integration": "manual",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "status": "ok",
        "error_type": "",
        "error_message": "",
        "error_status_code": "",
        "start_time": "2026-11-22T02:07:28.123456+00:00",
        "end_time": "2026-11-22T02:07:28.623456+00:00",
        "duration_s": "0.5",
        "time_to_first_token_s": "0.125",
        "stream": "True",
        "chunks": "",
        "input_tokens": "12",
        "output_tokens": "5",
        "total_tokens": "17",
        "cached_input_tokens": "4",
        "cache_creation_input_tokens": "",
        "reasoning_tokens": "",
        "usage_estimated": "False",
        "cost_usd": "0.0001",
        "finish_reason": "",
        "response_id": "",
        "thread_id": "",
        "user_id": "",
        "server_address": "",
        "environment": "",
        "release": "",
        "tags": "a;b",
    }
    [chain] = [row for row in rows if row["kind"] == "chain"]
    assert openai["parent_id"] == chain["id"]
    failed = by_model["claude-x"]
    assert (failed["status"], failed["error_type"], failed["error_message"]) == (
        "error",
        "APIError",
        "overloaded",
    )
    assert (failed["duration_s"], failed["input_tokens"]) == ("2.0", "")


def test_output_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.jsonl"

    assert main(["export", "--db", str(db), "-o", str(target)]) == 0

    assert capsys.readouterr().out == ""
    assert [json.loads(line) for line in target.read_text().splitlines()] == stored(db)


def test_an_unwritable_output_file_is_a_clear_error(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-dir" / "out.csv"

    assert main(["export", "--db", str(db), "-o", str(target)]) == 2

    assert capsys.readouterr().err == f"llmtap: Cannot write {target}: No such file or directory.\n"


# -- progress ------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_ends_its_line() -> None:
    screen = Terminal()
    with Progress(screen, 2000, "exporting") as progress:
        for done in range(1, 2001):
            progress.update(done)

    last = screen.getvalue().split("\r")[-1]
    assert last.startswith("exporting [" + "#" * 30 + "] 100% 2,000/2,000 records")
    assert last.endswith("s\n")


def test_progress_is_silent_off_a_terminal_and_for_short_exports() -> None:
    pipe, screen = io.StringIO(), Terminal()
    for stream, total in ((pipe, 5000), (screen, 999)):
        with Progress(stream, total, "exporting") as progress:
            progress.update(total)

    assert (pipe.getvalue(), screen.getvalue()) == ("", "")


# -- OTLP ----------------------------------------------------------------------------------


class FakeOTelExporter:
    """Stands in for llmtap.exporters.otel: one span per record, on the given provider."""

    shut_down = False

    def __init__(
        self, tracer_provider: Any = None, meter_provider: Any = None, capture_content: Any = None
    ) -> None:
        self.tracer = tracer_provider.get_tracer("fake")

    def export(self, records: Sequence[Record]) -> None:
        for record in records:
            span = self.tracer.start_span(record.name, start_time=int(record.start_time * 1e9))
            span.end(end_time=int((record.end_time or record.start_time) * 1e9))

    def shutdown(self) -> None:
        FakeOTelExporter.shut_down = True


class FakeOTLP:
    """Stands in for the OTLP/HTTP span exporter: keeps each request's span names."""

    requests: list[list[str]] = []
    endpoints: list[str] = []
    services: set[str] = set()
    accept = True

    def __init__(self, endpoint: str) -> None:
        FakeOTLP.endpoints.append(endpoint)

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        FakeOTLP.requests.append([span.name for span in spans])
        FakeOTLP.services.update(span.resource.attributes["service.name"] for span in spans)
        return SpanExportResult.SUCCESS if FakeOTLP.accept else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> type[FakeOTLP]:
    pytest.importorskip("opentelemetry.sdk.trace")
    otel = types.ModuleType("llmtap.exporters.otel")
    otel.OTelExporter = FakeOTelExporter  # type: ignore[attr-defined]
    otlp = types.ModuleType("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    otlp.OTLPSpanExporter = FakeOTLP  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llmtap.exporters.otel", otel)
    monkeypatch.setitem(sys.modules, otlp.__name__, otlp)
    monkeypatch.setattr(FakeOTLP, "requests", [])
    monkeypatch.setattr(FakeOTLP, "endpoints", [])
    monkeypatch.setattr(FakeOTLP, "services", set())
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    return FakeOTLP


def test_otlp_replays_every_record_in_batches(
    tmp_path: Path, fakes: type[FakeOTLP], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "llmtap.db"
    with recording(path):
        for i in range(600):
            llmtap.log_generation(model="m", provider="p", name=f"call {i}", end_time=START + i)

    assert (
        main(["export", "--format", "otlp", "--db", str(path), "--endpoint", "http://c:4318/"]) == 0
    )

    assert [len(names) for names in fakes.requests] == [512, 88]
    assert fakes.requests[0][:2] == ["call 0", "call 1"]
    assert fakes.endpoints == ["http://c:4318/v1/traces"]
    assert fakes.services == {"llmtap"}
    assert FakeOTelExporter.shut_down
    assert (
        capsys.readouterr().err == "Sent 600 spans from 600 records to http://c:4318/v1/traces.\n"
    )


@pytest.mark.parametrize(
    ("environment", "endpoint"),
    [
        ({}, "http://127.0.0.1:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://col:4318"}, "http://col:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://col/spans"}, "http://col/spans"),
    ],
)
def test_otlp_endpoint_follows_the_standard_variables(
    db: Path,
    fakes: type[FakeOTLP],
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    endpoint: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert main(["export", "--format", "otlp", "--db", str(db)]) == 0

    assert fakes.endpoints == [endpoint]


def test_otlp_refused_by_the_collector_says_where_and_fails(
    db: Path,
    fakes: type[FakeOTLP],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(FakeOTLP, "accept", False)

    assert main(["export", "--format", "otlp", "--db", str(db)]) == 1

    assert capsys.readouterr().err == (
        "llmtap: http://127.0.0.1:4318/v1/traces did not accept the spans (0 sent before). "
        "Is an OpenTelemetry collector listening there? Set --endpoint or "
        "OTEL_EXPORTER_OTLP_ENDPOINT.\n"
    )


def test_otlp_without_the_otlp_exporter_names_what_to_install(
    db: Path,
    fakes: type[FakeOTLP],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)

    assert main(["export", "--format", "otlp", "--db", str(db)]) == 2

    err = capsys.readouterr().err
    assert err.startswith("llmtap: llmtap export --format otlp needs the OpenTelemetry SDK")
    assert err.endswith(
        "Run: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http\n"
    )


def test_otlp_without_the_opentelemetry_exporter_says_to_upgrade(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "llmtap.exporters.otel", None)

    assert main(["export", "--format", "otlp", "--db", str(db)]) == 2

    assert "has no OpenTelemetry exporter" in capsys.readouterr().err


def test_otlp_writes_no_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "otlp", "--db", str(db), "-o", "x"]) == 2

    assert "--format otlp sends to --endpoint" in capsys.readouterr().err


class Collector(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        Collector.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_otlp_reaches_a_real_http_endpoint(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real OTelExporter and OTLP/HTTP exporter, against a local HTTP server."""
    pytest.importorskip("llmtap.exporters.otel")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Collector.bodies = []
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        assert main(["export", "--format", "otlp", "--db", str(db), "--endpoint", endpoint]) == 0
    finally:
        server.shutdown()
        server.server_close()

    spans = []
    for body in Collector.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        spans += [
            span
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]
    assert len(spans) == 4
    # The calls' own times, not the time of the replay.
    # (float epoch seconds hold about 0.25 us, so compare to the microsecond.)
    sent = sorted(span.start_time_unix_nano / 1e9 for span in spans)
    recorded = sorted(as_record(record).start_time for record in stored(db))
    assert sent == pytest.approx(recorded, abs=1e-6)
