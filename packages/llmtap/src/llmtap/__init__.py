"""llmtap: record every LLM call your application makes.

    import llmtap
    llmtap.instrument_openai()          # once, at start-up

Records go to an embedded SQLite store by default (`llmtap` command reads it); see
`llmtap.configure()` for exporters, content capture, redaction and sampling.
"""

from __future__ import annotations

from typing import Any

from llmtap.context import bind_context, context
from llmtap.cost import Price
from llmtap.integrations import (
    IntegrationNotInstalled,
    instrument_all,
    instrument_integration,
    load_attribute,
)
from llmtap.integrations import uninstrument_integration as _uninstrument
from llmtap.manual import log_generation
from llmtap.pipeline import PIPELINE, configure
from llmtap.record import Record, Usage
from llmtap.spans import Span, span, step

__all__ = [
    "IntegrationNotInstalled",
    "Price",
    "Record",
    "Span",
    "Usage",
    "bind_context",
    "configure",
    "context",
    "flush",
    "instrument",
    "instrument_anthropic",
    "instrument_langchain",
    "instrument_litellm",
    "instrument_llamaindex",
    "instrument_mistralai",
    "instrument_openai",
    "langchain_callback",
    "litellm_failure_callback",
    "litellm_logger",
    "litellm_success_callback",
    "log_generation",
    "span",
    "stats",
    "step",
    "uninstrument_anthropic",
    "uninstrument_langchain",
    "uninstrument_litellm",
    "uninstrument_llamaindex",
    "uninstrument_mistralai",
    "uninstrument_openai",
]


def flush(timeout: float | None = 10.0) -> bool:
    """Export everything recorded so far; False if `timeout` seconds were not enough."""
    return PIPELINE.flush(timeout)


def stats() -> dict[str, Any]:
    """Counts of queued, exported, dropped, sampled-out and failed records, and faults."""
    return PIPELINE.stats()


def instrument() -> list[str]:
    """Turn on every installed llmtap integration; returns their names."""
    return instrument_all()


def instrument_openai(**options: Any) -> None:
    """Record every OpenAI SDK call (all clients, including ones already created)."""
    instrument_integration("openai", **options)


def uninstrument_openai() -> None:
    """Restore the OpenAI SDK exactly as it was."""
    _uninstrument("openai")


def instrument_anthropic(**options: Any) -> None:
    """Record every Anthropic SDK call (Anthropic, AsyncAnthropic, Bedrock and Vertex clients)."""
    instrument_integration("anthropic", **options)


def uninstrument_anthropic() -> None:
    """Restore the Anthropic SDK exactly as it was."""
    _uninstrument("anthropic")


def instrument_mistralai(**options: Any) -> None:
    """Record every Mistral SDK call (chat, FIM, agents, embeddings; sync and async)."""
    instrument_integration("mistralai", **options)


def uninstrument_mistralai() -> None:
    """Restore the Mistral SDK exactly as it was."""
    _uninstrument("mistralai")


def langchain_callback(**options: Any) -> Any:
    """A LangChain callback handler: pass it as `config={"callbacks": [handler]}`."""
    return load_attribute("langchain", "callback_handler")(**options)


def instrument_langchain(**options: Any) -> None:
    """Record every LangChain run in the process, through langchain-core's global hook."""
    instrument_integration("langchain", **options)


def uninstrument_langchain() -> None:
    """Stop recording LangChain runs that `instrument_langchain()` turned on."""
    _uninstrument("langchain")


def instrument_llamaindex(**options: Any) -> None:
    """Record LlamaIndex queries, retrievals, LLM calls, embeddings and agents."""
    instrument_integration("llamaindex", **options)


def uninstrument_llamaindex() -> None:
    """Remove llmtap's LlamaIndex span and event handlers."""
    _uninstrument("llamaindex")


def litellm_logger(**options: Any) -> Any:
    """A LiteLLM `CustomLogger`: `litellm.callbacks = [llmtap.litellm_logger()]`."""
    return load_attribute("litellm", "logger")(**options)


def instrument_litellm(**options: Any) -> None:
    """Add llmtap's logger to `litellm.callbacks` (once)."""
    instrument_integration("litellm", **options)


def uninstrument_litellm() -> None:
    """Remove llmtap's logger from LiteLLM's callback lists."""
    _uninstrument("litellm")


def __getattr__(name: str) -> Any:
    # `litellm.success_callback = [llmtap.litellm_success_callback]`: loaded on first
    # use, so importing llmtap never imports LiteLLM.
    if name == "litellm_success_callback":
        return load_attribute("litellm", "SUCCESS_CALLBACK")
    if name == "litellm_failure_callback":
        return load_attribute("litellm", "FAILURE_CALLBACK")
    raise AttributeError(f"module 'llmtap' has no attribute {name!r}")
