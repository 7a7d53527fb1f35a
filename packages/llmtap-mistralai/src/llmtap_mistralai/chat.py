"""Chat and agents completions: the request each keeps, and the response mapped later.

On the caller's path llmtap only snapshots the request (messages and tools are copied,
because callers append to them afterwards). Mapping the response to GenAI messages and
usage runs in a resolver on the background worker. FIM responses have the same shape
(`FIMCompletionResponse` holds chat choices), so `resolve_completion` serves all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.messages import Message, tool_definitions
from llmtap.record import Record
from llmtap_mistralai.messages import message, messages, value
from llmtap_mistralai.request import Request
from llmtap_mistralai.usage import normalise

# Sampling and output controls shared by chat and agents requests.
_COMMON_SETTINGS = frozenset(
    {
        "max_tokens",
        "min_tokens",
        "stop",
        "random_seed",
        "response_format",
        "tool_choice",
        "presence_penalty",
        "frequency_penalty",
        "repetition_penalty",
        "top_k",
        "logprobs",
        "top_logprobs",
        "n",
        "prediction",
        "parallel_tool_calls",
        "reasoning_effort",
        "prompt_mode",
        "prompt_cache_key",
        "service_tier",
    }
)


class ChatRequest(Request):
    """A chat request; messages and tools are copied because callers append to them."""

    __slots__ = ("messages", "tools")

    SETTINGS = _COMMON_SETTINGS | {"temperature", "top_p", "safe_prompt"}

    def __init__(self, instance: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(instance, kwargs)
        self.messages = self.snapshot("messages")
        self.tools = self.snapshot("tools")

    def apply(self, record: Record) -> None:
        super().apply(record)
        record.input = messages(self.messages)
        record.tools = tool_definitions(self.tools)


class AgentsRequest(ChatRequest):
    """An agents request: the agent, not the caller, chooses the model and sampling."""

    __slots__ = ()

    SETTINGS = _COMMON_SETTINGS

    def apply(self, record: Record) -> None:
        super().apply(record)
        agent_id = value(self.kwargs, "agent_id")
        if agent_id is not None:
            record.metadata["mistral.agent_id"] = agent_id


def finish_output(record: Record, output: list[Message], usage: Any) -> None:
    """Output messages, tool calls, finish reason and usage onto the record."""
    record.output = output
    tool_calls = [p for m in output for p in m["parts"] if p["type"] == "tool_call"]
    record.tool_calls = tool_calls or None
    record.finish_reason = output[0]["finish_reason"] if output else None
    record.usage, record.provider_usage = normalise(usage)


def resolve_completion(request: Request, response: Any, record: Record) -> None:
    """Fill a record from a `ChatCompletionResponse` or `FIMCompletionResponse` (worker)."""
    request.apply(record)
    record.response_id = value(response, "id")
    record.response_model = value(response, "model")
    output = []
    for choice in value(response, "choices") or ():
        generated = message(value(choice, "message") or {})
        generated["role"] = "assistant"
        generated["finish_reason"] = value(choice, "finish_reason")
        output.append(generated)
    finish_output(record, output, value(response, "usage"))
