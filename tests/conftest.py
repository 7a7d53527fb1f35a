"""Fixtures for every test: records go to memory, never to a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import llmtap
from llmtap.exporters import MemoryExporter


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_DB", str(tmp_path / "llmtap.db"))


@pytest.fixture
def memory() -> Iterator[MemoryExporter]:
    exporter = MemoryExporter()
    llmtap.configure(exporters=[exporter])
    yield exporter
    llmtap.flush()
    llmtap.configure(exporters=[MemoryExporter()])
