"""`llmtap export`: records as JSON Lines, flat CSV, or OTLP spans sent to a collector."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from llmtap.cli.common import CommandError, add_db, open_store
from llmtap.cli.stats import add_window, parse_window
from llmtap.record import Record
from llmtap.store import as_record
from llmtap.terminal import Progress

if TYPE_CHECKING:
    from llmtap.cli.common import Commands

CSV_COLUMNS = (
    "id",
    "trace_id",
    "parent_id",
    "kind",
    "name",
    "operation",
    "provider",
    "integration",
    "request_model",
    "response_model",
    "status",
    "error_type",
    "error_message",
    "error_status_code",
    "start_time",
    "end_time",
    "duration_s",
    "time_to_first_token_s",
    "stream",
    "chunks",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cached_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
    "usage_estimated",
    "cost_usd",
    "finish_reason",
    "response_id",
    "thread_id",
    "user_id",
    "server_address",
    "environment",
    "release",
    "tags",
)
_OTLP_BATCH = 512
_OTLP_PACKAGES = "opentelemetry-sdk opentelemetry-exporter-otlp-proto-http"


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "export", help="write records as jsonl or csv, or send them to an OTLP endpoint"
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "otlp"),
        default="jsonl",
        help="jsonl: the full records (default); csv: flat columns; otlp: spans to --endpoint",
    )
    add_db(parser)
    add_window(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="OTLP/HTTP endpoint for --format otlp "
        "(default: $OTEL_EXPORTER_OTLP_ENDPOINT or http://127.0.0.1:4318)",
    )
    parser.set_defaults(run=run)


def _json_loader() -> Callable[[str], Any]:
    """orjson when installed (`llmtap[fast]`): parsing is most of a CSV export's time."""
    try:
        import orjson
    except ImportError:
        return json.loads
    return orjson.loads


_loads = _json_loader()


def csv_row(record: dict[str, Any]) -> list[Any]:
    """One flat row: usage and error broken out, tags joined with `;`."""
    usage = record.get("usage") or {}
    error = record.get("error") or {}
    flat = {**record, **usage, **{f"error_{k}": v for k, v in error.items()}}
    flat["tags"] = ";".join(record.get("tags") or ())
    return [flat.get(column) for column in CSV_COLUMNS]


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        out = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.", 2) from None
    with out:
        yield out


def run(args: argparse.Namespace) -> int:
    since, until = parse_window(args)
    if args.format == "otlp":
        if args.output:
            raise CommandError("--format otlp sends to --endpoint; it writes no file.", 2)
        return _otlp(args, since, until)
    with open_store(args) as store, _output(args.output) as out:
        writer = csv.writer(out, lineterminator="\n") if args.format == "csv" else None
        if writer is not None:
            writer.writerow(CSV_COLUMNS)
        with Progress(sys.stderr, store.count(since, until), "exporting") as progress:
            for done, data in enumerate(store.scan(since, until), 1):
                if writer is None:
                    out.write(data + "\n")
                else:
                    writer.writerow(csv_row(_loads(data)))
                progress.update(done)
    return 0


def _endpoint(args: argparse.Namespace) -> str:
    """Where spans go: --endpoint, else the standard OTLP variables, else the local default."""
    if not args.endpoint and os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = args.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://127.0.0.1:4318"
    return base.rstrip("/") + "/v1/traces"


def _otlp(args: argparse.Namespace, since: float | None, until: float | None) -> int:
    """Replay records through llmtap's OpenTelemetry exporter, then OTLP/HTTP.

    Spans keep the calls' own start and end times. Metrics are not sent: a replayed
    measurement would carry the time of the export, not of the call.
    """
    try:
        from llmtap.exporters.otel import OTelExporter  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise CommandError(
            "This llmtap has no OpenTelemetry exporter (llmtap.exporters.otel); "
            "upgrade llmtap: pip install --upgrade llmtap",
            2,
        ) from None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
            OTLPSpanExporter,
        )
        from opentelemetry.metrics import NoOpMeterProvider
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError as exc:
        raise CommandError(
            f"llmtap export --format otlp needs the OpenTelemetry SDK and its OTLP/HTTP "
            f"exporter ({exc.name} is missing). Run: pip install {_OTLP_PACKAGES}",
            2,
        ) from None
    endpoint = _endpoint(args)
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "llmtap"}))
    # Spans are collected per batch and sent here, not by a background processor, so a
    # collector that refuses them is reported and stops the export.
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(finished))
    # Typed Any: the exporter's annotations differ between opentelemetry releases.
    otlp: Any = OTLPSpanExporter(endpoint=endpoint)
    exporter = OTelExporter(tracer_provider=provider, meter_provider=NoOpMeterProvider())
    sent = 0

    def send(records: list[Record]) -> None:
        nonlocal sent
        exporter.export(records)
        spans = finished.get_finished_spans()
        finished.clear()
        if spans and otlp.export(spans) is not SpanExportResult.SUCCESS:
            raise CommandError(
                f"{endpoint} did not accept the spans ({sent} sent before). Is an "
                "OpenTelemetry collector listening there? Set --endpoint or "
                "OTEL_EXPORTER_OTLP_ENDPOINT."
            )
        sent += len(spans)

    try:
        with open_store(args) as store:
            total = store.count(since, until)
            with Progress(sys.stderr, total, "sending") as progress:
                batch: list[Record] = []
                for done, data in enumerate(store.scan(since, until), 1):
                    batch.append(as_record(_loads(data)))
                    if len(batch) == _OTLP_BATCH:
                        send(batch)
                        batch = []
                    progress.update(done)
                if batch:
                    send(batch)
    finally:
        exporter.shutdown()
        otlp.shutdown()
        provider.shutdown()
    print(f"Sent {sent} spans from {total} records to {endpoint}.", file=sys.stderr)
    if sent < total:
        print(
            f"llmtap: {total - sent} records did not become spans; the log above says why.",
            file=sys.stderr,
        )
        return 1
    return 0
