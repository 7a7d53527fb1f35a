"""The wrappers installed on the SDK's resource methods.

Each wrapper does three things and nothing else: start a record, call through exactly
as the caller asked (plus `stream_options` when allowed), and finish the record from
what came back. Any fault in llmtap's own code falls back to the plain call; the SDK's
exceptions always propagate unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from llmtap.faults import report_fault
from llmtap.generation import start_generation, tracing_enabled
from llmtap.streams import AsyncStreamProxy, StreamRecorder, SyncStreamProxy
from llmtap_openai.chat import (
    ChatRequest,
    ChatStreamRecorder,
    given,
    resolve_completion,
    wants_usage,
)
from llmtap_openai.endpoint import StreamUsagePolicy, host_of, provider_of

INTEGRATION = "llmtap-openai"
RAW_HEADER = "X-Stainless-Raw-Response"


class ChatCall:
    """One `chat.completions.create` call in flight."""

    __slots__ = ("generation", "host", "injected", "kwargs", "policy", "raw_mode", "request")

    def __init__(self, instance: Any, kwargs: dict[str, Any], policy: StreamUsagePolicy):
        client = getattr(instance, "_client", None)
        stream = kwargs.get("stream") is True
        headers = kwargs.get("extra_headers")
        self.raw_mode = headers.get(RAW_HEADER) if isinstance(headers, Mapping) else None
        self.policy = policy
        self.kwargs = kwargs
        self.injected = False
        # Only streams need the host now (to decide on stream_options); for other calls
        # the worker reads it, keeping the caller's path short.
        self.host = host_of(client) if stream else None
        if (
            stream
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
        self.request = ChatRequest(client, kwargs)
        self.generation = start_generation(
            operation="chat",
            provider=provider_of(client),
            integration=INTEGRATION,
            request_model=model if given(model) else None,
            server_address=self.host,
            stream=stream,
        )

    def retry_without_injection(self, error: BaseException) -> bool:
        """True when the server refused the `stream_options` llmtap added."""
        if not (self.injected and self.policy.is_rejection(error)):
            return False
        self.policy.remember_rejection(self.host)
        self.injected = False
        return True

    def fail(self, error: BaseException) -> None:
        try:
            self.generation.record.resolver = partial(_resolve_request_only, self.request)
            self.generation.finish("error", error)
        except Exception as exc:
            report_fault("openai.chat.fail", exc)

    def finish(self, result: Any, is_async: bool) -> Any:
        """Record the result and return what the caller gets: the result or a stream proxy."""
        try:
            return self._finish(result, is_async)
        except Exception as exc:
            report_fault("openai.chat.finish", exc)
            return result

    def _finish(self, result: Any, is_async: bool) -> Any:
        generation = self.generation
        if self.raw_mode is not None:
            return self._finish_raw(result)
        if generation.record.stream:
            recorder = ChatStreamRecorder(generation, self.request, self.injected)
            return _proxy(result, recorder, is_async)
        generation.record.resolver = partial(resolve_completion, self.request, result)
        generation.finish("ok")
        return result

    def _finish_raw(self, result: Any) -> Any:
        generation = self.generation
        if self.raw_mode == "true" and not generation.record.stream:
            # LegacyAPIResponse.parse() caches, so the caller's own parse() costs nothing.
            generation.record.resolver = partial(resolve_completion, self.request, result.parse())
        else:
            generation.record.metadata["openai.response_mode"] = (
                "raw_stream" if self.raw_mode == "true" else "streaming_response"
            )
            generation.record.resolver = partial(_resolve_request_only, self.request)
        generation.finish("ok")
        return result


def _resolve_request_only(request: ChatRequest, record: Any) -> None:
    request.apply(record)


def _proxy(result: Any, recorder: StreamRecorder, is_async: bool) -> Any:
    return AsyncStreamProxy(result, recorder) if is_async else SyncStreamProxy(result, recorder)


Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def sync_chat_create(policy: StreamUsagePolicy) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not tracing_enabled():
            return wrapped(*args, **kwargs)
        try:
            call = ChatCall(instance, kwargs, policy)
        except Exception as exc:
            report_fault("openai.chat.start", exc)
            return wrapped(*args, **kwargs)
        try:
            try:
                result = wrapped(*args, **call.kwargs)
            except Exception as error:
                if not call.retry_without_injection(error):
                    raise
                result = wrapped(*args, **kwargs)
        except BaseException as error:
            call.fail(error)
            raise
        return call.finish(result, is_async=False)

    return wrapper


def async_chat_create(policy: StreamUsagePolicy) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not tracing_enabled():
            return await wrapped(*args, **kwargs)
        try:
            call = ChatCall(instance, kwargs, policy)
        except Exception as exc:
            report_fault("openai.chat.start", exc)
            return await wrapped(*args, **kwargs)
        try:
            try:
                result = await wrapped(*args, **call.kwargs)
            except Exception as error:
                if not call.retry_without_injection(error):
                    raise
                result = await wrapped(*args, **kwargs)
        except BaseException as error:
            call.fail(error)
            raise
        return call.finish(result, is_async=True)

    return wrapper
