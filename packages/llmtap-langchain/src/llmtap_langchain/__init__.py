"""llmtap integration for LangChain and LangGraph (langchain-core 0.3.x and 1.x).

Per call:

    handler = llmtap.langchain_callback()
    chain.invoke(inputs, config={"callbacks": [handler]})

Or for every run in the process, through langchain-core's own configure hook:

    llmtap.instrument_langchain()

Chains, chat models, LLMs, tools, retrievers, agents and LangGraph nodes become nested
records; chat-model and LLM runs become generation records, or the parents of the
provider-layer records when llmtap also instruments the SDK underneath.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

from llmtap_langchain.handler import LlmtapCallbackHandler

__all__ = [
    "LlmtapCallbackHandler",
    "callback_handler",
    "instrument",
    "is_instrumented",
    "uninstrument",
]

_lock = threading.Lock()
_global_handler: LlmtapCallbackHandler | None = None


def callback_handler(*, max_open_runs: int | None = None) -> LlmtapCallbackHandler:
    """A handler to pass as `config={"callbacks": [handler]}` (or to a constructor).

    `max_open_runs` bounds the runs it tracks at once (default 10,000): a run whose end
    never arrives is evicted, its record finished `incomplete`, and counted in
    `llmtap.stats()["evicted_runs"]`. One handler serves any number of threads, tasks
    and concurrent runs.
    """
    if max_open_runs is None:
        return LlmtapCallbackHandler()
    return LlmtapCallbackHandler(max_open_runs=max_open_runs)


def instrument(*, max_open_runs: int | None = None) -> None:
    """Record every LangChain run in the process. Calling it again changes nothing
    (except `max_open_runs`, when given).

    The handler is the default value of a ContextVar registered with langchain-core's
    `register_configure_hook`, so every thread and task sees it. A run whose callbacks
    already hold an llmtap handler is not given this one too.
    Raises ImportError when langchain-core is not installed.
    """
    global _global_handler
    from langchain_core.tracers.context import register_configure_hook

    with _lock:
        if _global_handler is None:
            handler = LlmtapCallbackHandler()
            var: ContextVar[LlmtapCallbackHandler | None] = ContextVar(
                "llmtap_langchain_handler", default=handler
            )
            # With `handle_class`, LangChain skips the hook for a run whose callbacks
            # already hold an instance of it (an llmtap handler passed explicitly).
            register_configure_hook(var, True, LlmtapCallbackHandler)
            _global_handler = handler
        if max_open_runs is not None:
            _global_handler.max_open_runs = max_open_runs
        _global_handler.enabled = True


def uninstrument() -> None:
    """Stop recording runs through the global hook; runs in flight still finish.

    langchain-core cannot remove a configure hook, and a ContextVar set to None here
    would stay None only in this context (not in threads and tasks that already have
    their own), so the global handler is switched off instead: it starts no records.
    """
    with _lock:
        if _global_handler is not None:
            _global_handler.enabled = False


def is_instrumented() -> bool:
    return _global_handler is not None and _global_handler.enabled
