"""The wrappers installed on the SDK's resource methods, one generic set for all surfaces.

Each wrapper does three things and nothing else: start a record, call through exactly as
the caller asked, and finish the record from what came back. Whether a call streams is
known from the method (`stream`, `stream_async`), never from its arguments. What differs
between surfaces (chat, agents, FIM, embeddings) is a `Surface`: how to snapshot the
request and map the response. Any fault in llmtap's own code falls back to the plain
call; the SDK's exceptions always propagate unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from llmtap.faults import report_fault
from llmtap.generation import start_generation, tracing_enabled
from llmtap.patching import Wrapper
from llmtap.record import Record
from llmtap_mistralai.request import Request, apply_request_only
from llmtap_mistralai.streams import (
    ChatStreamRecorder,
    EventStreamAsyncProxy,
    EventStreamProxy,
)

INTEGRATION = "llmtap-mistralai"
PROVIDER = "mistral_ai"
"""The OpenTelemetry GenAI `gen_ai.provider.name` for Mistral AI."""

Resolve = Callable[[Any, Any, Record], None]
"""(request, response, record) -> None: fill the record from a response, on the worker."""


@dataclass(frozen=True)
class Surface:
    """One kind of call: its operation, how its request is kept and its response read."""

    operation: str
    request: Callable[[Any, Mapping[str, Any]], Request]
    resolve: Resolve


class Call:
    """One SDK call in flight."""

    __slots__ = ("generation", "request", "surface")

    def __init__(self, surface: Surface, instance: Any, kwargs: Mapping[str, Any], stream: bool):
        self.surface = surface
        self.request = surface.request(instance, kwargs)
        model = kwargs.get("model")
        self.generation = start_generation(
            operation=surface.operation,
            provider=PROVIDER,
            integration=INTEGRATION,
            request_model=model if isinstance(model, str) else None,
            stream=stream,
        )

    def fail(self, error: BaseException) -> None:
        try:
            self.generation.record.resolver = partial(apply_request_only, self.request)
            self.generation.finish("error", error)
        except Exception as exc:
            report_fault("mistralai.fail", exc)

    def finish(self, response: Any) -> Any:
        """Record a non-stream response; the caller gets it untouched."""
        try:
            generation = self.generation
            generation.record.resolver = partial(self.surface.resolve, self.request, response)
            generation.finish("ok")
        except Exception as exc:
            report_fault(f"mistralai.{self.surface.operation}.finish", exc)
        return response

    def proxy(self, stream: Any, is_async: bool) -> Any:
        """The stream the caller gets: the SDK's, recording itself as it is read."""
        try:
            recorder = ChatStreamRecorder(self.generation, self.request)
            if is_async:
                return EventStreamAsyncProxy(stream, recorder)
            return EventStreamProxy(stream, recorder)
        except Exception as exc:
            report_fault(f"mistralai.{self.surface.operation}.stream", exc)
            # Still one record for the call: what was asked, with nothing read back.
            self.generation.record.resolver = partial(apply_request_only, self.request)
            self.generation.finish("incomplete")
            return stream


def _start(surface: Surface, instance: Any, kwargs: Mapping[str, Any], stream: bool) -> Call | None:
    try:
        return Call(surface, instance, kwargs, stream)
    except Exception as exc:
        report_fault(f"mistralai.{surface.operation}.start", exc)
        return None


def sync_wrapper(surface: Surface, stream: bool) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not tracing_enabled():
            return wrapped(*args, **kwargs)
        call = _start(surface, instance, kwargs, stream)
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **call.request.kwargs)
        except BaseException as error:
            call.fail(error)
            raise
        return call.proxy(result, is_async=False) if stream else call.finish(result)

    return wrapper


def async_wrapper(surface: Surface, stream: bool) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not tracing_enabled():
            return await wrapped(*args, **kwargs)
        call = _start(surface, instance, kwargs, stream)
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            result = await wrapped(*args, **call.request.kwargs)
        except BaseException as error:
            call.fail(error)
            raise
        return call.proxy(result, is_async=True) if stream else call.finish(result)

    return wrapper
