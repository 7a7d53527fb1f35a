"""Reading from the provider SDK what LlamaIndex's integrations drop.

LlamaIndex's OpenAI embedding class keeps only the vectors (no usage), and its
Anthropic LLM never yields a stream's `message_start` event (the response id, the
model and the input and cache token counts). With only the LlamaIndex integration on,
these taps read them from the SDK call made inside a LlamaIndex model call and hand
them to that call's record. They create no record, change nothing the caller sees, and
do nothing for SDK calls made outside LlamaIndex. They are installed while LlamaIndex
is instrumented (`instrument(provider_taps=False)` turns them off).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import wrapt

from llmtap.faults import report_fault
from llmtap.patching import Patcher
from llmtap_llamaindex.embeddings import EmbeddingCall
from llmtap_llamaindex.llm import LLMCall

C = TypeVar("C")

if TYPE_CHECKING:
    _Proxy = wrapt.ObjectProxy[Any]
else:  # wrapt 1.x proxies are not subscriptable at run time
    _Proxy = wrapt.ObjectProxy


class Tap(Generic[C]):
    """Wraps one sync and one async SDK method; `_seen` gets each result."""

    MODULE = ""
    SYNC = ""
    ASYNC = ""

    def __init__(self, find_call: Callable[[], C | None]) -> None:
        self._find_call = find_call
        self._patcher = Patcher()

    def install(self) -> None:
        """Wrap the SDK's methods; a no-op when the SDK is not installed."""
        if self._patcher.active:
            return
        self._patcher.wrap(self.MODULE, self.SYNC, self._sync)
        self._patcher.wrap(self.MODULE, self.ASYNC, self._async)

    def remove(self) -> None:
        self._patcher.restore()

    def _sync(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        return self._guarded(wrapped(*args, **kwargs), kwargs)

    def _async(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        async def run() -> Any:
            return self._guarded(await wrapped(*args, **kwargs), kwargs)

        return run()

    def _guarded(self, result: Any, kwargs: dict[str, Any]) -> Any:
        try:
            call = self._find_call()
            if call is not None:
                return self._seen(call, result, kwargs)
        except Exception as exc:
            report_fault("llamaindex.tap", exc)
        return result

    def _seen(self, call: C, result: Any, kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError


class EmbeddingUsageTap(Tap[EmbeddingCall]):
    """OpenAI `Embeddings.create`: the response's usage and model."""

    MODULE = "openai.resources.embeddings"
    SYNC = "Embeddings.create"
    ASYNC = "AsyncEmbeddings.create"

    def _seen(self, call: EmbeddingCall, result: Any, kwargs: dict[str, Any]) -> Any:
        call.add_provider_response(result)
        return result


class AnthropicStreamTap(Tap[LLMCall]):
    """Anthropic `Messages.create(stream=True)`: its events, as LlamaIndex reads them."""

    MODULE = "anthropic.resources.messages"
    SYNC = "Messages.create"
    ASYNC = "AsyncMessages.create"

    def _seen(self, call: LLMCall, result: Any, kwargs: dict[str, Any]) -> Any:
        if not kwargs.get("stream"):
            return result
        return _ObservedStream(result, call)


class _ObservedStream(_Proxy):
    """The SDK's stream, unchanged for its reader; each event is shown to the call."""

    def __init__(self, stream: Any, call: LLMCall) -> None:
        super().__init__(stream)
        self._self_call = call

    def __iter__(self) -> Iterator[Any]:
        for event in self.__wrapped__:
            self._self_observe(event)
            yield event

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for event in self.__wrapped__:
            self._self_observe(event)
            yield event

    def _self_observe(self, event: Any) -> None:
        try:
            self._self_call.on_provider_event(event)
        except Exception as exc:
            report_fault("llamaindex.tap", exc)
