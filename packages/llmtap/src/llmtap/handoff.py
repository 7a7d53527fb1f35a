"""One record per call when a framework runs over a provider SDK llmtap also records.

A framework integration opens a `FrameworkCall` when its LLM step starts (a LangChain
chat-model run, a LlamaIndex chat, a LiteLLM call). A provider-layer generation started
in the same context while it is open becomes its child and carries the billable numbers:
it sees the exact response, cache tokens included. The framework step is then recorded
as kind `llm` without usage, so tokens are never counted twice. A step no provider layer
claimed stays the generation, so suppression can never hide a call.

The open step is set in a ContextVar and never reset with a token: frameworks start and
end runs in different contexts (callbacks, executors, generators), and a reset made in
the wrong one raises. A closed step left behind in a context is simply ignored.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

from llmtap.record import Record

if TYPE_CHECKING:
    from llmtap.generation import Generation

LLM_STEP_KIND = "llm"

_open_call: contextvars.ContextVar[FrameworkCall | None] = contextvars.ContextVar(
    "llmtap_framework_call", default=None
)


class FrameworkCall:
    """A framework's LLM step that provider-layer generations may attach to."""

    __slots__ = ("claimed", "generation", "open", "outer")

    def __init__(self, generation: Generation, outer: FrameworkCall | None) -> None:
        self.generation = generation
        self.open = True
        self.claimed = False
        self.outer = outer

    def adopt(self, record: Record) -> None:
        """Make a provider-layer record this step's child, with the step's context."""
        step = self.generation.record
        record.trace_id = step.trace_id
        record.parent_id = step.id
        record.thread_id = step.thread_id
        record.user_id = step.user_id
        record.tags = step.tags + [tag for tag in record.tags if tag not in step.tags]
        record.metadata = {**step.metadata, **record.metadata}
        self.claimed = True

    def close(self) -> bool:
        """Stop adopting. True when a provider layer recorded the call: the step's kind
        is then `llm` and the framework integration must not fill usage or cost."""
        self.open = False
        # A step opened inside another (a chat model calling a chat model) hands the
        # context back to the outer step, which may still make provider calls.
        if _open_call.get() is self:
            outer = self.outer
            while outer is not None and not outer.open:
                outer = outer.outer
            _open_call.set(outer)
        self.outer = None
        if self.claimed:
            self.generation.record.kind = LLM_STEP_KIND
        return self.claimed


def open_framework_call(generation: Generation) -> FrameworkCall:
    """Let provider-layer calls made from now on in this context attach to `generation`."""
    outer = _open_call.get()
    call = FrameworkCall(generation, outer if outer is not None and outer.open else None)
    _open_call.set(call)
    return call


def adopt_into_framework_call(record: Record) -> None:
    """Called for every provider-layer generation as it starts."""
    call = _open_call.get()
    if call is not None and call.open:
        call.adopt(record)
