"""The wrappers installed on the SDK's resource methods, one generic pair for all surfaces.

Each wrapper does three things and nothing else: start a record, call through exactly
as the caller asked (plus `stream_options` when allowed), and finish the record from
what came back. What differs between surfaces (chat, Responses, embeddings, ...) is a
`Surface`: how to snapshot the request, map a response, and read a stream. Any fault in
llmtap's own code falls back to the plain call; the SDK's exceptions always propagate
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from llmtap import calls
from llmtap.calls import Wrapper
from llmtap.faults import report_fault
from llmtap.generation import Generation, start_generation
from llmtap.record import Record
from llmtap.stainless import given, host_of
from llmtap.streams import AsyncStreamProxy, StreamRecorder, SyncStreamProxy
from llmtap_openai import raw
from llmtap_openai.chat import wants_usage
from llmtap_openai.endpoint import StreamUsagePolicy, provider_of
from llmtap_openai.request import Request, apply_request_only

INTEGRATION = "llmtap-openai"
RAW_HEADER = "X-Stainless-Raw-Response"

Resolve = Callable[[Any, Any, Record], None]
"""(request, response, record) -> None: fill the record from a response, on the worker."""

RecorderFactory = Callable[[Generation, Any, bool], StreamRecorder]
"""(generation, request, hide_usage_chunk) -> the recorder for one stream."""


@dataclass(frozen=True)
class Surface:
    """One kind of call: how its request, response and stream are read."""

    operation: str
    request: Callable[[Any, Mapping[str, Any]], Request]
    resolve: Resolve
    recorder: RecorderFactory | None = None
    stream_usage: bool = False
    """Chat-style streams, which carry usage only when `stream_options` asks for it."""


class Call:
    """One SDK call in flight."""

    __slots__ = (
        "generation",
        "host",
        "injected",
        "kwargs",
        "policy",
        "raw_mode",
        "request",
        "surface",
    )

    def __init__(
        self,
        surface: Surface,
        instance: Any,
        kwargs: Mapping[str, Any],
        *,
        policy: StreamUsagePolicy,
    ) -> None:
        client = getattr(instance, "_client", None)
        stream = kwargs.get("stream") is True
        headers = kwargs.get("extra_headers")
        self.surface = surface
        self.raw_mode = headers.get(RAW_HEADER) if isinstance(headers, Mapping) else None
        self.policy = policy
        self.request = surface.request(client, kwargs)
        # The request may have materialised a one-shot iterable the caller passed; the
        # SDK is then given the same items as a list.
        kwargs = self.kwargs = self.request.kwargs
        self.injected = False
        # Only streams need the host now (to decide on stream_options); for other calls
        # the worker reads it, keeping the caller's path short.
        self.host = host_of(client) if stream else None
        if (
            stream
            and surface.stream_usage
            and self.raw_mode is None
            and not wants_usage(kwargs.get("stream_options"))
            and policy.allows(client, self.host)
        ):
            stream_options = kwargs.get("stream_options")
            merged = dict(stream_options) if isinstance(stream_options, Mapping) else {}
            merged["include_usage"] = True
            self.kwargs = {**kwargs, "stream_options": merged}
            self.injected = True
        model = kwargs.get("model")
        self.generation = start_generation(
            operation=surface.operation,
            provider=provider_of(client),
            integration=INTEGRATION,
            request_model=model if given(model) and isinstance(model, str) else None,
            server_address=self.host,
            stream=stream,
        )

    @property
    def call_kwargs(self) -> Mapping[str, Any]:
        return self.kwargs

    def retry_kwargs(self, error: Exception) -> Mapping[str, Any] | None:
        """The caller's own arguments when the server refused the `stream_options`
        llmtap added: the call is made once more as the caller made it."""
        if not (self.injected and self.policy.is_rejection(error)):
            return None
        self.policy.remember_rejection(self.host)
        self.injected = False
        return self.request.kwargs

    def fail(self, error: BaseException) -> None:
        try:
            self.generation.record.resolver = partial(apply_request_only, self.request)
            self.generation.finish("error", error)
        except Exception as exc:
            report_fault("openai.fail", exc)

    def finish(self, result: Any, is_async: bool) -> Any:
        """Record the result and return what the caller gets: the result or a stream proxy."""
        try:
            if self.raw_mode is not None:
                return raw.follow(self, result, is_async, self.raw_mode)
            if self.generation.record.stream:
                return self.stream_proxy(result, is_async)
            self.finish_with(result)
        except Exception as exc:
            report_fault(f"openai.{self.surface.operation}.finish", exc)
        return result

    def finish_with(self, response: Any) -> None:
        """Finish from a parsed, non-stream response."""
        generation = self.generation
        generation.record.resolver = partial(self.surface.resolve, self.request, response)
        generation.finish("ok")

    def finish_unread(self, mode: str) -> None:
        """Finish a call whose body the caller read by other means than `parse()`."""
        generation = self.generation
        generation.record.metadata["openai.response_mode"] = mode
        generation.record.resolver = partial(apply_request_only, self.request)
        generation.finish("ok")

    def stream_proxy(self, stream: Any, is_async: bool) -> Any:
        factory = self.surface.recorder
        if factory is None:  # a surface that never streams: nothing to read per chunk
            self.finish_unread("stream")
            return stream
        recorder = factory(self.generation, self.request, self.injected)
        return AsyncStreamProxy(stream, recorder) if is_async else SyncStreamProxy(stream, recorder)


def sync_wrapper(surface: Surface, policy: StreamUsagePolicy) -> Wrapper:
    return calls.sync_wrapper(partial(Call, surface, policy=policy), f"openai.{surface.operation}")


def async_wrapper(surface: Surface, policy: StreamUsagePolicy) -> Wrapper:
    return calls.async_wrapper(partial(Call, surface, policy=policy), f"openai.{surface.operation}")
