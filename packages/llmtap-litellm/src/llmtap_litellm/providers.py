"""LiteLLM's provider names (`custom_llm_provider`) as OpenTelemetry GenAI provider names.

LiteLLM knows which provider served a call better than any URL does (it routed it), so
its name is kept and only translated; a provider missing here keeps LiteLLM's name.
"""

from __future__ import annotations

_GENAI_NAMES = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "chatgpt": "openai",
    "azure": "azure.ai.openai",
    "azure_text": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "anthropic_text": "anthropic",
    "mistral": "mistral_ai",
    "codestral": "mistral_ai",
    "text-completion-codestral": "mistral_ai",
    "bedrock": "aws.bedrock",
    "sagemaker": "aws.sagemaker",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "watsonx": "ibm.watsonx.ai",
    "watsonx_text": "ibm.watsonx.ai",
}

# Providers whose API reports no reasoning-token count: LiteLLM fills one in by running
# its own tokenizer over the thinking text, an estimate llmtap does not pass off as usage.
_ESTIMATED_REASONING = frozenset({"anthropic", "aws.bedrock", "gcp.vertex_ai"})


def genai_provider(custom_llm_provider: str | None) -> str | None:
    if not custom_llm_provider:
        return None
    return _GENAI_NAMES.get(custom_llm_provider, custom_llm_provider)


def reports_reasoning_tokens(provider: str | None) -> bool:
    return provider not in _ESTIMATED_REASONING
