"""Fixtures shared by every test package: no test writes outside its tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.exporters.encoding import record_json
from llmtap.faults import reset_faults
from llmtap.pipeline import Pipeline
from llmtap.record import Record
from support.secrets import leak_in, leaks_in_files

# LiteLLM fetches its price map over the network when imported (`llmtap doctor` imports
# every integration); the suite never touches the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_leaks: list[str] = []
"""Credential-looking text the exporters were handed, found on the worker thread."""


@pytest.fixture(scope="session", autouse=True)
def _no_default_store() -> None:
    """Until a test configures llmtap, records go to memory, never to a store file."""
    llmtap.configure(exporters=[MemoryExporter()])


@pytest.fixture(scope="session", autouse=True)
def _exports_scanned_for_secrets() -> Iterator[None]:
    """Every batch any test exports is scanned for API keys and auth headers."""
    export = Pipeline._export

    def scanned(self: Pipeline, batch: Sequence[Record], exporters: Sequence[Any]) -> None:
        for record in batch:
            leak = leak_in(record_json(record))
            if leak is not None:
                _leaks.append(f"record {record.name!r}: ...{leak}...")
        export(self, batch, exporters)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Pipeline, "_export", scanned)
        yield


@pytest.fixture(autouse=True)
def _no_secret_recorded(tmp_path: Path) -> Iterator[None]:
    """Fails the test that exported, or left in a file, an API key or an auth header."""
    yield
    found = [*_leaks, *(f"{path}: ...{leak}..." for path, leak in leaks_in_files(tmp_path))]
    _leaks.clear()
    assert not found, f"credentials were recorded: {found}"


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
