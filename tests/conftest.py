"""Fixtures shared by every test package: no test writes outside its tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.faults import reset_faults


@pytest.fixture(scope="session", autouse=True)
def _no_default_store() -> None:
    """Until a test configures llmtap, records go to memory, never to a store file."""
    llmtap.configure(exporters=[MemoryExporter()])


def _clear_llmtap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LLMTAP_") and name != "LLMTAP_DB":
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean `LLMTAP_*` environment, a store under tmp_path, fault counts from zero."""
    _clear_llmtap_env(monkeypatch)
    monkeypatch.setenv("LLMTAP_DB", str(tmp_path / "llmtap.db"))
    reset_faults()


@pytest.fixture
def memory(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryExporter]:
    """llmtap configured to export only to a fresh MemoryExporter, reset afterwards."""
    exporter = MemoryExporter()
    llmtap.configure(exporters=[exporter])
    yield exporter
    llmtap.flush()
    # Variables the test set are still in place; the next configuration must not see them.
    _clear_llmtap_env(monkeypatch)
    llmtap.configure(exporters=[MemoryExporter()])
