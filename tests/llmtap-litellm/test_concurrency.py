"""Many calls at once on one logger: one record each, none lost, none merged."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import litellm

N = 25
CHAT = {
    "api_key": "sk-test",
    "api_base": "https://api.openai.com/v1",
    "model": "openai/gpt-4o-mini",
}


async def test_concurrent_acompletion(registered: None, lite: Any) -> None:
    with lite.replaying(lite.cassette("openai", "chat_nonstream_gpt4o_mini"), repeats=True):
        await asyncio.gather(
            *(litellm.acompletion(messages=lite.question, **CHAT) for _ in range(N))
        )
        records = await lite.arecords(N)
    assert len(records) == N
    assert len({r["metadata"]["litellm.call_id"] for r in records}) == N
    assert sum(r["usage"]["input_tokens"] for r in records) == 12 * N


def test_concurrent_threads(registered: None, lite: Any) -> None:
    def call() -> None:
        litellm.completion(messages=lite.question, **CHAT)

    with lite.replaying(lite.cassette("openai", "chat_nonstream_gpt4o_mini"), repeats=True):
        threads = [threading.Thread(target=call) for _ in range(N)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    records = lite.records(N)
    assert len(records) == N
    assert sum(r["usage"]["output_tokens"] for r in records) == 5 * N
