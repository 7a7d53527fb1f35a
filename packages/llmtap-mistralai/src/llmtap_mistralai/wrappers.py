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

from llmtap import calls
from llmtap.faults import report_fault
from llmtap.generation import start_generation
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

    def __init__(
        self, surface: Surface, instance: Any, kwargs: Mapping[str, Any], *, stream: bool
    ) -> None:
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

    @property
    def call_kwargs(self) -> Mapping[str, Any]:
        return self.request.kwargs

    def retry_kwargs(self, error: Exception) -> None:
        return None  # llmtap adds nothing to a Mistral request that could be refused

    def finish(self, result: Any, is_async: bool) -> Any:
        """What the caller gets: a recording stream, or the response untouched."""
        if self.generation.record.stream:
            return self.proxy(result, is_async)
        try:
            generation = self.generation
            generation.record.resolver = partial(self.surface.resolve, self.request, result)
            generation.finish("ok")
        except Exception as exc:
            report_fault(f"mistralai.{self.surface.operation}.finish", exc)
        return result

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


def sync_wrapper(surface: Surface, stream: bool) -> Wrapper:
    return calls.sync_wrapper(
        partial(Call, surface, stream=stream), f"mistralai.{surface.operation}"
    )


def async_wrapper(surface: Surface, stream: bool) -> Wrapper:
    return calls.async_wrapper(
        partial(Call, surface, stream=stream), f"mistralai.{surface.operation}"
    )
