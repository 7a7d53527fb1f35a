"""Chat-model and LLM runs: what their start tells, and what their result holds.

On the caller's path only the few fields a record needs at once (model, provider) are
read, and the prompt and parameters are copied shallowly (agents append to the message
list they passed); everything else is mapped by `resolve` on the worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmtap.messages import field, text_message, tool_definitions
from llmtap.record import Record
from llmtap_langchain.messages import input_messages, output_message, tool_call_parts
from llmtap_langchain.usage import from_llm_output, from_usage_metadata

# LangChain's `ls_provider` names -> OpenTelemetry GenAI provider names.
PROVIDERS = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "google_vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "google_genai": "gcp.gen_ai",
    "amazon_bedrock": "aws.bedrock",
    "amazon_bedrock_converse": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "ibm": "ibm.watsonx.ai",
    "watsonx": "ibm.watsonx.ai",
    "perplexity": "perplexity",
    "xai": "x_ai",
}

# Request parameters worth keeping (LangChain merges the model's defaults, bound
# arguments and call arguments into `invocation_params`).
SETTINGS = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "max_tokens_to_sample",
    "n",
    "seed",
    "stop",
    "stop_sequences",
    "presence_penalty",
    "frequency_penalty",
    "reasoning_effort",
    "parallel_tool_calls",
    "tool_choice",
    "service_tier",
)

_MODEL_KEYS = ("model", "model_name", "model_id", "deployment_name", "azure_deployment")


def request_model(params: Mapping[str, Any], metadata: Mapping[str, Any]) -> str | None:
    for key in _MODEL_KEYS:
        value = params.get(key)
        if isinstance(value, str) and value:
            return value
    value = metadata.get("ls_model_name")
    return value if isinstance(value, str) and value else None


def provider_of(metadata: Mapping[str, Any]) -> str | None:
    name = metadata.get("ls_provider")
    if not isinstance(name, str) or not name:
        return None
    return PROVIDERS.get(name, name)


class ModelRequest:
    """A model run's prompt and parameters, copied at its start."""

    __slots__ = ("params", "prompt")

    def __init__(self, prompt: Sequence[Any] | str, params: Mapping[str, Any]) -> None:
        self.prompt = prompt if isinstance(prompt, str) else list(prompt)
        self.params = dict(params)

    def apply(self, record: Record) -> None:
        """Input, system instructions, settings and tools (on the worker)."""
        if isinstance(self.prompt, str):
            record.input = [text_message("user", self.prompt)]
        else:
            record.input, record.system_instructions = input_messages(self.prompt)
        params = self.params
        settings = {key: params[key] for key in SETTINGS if params.get(key) is not None}
        response_format = params.get("response_format")
        if response_format is not None:
            settings["response_format"] = _format_name(response_format)
        if settings:
            record.settings = {**settings, **record.settings}
        tools = params.get("tools")
        if isinstance(tools, Sequence) and tools:
            record.tools = [_tool_definition(tool) for tool in tools]


def _format_name(response_format: Any) -> Any:
    """The kind of structured output asked for, not the whole schema."""
    if isinstance(response_format, Mapping):
        return response_format.get("type")
    return getattr(response_format, "__name__", type(response_format).__name__)


def _tool_definition(tool: Any) -> dict[str, Any]:
    if isinstance(tool, Mapping) and "function" not in tool and "name" in tool:
        # Anthropic's shape: {"name", "description", "input_schema"}; server tools
        # ({"type": "web_search_20250305", ...}) keep their type.
        return {
            "type": tool.get("type") or "function",
            "name": tool.get("name"),
            "description": tool.get("description"),
            "parameters": tool.get("input_schema"),
        }
    definitions = tool_definitions([tool]) or [{}]
    return definitions[0]


def resolve(request: ModelRequest, result: Any, with_usage: bool, record: Record) -> None:
    """Fill a model run's record from its request and `LLMResult` (on the worker).

    `with_usage` is False when a provider-layer record under this one carries the
    call's usage: tokens are then never counted twice.
    """
    request.apply(record)
    if result is None:
        return
    generations = field(result, "generations") or []
    choices = list(generations[0]) if generations else []
    llm_output = field(result, "llm_output")
    llm_output = llm_output if isinstance(llm_output, Mapping) else {}
    output = []
    tool_calls = []
    for choice in choices:
        message = getattr(choice, "message", None)
        info = getattr(choice, "generation_info", None) or {}
        if message is None:
            text = getattr(choice, "text", "") or ""
            converted = text_message("assistant", text)
            converted["finish_reason"] = info.get("finish_reason")
        else:
            converted = output_message(message, _finish_reason(info, message))
            tool_calls.extend(tool_call_parts(message))
        output.append(converted)
    record.output = output or None
    record.tool_calls = tool_calls or None
    record.finish_reason = output[0]["finish_reason"] if output else None
    first = getattr(choices[0], "message", None) if choices else None
    metadata = getattr(first, "response_metadata", None) or {}
    record.response_model = _first_text(
        metadata.get("model_name"),
        metadata.get("model"),
        llm_output.get("model_name"),
        llm_output.get("model"),
    )
    record.response_id = _first_text(
        llm_output.get("id"), metadata.get("id"), _provider_message_id(first)
    )
    if with_usage:
        _apply_usage(record, first, llm_output)


def _apply_usage(record: Record, message: Any, llm_output: Mapping[str, Any]) -> None:
    usage, raw = from_llm_output(llm_output)
    record.provider_usage = raw
    metadata = getattr(message, "usage_metadata", None)
    if isinstance(metadata, Mapping) and metadata:
        record.usage = from_usage_metadata(metadata)
    else:
        record.usage = usage


def _finish_reason(info: Mapping[str, Any], message: Any) -> str | None:
    metadata = getattr(message, "response_metadata", None) or {}
    return _first_text(
        info.get("finish_reason"),
        metadata.get("finish_reason"),
        metadata.get("stop_reason"),
        info.get("stop_reason"),
    )


def _provider_message_id(message: Any) -> str | None:
    """The message id when the provider set it (LangChain's own start `run-`/`lc_`)."""
    value = getattr(message, "id", None)
    if isinstance(value, str) and not value.startswith(("run-", "lc_")):
        return value
    return None


def _first_text(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None
