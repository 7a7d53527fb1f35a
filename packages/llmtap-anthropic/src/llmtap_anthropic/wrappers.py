"""The wrappers on `messages.create` and `messages.parse` (first-party and beta, sync and async).

Each wrapper starts a record, calls through exactly as the caller asked, and finishes
the record from what came back: a `Message`, a stream (returned as a recording proxy),
or a raw response (followed until the caller parses it). A fault in llmtap's own code
falls back to the plain call; the SDK's exceptions always propagate unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap import calls
from llmtap.faults import report_fault
from llmtap.generation import Generation, start_generation
from llmtap.streams import AsyncStreamProxy, SyncStreamProxy
from llmtap_anthropic import raw
from llmtap_anthropic.endpoint import provider_of
from llmtap_anthropic.request import MessagesRequest, apply_request_only
from llmtap_anthropic.response import resolve_message
from llmtap_anthropic.stream import MessageStreamRecorder

INTEGRATION = "llmtap-anthropic"
OPERATION = "chat"
RAW_HEADER = "X-Stainless-Raw-Response"


class Call:
    """One Messages API call in flight."""

    __slots__ = ("generation", "raw_mode", "request")

    def __init__(self, instance: Any, kwargs: Mapping[str, Any], stream: bool) -> None:
        client = getattr(instance, "_client", None)
        headers = kwargs.get("extra_headers")
        # `is not None` first: an isinstance check against the Mapping ABC is slow.
        raw_mode = None
        if headers is not None and isinstance(headers, Mapping):
            raw_mode = headers.get(RAW_HEADER)
        self.raw_mode = raw_mode
        self.request = MessagesRequest(client, kwargs)
        self.generation: Generation = start_generation(
            operation=OPERATION,
            provider=provider_of(client),
            integration=INTEGRATION,
            request_model=self.request.model,
            stream=stream,
        )

    @property
    def call_kwargs(self) -> Mapping[str, Any]:
        return self.request.kwargs

    def retry_kwargs(self, error: Exception) -> None:
        return None  # llmtap adds nothing to an Anthropic request that could be refused

    def fail(self, error: BaseException) -> None:
        try:
            self.generation.record.resolver = partial(apply_request_only, self.request)
            self.generation.finish("error", error)
        except Exception as exc:
            report_fault("anthropic.fail", exc)

    def finish(self, result: Any, is_async: bool) -> Any:
        """Record the result and return what the caller gets: the result or a stream proxy."""
        try:
            if self.raw_mode is not None:
                return raw.follow(self, result, is_async, self.raw_mode)
            if self.generation.record.stream:
                return self.stream_proxy(result, is_async)
            self.finish_with(result)
        except Exception as exc:
            report_fault("anthropic.finish", exc)
        return result

    def finish_with(self, message: Any) -> None:
        """Finish from a parsed, non-stream `Message`."""
        self.generation.record.resolver = partial(resolve_message, self.request, message)
        self.generation.finish("ok")

    def finish_unread(self, mode: str) -> None:
        """Finish a call whose body the caller read by other means than `parse()`."""
        generation = self.generation
        generation.record.metadata["anthropic.response_mode"] = mode
        generation.record.resolver = partial(apply_request_only, self.request)
        generation.finish("ok")

    def stream_proxy(self, stream: Any, is_async: bool) -> Any:
        recorder = MessageStreamRecorder(self.generation, self.request)
        return AsyncStreamProxy(stream, recorder) if is_async else SyncStreamProxy(stream, recorder)


def start(instance: Any, kwargs: Mapping[str, Any], stream: bool) -> Call | None:
    """A new call, or None (fault counted) when llmtap cannot record it."""
    try:
        return Call(instance, kwargs, stream)
    except Exception as exc:
        report_fault("anthropic.start", exc)
        return None


def _start(instance: Any, kwargs: Mapping[str, Any]) -> Call:
    return Call(instance, kwargs, kwargs.get("stream") is True)


sync_wrapper = calls.sync_wrapper(_start, "anthropic")
async_wrapper = calls.async_wrapper(_start, "anthropic")
