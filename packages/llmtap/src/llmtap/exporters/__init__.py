"""Where records go once the background worker has resolved them."""

from typing import TYPE_CHECKING, Any

from llmtap.exporters.base import Exporter
from llmtap.exporters.console import ConsoleExporter
from llmtap.exporters.jsonl import JSONLExporter
from llmtap.exporters.memory import MemoryExporter
from llmtap.exporters.sqlite import SQLiteExporter, default_db_path

if TYPE_CHECKING:
    from llmtap.exporters.otel import OTelExporter

__all__ = [
    "ConsoleExporter",
    "Exporter",
    "JSONLExporter",
    "MemoryExporter",
    "OTelExporter",
    "SQLiteExporter",
    "default_db_path",
]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `import llmtap` never imports OpenTelemetry.
    if name == "OTelExporter":
        from llmtap.exporters.otel import OTelExporter

        return OTelExporter
    raise AttributeError(f"module 'llmtap.exporters' has no attribute {name!r}")
