"""What a model call's record says about the model object that made it.

Read once at the LLM's or embedding model's span entry, where LlamaIndex passes the
instance: the provider from the integration package it lives in, the sampling
settings the caller configured, and the server it talks to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# LlamaIndex integration package (llama_index.llms.<x>, llama_index.embeddings.<x>)
# -> OpenTelemetry GenAI provider name. Unlisted packages keep their own name.
PROVIDERS = {
    "openai": "openai",
    "openai_like": "openai",
    "azure_openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "mistralai": "mistral_ai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "vertex": "gcp.vertex_ai",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "xai": "x_ai",
    "ibm": "ibm.watsonx.ai",
}

_SETTINGS = (
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "reasoning_effort",
    "dimensions",
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    provider: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    server_address: str | None = None


def provider_of(instance: object) -> str | None:
    parts = type(instance).__module__.split(".")
    if len(parts) > 2 and parts[0] == "llama_index" and parts[1] in ("llms", "embeddings"):
        return PROVIDERS.get(parts[2], parts[2])
    return None


def _host(instance: object) -> str | None:
    for name in ("api_base", "base_url", "azure_endpoint"):
        value = getattr(instance, name, None)
        if value:
            return urlsplit(str(value)).hostname
    return None


def model_info(instance: object) -> ModelInfo:
    settings = {}
    for name in _SETTINGS:
        value = getattr(instance, name, None)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            settings[name] = value
    return ModelInfo(provider_of(instance), settings, _host(instance))


def model_name(model_dict: Any) -> str | None:
    """The model from an event's `model_dict`: `model` in 0.12, `model_name` in 0.14."""
    if not isinstance(model_dict, dict):
        return None
    name = model_dict.get("model") or model_dict.get("model_name")
    return str(name) if name else None
