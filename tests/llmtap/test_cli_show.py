"""`llmtap show`: one record in full, or a trace as a tree; ids may be shortened."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import llmtap
from llmtap.cli import main
from llmtap.exporters import MemoryExporter, SQLiteExporter
from llmtap.record import Record
from llmtap.store import Store

START = 1795313248.123456  # 2026-11-22T02:07:28.123456Z


@contextmanager
def recording(path: Path) -> Iterator[None]:
    llmtap.configure(exporters=[SQLiteExporter(path)])
    try:
        yield
    finally:
        llmtap.flush()
        llmtap.configure(exporters=[MemoryExporter()])


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so printed times are known."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def generation(**changes: Any) -> Record:
    fields: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
        ],
        "output": {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        "usage": {
            "input_tokens": 63,
            "output_tokens": 15,
            "cached_input_tokens": 32,
            "reasoning_tokens": 4,
        },
        "start_time": START,
        "end_time": START + 0.8,
        "time_to_first_token_s": 0.2,
        "stream": True,
        "finish_reason": "tool_calls",
        "response_model": "gpt-4o-mini-2024-07-18",
        "response_id": "chatcmpl-1",
        "settings": {"temperature": 0.2},
        "cost_usd": 0.0000123,
        "tags": ["demo"],
        "metadata": {"feature": "weather"},
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "description": "Get the weather."},
            }
        ],
    }
    return llmtap.log_generation(**{**fields, **changes})


@pytest.fixture
def trace(tmp_path: Path) -> dict[str, Any]:
    """agent > (retrieve, ChatOpenAI llm step > generation, generation), and another trace."""
    ids: dict[str, Any] = {}
    with recording(tmp_path / "llmtap.db"):
        with llmtap.span("agent", kind="agent") as agent:
            with llmtap.span("retrieve", kind="retrieval"):
                pass
            with llmtap.span("ChatOpenAI", kind="llm") as step:
                ids["first"] = generation(start_time=time.time(), end_time=time.time() + 0.8).id
            ids["second"] = generation(
                start_time=time.time(),
                end_time=time.time() + 0.5,
                status="error",
                error={"type": "RateLimitError", "message": "slow down"},
                output=None,
            ).id
        ids["agent"], ids["step"], ids["trace"] = agent.id, step.id, agent.trace_id
        ids["other"] = generation().trace_id
    return ids


def show(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["show", *args]) == 0
    return capsys.readouterr().out


def test_a_record_in_full(tmp_path: Path, utc: None, capsys: pytest.CaptureFixture[str]) -> None:
    with recording(tmp_path / "llmtap.db"), llmtap.span("step", kind="llm") as step:
        record = generation()

    out = show(capsys, record.id)

    assert out.splitlines() == [
        "generation  chat gpt-4o-mini  ok",
        f"  id        {record.id}",
        f"  trace     {record.trace_id}",
        f"  parent    {step.id}",
        "  started   2026-11-22 02:07:28.123",
        "  duration  800.0ms   ttft 200.0ms   stream   25.0 tokens/s",
        "  provider  openai   via manual",
        "  model     gpt-4o-mini -> gpt-4o-mini-2024-07-18",
        "  operation chat",
        "  response  chatcmpl-1",
        "  finish    tool_calls",
        "  usage     input 63 (cached 32)   output 15 (4 reasoning)   total 78",
        "  cost      $0.000012",
        "  settings  temperature=0.2",
        "  tags      demo",
        '  metadata  {"feature": "weather"}',
        "",
        "input",
        "  [system]",
        "    Be brief.",
        "  [user]",
        "    Weather in Paris?",
        "",
        "output",
        "  [assistant] (finish: tool_calls)",
        '    -> get_weather({"city": "Paris"})  [call_1]',
        "",
        "tools",
        "  get_weather: Get the weather.",
    ]


def test_an_error_is_shown_with_its_type_and_message(
    trace: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = show(capsys, trace["second"])

    assert out.splitlines()[0] == "generation  chat gpt-4o-mini  error"
    assert "  error     RateLimitError: slow down" in out.splitlines()


def test_json_is_the_stored_record(
    trace: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = json.loads(show(capsys, trace["first"], "--json"))

    with Store(tmp_path / "llmtap.db") as store:
        assert printed == store.get(trace["first"])


def test_a_unique_prefix_is_enough(
    trace: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    printed = json.loads(show(capsys, trace["step"][:6], "--json"))

    assert printed["id"] == trace["step"]


def test_a_trace_id_shows_the_trace_as_a_tree(
    trace: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = show(capsys, trace["trace"]).splitlines()

    assert lines[0] == (
        f"trace {trace['trace']}   5 records, 2 generations   tokens in 126 out 30   cost $0.000025"
    )
    assert [line.split()[0:2] for line in lines[4:]] == [
        ["agent", "agent"],
        ["retrieve", "retrieval"],
        ["ChatOpenAI", "llm"],
        ["chat", "gpt-4o-mini"],
        ["chat", "gpt-4o-mini"],
    ]
    indents = [len(line) - len(line.lstrip()) for line in lines[4:]]
    assert indents == [0, 2, 2, 4, 2]
    assert lines[7].split()[-6:] == [
        "gpt-4o-mini-2024-07-18",
        "800.0ms",
        "63",
        "15",
        "ok",
        trace["first"],
    ]


def test_trace_json_nests_children_under_their_parents(
    trace: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    printed = json.loads(show(capsys, trace["trace"][:10], "--trace", "--json"))

    def shape(node: dict[str, Any]) -> Any:
        return (node["kind"], [shape(child) for child in node["children"]])

    assert printed["trace_id"] == trace["trace"]
    assert [shape(root) for root in printed["records"]] == [
        ("agent", [("retrieval", []), ("llm", [("generation", [])]), ("generation", [])])
    ]


def test_an_unknown_id_says_so(
    trace: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "zzzz"]) == 1

    assert capsys.readouterr().err == (
        f"llmtap: No record or trace id starts with 'zzzz' in {tmp_path / 'llmtap.db'}.\n"
    )


def test_an_ambiguous_prefix_lists_the_candidates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with recording(tmp_path / "llmtap.db"):
        records = [generation() for _ in range(40)]
    by_first = {}
    for record in records:
        by_first.setdefault(record.id[0], []).append(record.id)
    prefix, shared = next((k, v) for k, v in by_first.items() if len(v) > 1)

    assert main(["show", prefix]) == 1

    err = capsys.readouterr().err
    assert f"{prefix!r} starts more than one record or trace id" in err
    assert all(f"record {ident}" in err for ident in sorted(shared)[:2])
    assert err.endswith("type more of it.\n")
