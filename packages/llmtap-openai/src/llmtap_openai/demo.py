"""`llmtap demo`: real OpenAI SDK calls, answered from bundled recorded traffic.

No network and no API key: vcrpy replays the responses in `demo_traffic/`, the SDK
parses them as it would live ones, and llmtap records the calls into the default store.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import openai
import vcr

import llmtap
from llmtap.exporters import SQLiteExporter, default_db_path
from llmtap.store import Store
from llmtap.table import render

TRAFFIC = Path(__file__).with_name("demo_traffic")
_MATCH_ON = ["method", "scheme", "host", "port", "path"]

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}


def _replaying(name: str) -> Any:
    return vcr.use_cassette(str(TRAFFIC / f"{name}.yaml"), record_mode="none", match_on=_MATCH_ON)


def _calls(client: openai.OpenAI) -> None:
    with _replaying("demo_chat_nonstream"):
        answer = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "user", "content": "In one sentence, what does an LLM tracer record?"}
            ],
        )
    print(f"  answer: {answer.choices[0].message.content}")
    with _replaying("demo_chat_stream"):
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "In one sentence, why stream an LLM response?"}],
            stream=True,
        )
        print("  stream: ", end="")
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                print(chunk.choices[0].delta.content, end="", flush=True)
        print()
    with _replaying("demo_chat_tool_call"):
        tool_answer = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "What's the weather like in Paris right now?"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
    call = (tool_answer.choices[0].message.tool_calls or [])[0]
    print(f"  tool call: {getattr(call, 'function', call)}")


async def _async_stream() -> None:
    client = openai.AsyncOpenAI(api_key="sk-demo-not-a-real-key", max_retries=0)
    with _replaying("demo_chat_stream"):
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "In one sentence, why stream an LLM response?"}],
            stream=True,
        )
        async for _ in stream:
            pass


def run() -> int:
    path = default_db_path()
    llmtap.configure(exporters=[SQLiteExporter(path)])
    llmtap.instrument_openai()
    client = openai.OpenAI(api_key="sk-demo-not-a-real-key", max_retries=0)
    print(f"llmtap demo: replaying recorded OpenAI traffic through openai {openai.__version__}\n")
    with (
        llmtap.context(thread_id="demo-thread", user_id="demo-user", tags=["demo"]),
        llmtap.span("demo conversation", kind="chain") as span,
    ):
        _calls(client)
        asyncio.run(_async_stream())
    if not llmtap.flush(timeout=10):
        print("llmtap demo: the store did not finish writing in 10 s", flush=True)
        return 1
    with Store(path) as store:
        records = store.trace(span.trace_id or "")
    print(f"\nRecorded {len(records)} records in {path} (trace {span.trace_id}):\n")
    print(render(records))
    return 0
