"""Calls in flight, keyed by LiteLLM's `litellm_call_id`, and exactly one record each.

A call is opened before the provider request, in the caller's context, so a provider
layer llmtap also records (LiteLLM's OpenAI provider calls the `openai` SDK) becomes
its child. It ends at the first success or failure event LiteLLM delivers; LiteLLM
delivers more than one on some paths (sync and async handlers both firing, a logger
registered in several lists, streams finishing twice), so ended ids are remembered in
a bounded set and later events for them are ignored.

Both structures are bounded: a call whose end never arrives is evicted from the open
map (and recorded as incomplete), and the set of ended ids forgets the oldest first.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from llmtap.generation import Generation, new_record
from llmtap.handoff import FrameworkCall, open_framework_call
from llmtap.runs import DEFAULT_LIMIT, OpenRuns
from llmtap_litellm import mapping

ENDED_LIMIT = 10_000


class OpenCall:
    """A call started but not ended, and whether a provider layer recorded it."""

    __slots__ = ("claimed", "generation", "handoff", "stream", "thread", "waited_on")

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.handoff: FrameworkCall | None = None
        self.thread = 0
        self.claimed = False
        self.waited_on = False
        # The caller's sync stream (LiteLLM's CustomStreamWrapper), weakly.
        self.stream: weakref.ref[Any] | None = None

    def open_handoff(self) -> None:
        """Let provider-layer calls made from here on in this context attach to it."""
        if self.handoff is None or not self.handoff.open:
            self.handoff = open_framework_call(self.generation)
            self.thread = threading.get_ident()

    def close_handoff(self) -> None:
        if self.handoff is not None and self.handoff.open:
            self.claimed = self.handoff.close() or self.claimed


class Calls:
    """Open calls and recently ended call ids, shared by every llmtap logger."""

    def __init__(self, limit: int = DEFAULT_LIMIT, ended_limit: int = ENDED_LIMIT) -> None:
        self.open: OpenRuns[str, OpenCall] = OpenRuns(self._abandon, limit=limit)
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._ended_limit = ended_limit
        self._lock = threading.Lock()
        self._delivered = threading.Condition(self._lock)
        self._awaited = 0
        self._streams: dict[OpenCall, None] = {}
        self.repeats = 0  # end events dropped because the call had already ended

    def begin(self, kwargs: Mapping[str, Any]) -> OpenCall | None:
        """Open the call (once; a retry re-opens its handoff) in the current context."""
        call_id = kwargs.get("litellm_call_id")
        if not isinstance(call_id, str):
            return None
        with self._lock:
            if call_id in self._ended:
                return None
        call = self.open.get(call_id)
        if call is None:
            record = new_record(mapping.operation_of(kwargs), "generation")
            record.integration = mapping.INTEGRATION
            call = OpenCall(Generation(record))
            self.open.put(call_id, call)
        call.open_handoff()
        return call

    def provider_returned(self, kwargs: Mapping[str, Any], *, sync: bool) -> None:
        """The provider request is done: nothing made later joins the call. A sync
        call's result reaches the caller before LiteLLM logs it (on a background
        thread), so `wait()` waits for it: at once for a response, and for a stream
        once it has been read to its end."""
        call_id = kwargs.get("litellm_call_id")
        call = self.open.get(call_id) if isinstance(call_id, str) else None
        if call is None or call.thread != threading.get_ident():
            return  # an event from another thread of an async call: not the caller's
        call.close_handoff()
        if not sync:
            return
        with self._lock:
            if not kwargs.get("stream"):
                if not call.waited_on:
                    call.waited_on = True
                    self._awaited += 1
            elif call.stream is None:
                stream = kwargs.get("original_response")
                if hasattr(stream, "sent_last_chunk"):
                    call.stream = weakref.ref(stream)
                    self._streams[call] = None

    def end(self, kwargs: Mapping[str, Any]) -> tuple[bool, OpenCall | None]:
        """(first end of this call?, its open state if it was opened)."""
        call_id = kwargs.get("litellm_call_id")
        if not isinstance(call_id, str):
            return True, None
        with self._lock:
            if call_id in self._ended:
                self.repeats += 1
                return False, None
            self._ended[call_id] = None
            while len(self._ended) > self._ended_limit:
                self._ended.popitem(last=False)
        call = self.open.pop(call_id)
        if call is not None:
            call.close_handoff()
            self._delivered_one(call)
        return True, call

    def _delivered_one(self, call: OpenCall) -> None:
        with self._lock:
            self._streams.pop(call, None)
            if call.waited_on:
                call.waited_on = False
                self._awaited -= 1
            self._delivered.notify_all()

    def wait(self, timeout: float | None) -> bool:
        """Wait until LiteLLM has logged every sync call already returned to its caller,
        and every sync stream already read to its end; False on timeout."""
        with self._lock:
            return self._delivered.wait_for(self._all_delivered, timeout)

    def _all_delivered(self) -> bool:
        return self._awaited <= 0 and not any(
            getattr(call.stream and call.stream(), "sent_last_chunk", False) is True
            for call in self._streams
        )

    def abandon_all(self) -> None:
        for call in self.open.clear():
            self._abandon(call)

    def _abandon(self, call: OpenCall) -> None:
        """A call whose end never came: recorded as incomplete rather than lost."""
        self._delivered_one(call)
        call.close_handoff()
        call.generation.finish(status="incomplete")

    def __len__(self) -> int:
        return len(self.open)

    @property
    def ended_count(self) -> int:
        return len(self._ended)


CALLS = Calls()
