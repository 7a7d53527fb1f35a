"""`llmtap demo` records the bundled traffic into the default store and shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmtap
from llmtap.cli import main
from llmtap.exporters import MemoryExporter
from llmtap.store import Store


def test_demo_writes_the_store_and_prints_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMTAP_DB")
    try:
        assert main(["demo"]) == 0
    finally:
        llmtap.uninstrument_openai()
        llmtap.configure(exporters=[MemoryExporter()])

    printed = capsys.readouterr().out
    with Store(tmp_path / ".llmtap" / "llmtap.db") as store:
        records = store.recent(limit=10)
    chain = next(r for r in records if r["kind"] == "chain")
    generations = sorted(
        (r for r in records if r["kind"] == "generation"), key=lambda r: r["start_time"]
    )
    assert [g["parent_id"] for g in generations] == [chain["id"]] * 4
    assert [(g["usage"]["input_tokens"], g["usage"]["output_tokens"]) for g in generations] == [
        (19, 31),
        (17, 12),
        (63, 15),
        (17, 12),
    ]
    assert [g["stream"] for g in generations] == [False, True, False, True]
    assert generations[2]["tool_calls"][0]["arguments"] == {"city": "Paris"}
    assert all(g["thread_id"] == "demo-thread" for g in generations)
    assert "Recorded 5 records" in printed
    assert "get_weather({'city': 'Paris'})" in printed
