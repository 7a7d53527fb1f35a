"""llmtap integration for the OpenAI Python SDK.

    import llmtap
    llmtap.instrument_openai()

Records every `chat.completions.create` call (sync, async, streamed) on `OpenAI`,
`AsyncOpenAI`, `AzureOpenAI` and OpenAI-compatible servers.
"""

from __future__ import annotations

import threading

from llmtap_openai.endpoint import StreamUsageMode, StreamUsagePolicy
from llmtap_openai.patching import Patcher
from llmtap_openai.wrappers import async_chat_create, sync_chat_create

__all__ = ["instrument", "is_instrumented", "uninstrument"]

_CHAT = "openai.resources.chat.completions"

_patcher = Patcher()
_lock = threading.Lock()


def instrument(
    *,
    stream_usage: StreamUsageMode | None = None,
    stream_usage_hosts: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Start recording OpenAI calls. Calling it again changes nothing.

    `stream_usage` ("auto", "always", "never"; env LLMTAP_OPENAI_STREAM_USAGE) says when
    llmtap may ask a server for usage on chat streams; `stream_usage_hosts` (env
    LLMTAP_OPENAI_STREAM_USAGE_HOSTS, comma-separated) names OpenAI-compatible hosts
    known to accept it. See `StreamUsagePolicy`.
    """
    policy = StreamUsagePolicy.from_options(stream_usage, stream_usage_hosts)
    with _lock:
        if _patcher.active:
            return
        _patcher.wrap(_CHAT, "Completions.create", sync_chat_create(policy))
        _patcher.wrap(_CHAT, "AsyncCompletions.create", async_chat_create(policy))


def uninstrument() -> None:
    """Put the SDK back exactly as it was."""
    with _lock:
        _patcher.restore()


def is_instrumented() -> bool:
    return _patcher.active
