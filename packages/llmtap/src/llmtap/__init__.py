"""llmtap: record every LLM call your application makes.

    import llmtap
    llmtap.instrument_openai()          # once, at start-up

Records go to an embedded SQLite store by default (`llmtap` command reads it); see
`llmtap.configure()` for exporters, content capture, redaction and sampling.
"""

from __future__ import annotations

from typing import Any

from llmtap.context import bind_context, context
from llmtap.integrations import IntegrationNotInstalled, instrument_all, instrument_integration
from llmtap.integrations import uninstrument_integration as _uninstrument
from llmtap.manual import log_generation
from llmtap.pipeline import PIPELINE, configure
from llmtap.record import Record, Usage
from llmtap.spans import Span, span, step

__all__ = [
    "IntegrationNotInstalled",
    "Record",
    "Span",
    "Usage",
    "bind_context",
    "configure",
    "context",
    "flush",
    "instrument",
    "instrument_anthropic",
    "instrument_mistralai",
    "instrument_openai",
    "log_generation",
    "span",
    "stats",
    "step",
    "uninstrument_anthropic",
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
