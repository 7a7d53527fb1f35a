"""Building LlamaIndex objects for recorded traffic, and reading the records back."""

from __future__ import annotations

from typing import Any

import pytest

ROOT_OPENAI = "https://api.openai.com/v1"
ROOT_ANTHROPIC = "https://api.anthropic.com"


def openai_llm(model: str, **options: Any) -> Any:
    from llama_index.llms.openai import OpenAI

    return OpenAI(model=model, api_key="sk-test", api_base=ROOT_OPENAI, max_retries=0, **options)


def anthropic_llm(model: str, **options: Any) -> Any:
    from llama_index.llms.anthropic import Anthropic

    return Anthropic(
        model=model, api_key="sk-ant-test", base_url=ROOT_ANTHROPIC, max_retries=0, **options
    )


def openai_embedding(model: str) -> Any:
    from llama_index.embeddings.openai import OpenAIEmbedding

    return OpenAIEmbedding(model=model, api_key="sk-test", api_base=ROOT_OPENAI, max_retries=0)


def skip_if_model_refused(error: BaseException) -> None:
    """LlamaIndex's LLM classes check model names against their own tables, before any
    request; a recorded model that this version does not know cannot be replayed."""
    if isinstance(error, ValueError) and "Unknown model" in str(error):
        pytest.skip(f"this LlamaIndex version refuses the model: {str(error)[:70]}")


def generations(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "generation"]


def of_integration(records: list[dict[str, Any]], integration: str) -> list[dict[str, Any]]:
    return [r for r in records if r["integration"] == integration]


def text_of(record: dict[str, Any], choice: int = 0) -> str:
    output = record["output"] or []
    if len(output) <= choice:
        return ""
    return "".join(p["content"] for p in output[choice]["parts"] if p["type"] == "text")


def token_sums(records: list[dict[str, Any]]) -> tuple[int, int]:
    return (
        sum(r["usage"]["input_tokens"] or 0 for r in records),
        sum(r["usage"]["output_tokens"] or 0 for r in records),
    )


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


def check_layers(records: list[dict[str, Any]], with_provider: bool) -> list[dict[str, Any]]:
    """Assert the one-record-per-call rule; return the generation records in order.

    With a provider layer on, each LlamaIndex model step is a parent without usage and
    the provider's record under it is the generation; without it, LlamaIndex's record
    is the generation.
    """
    gens = generations(records)
    llamaindex = {r["id"]: r for r in of_integration(records, "llmtap-llamaindex")}
    for gen in gens:
        if with_provider:
            assert gen["integration"] != "llmtap-llamaindex"
            step = llamaindex[gen["parent_id"]]
            assert step["kind"] in ("llm", "embedding")
            assert step["usage"]["input_tokens"] is None
            assert step["usage"]["output_tokens"] is None
        else:
            assert gen["integration"] == "llmtap-llamaindex"
    return gens
