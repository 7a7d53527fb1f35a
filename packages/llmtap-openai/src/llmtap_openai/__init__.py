"""llmtap integration for the OpenAI Python SDK.

    import llmtap
    llmtap.instrument_openai()

Records every call made through `OpenAI`, `AsyncOpenAI`, `AzureOpenAI`,
`AsyncAzureOpenAI` and OpenAI-compatible servers; see `surfaces.py` for what is hooked.
"""

from __future__ import annotations

import threading

from llmtap.patching import Patcher
from llmtap_openai.endpoint import StreamUsageMode, StreamUsagePolicy
from llmtap_openai.helpers import CLOSE_TARGETS
from llmtap_openai.raw import PARSE_TARGETS
from llmtap_openai.surfaces import TARGETS
from llmtap_openai.wrappers import async_wrapper, sync_wrapper

__all__ = ["instrument", "is_instrumented", "uninstrument"]

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
        for module, sync_name, async_name, surface in TARGETS:
            _patcher.wrap(module, sync_name, sync_wrapper(surface, policy))
            _patcher.wrap(module, async_name, async_wrapper(surface, policy))
        for module, name, hook in (*PARSE_TARGETS, *CLOSE_TARGETS):
            _patcher.wrap(module, name, hook)


def uninstrument() -> None:
    """Put the SDK back exactly as it was."""
    with _lock:
        _patcher.restore()


def is_instrumented() -> bool:
    return _patcher.active
