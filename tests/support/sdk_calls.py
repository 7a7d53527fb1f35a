"""Making one SDK call, sync or async, and reading it to the end (shared by test modules)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openai

from support.fake_openai import http


def consume(result: Any) -> Any:
    """A stream read to the end (as a list of its chunks), or the result as it is."""
    return list(result) if isinstance(result, openai.Stream) else result


async def aconsume(result: Any) -> Any:
    if isinstance(result, openai.AsyncStream):
        return [event async for event in result]
    return result


def call(is_async: bool, make_call: Callable[[Any], Any], **client_options: Any) -> Any:
    """One call through a fresh `OpenAI` or `AsyncOpenAI` client, read to the end."""
    options = {"api_key": "sk-test", "max_retries": 0, **client_options}
    if not is_async:
        return consume(make_call(openai.OpenAI(**options)))

    async def run() -> Any:
        return await aconsume(await make_call(openai.AsyncOpenAI(**options)))

    return asyncio.run(run())


def served(respond: Callable[[Any], Any], is_async: bool) -> dict[str, Any]:
    """Client options for an in-process server answering `respond(request)`."""
    if not is_async:
        return {"http_client": http.Client(transport=http.MockTransport(respond))}

    async def arespond(request: Any) -> Any:
        return respond(request)

    return {"http_client": http.AsyncClient(transport=http.MockTransport(arespond))}
