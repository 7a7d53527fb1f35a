"""Where records go once the background worker has resolved them."""

from llmtap.exporters.base import Exporter
from llmtap.exporters.console import ConsoleExporter
from llmtap.exporters.jsonl import JSONLExporter
from llmtap.exporters.memory import MemoryExporter
from llmtap.exporters.sqlite import SQLiteExporter, default_db_path

__all__ = [
    "ConsoleExporter",
    "Exporter",
    "JSONLExporter",
    "MemoryExporter",
    "SQLiteExporter",
    "default_db_path",
]
