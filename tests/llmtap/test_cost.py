"""cost_usd: priced from genai-prices in the worker, cache-aware, overridable, null when unknown."""

from __future__ import annotations

from typing import Any

import genai_prices
import pytest

import llmtap
from llmtap.cost import Pricer
from llmtap.exporters import MemoryExporter
from llmtap.faults import fault_counts
from llmtap.record import Usage


def cost_of(memory: MemoryExporter, **fields: Any) -> float | None:
    llmtap.log_generation(**fields)
    llmtap.flush()
    return memory.records[-1].cost_usd


# Published list prices, USD per million tokens: input, cached input, cache write, output.
# (model, provider, usage, expected cost)
KNOWN = [
    # gpt-4o: 2.50 / 1.25 cached / 10.00
    ("gpt-4o-2024-08-06", "openai", {"input_tokens": 1000, "output_tokens": 500}, 0.0075),
    (
        "gpt-4o-2024-08-06",
        "openai",
        {"input_tokens": 1000, "output_tokens": 500, "cached_input_tokens": 200},
        (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / 1e6,
    ),
    # gpt-4o-mini: 0.15 / 0.075 cached / 0.60
    (
        "gpt-4o-mini-2024-07-18",
        "openai",
        {"input_tokens": 2000, "output_tokens": 100, "cached_input_tokens": 1024},
        (976 * 0.15 + 1024 * 0.075 + 100 * 0.60) / 1e6,
    ),
    # o3-mini: 1.10 / 4.40; reasoning tokens are output tokens, billed as output.
    (
        "o3-mini",
        "openai",
        {"input_tokens": 1000, "output_tokens": 500, "reasoning_tokens": 300},
        (1000 * 1.10 + 500 * 4.40) / 1e6,
    ),
    # claude-3-5-haiku: 0.80 / 0.08 read / 1.00 write / 4.00
    (
        "claude-3-5-haiku-20241022",
        "anthropic",
        {
            "input_tokens": 1000,
            "output_tokens": 500,
            "cached_input_tokens": 200,
            "cache_creation_input_tokens": 100,
        },
        (700 * 0.80 + 200 * 0.08 + 100 * 1.00 + 500 * 4.00) / 1e6,
    ),
    # claude-sonnet-4-5: 3.00 / 0.30 read / 3.75 write / 15.00
    (
        "claude-sonnet-4-5-20250929",
        "anthropic",
        {"input_tokens": 50, "output_tokens": 93},
        (50 * 3.00 + 93 * 15.00) / 1e6,
    ),
    (
        "claude-sonnet-4-5-20250929",
        "anthropic",
        {"input_tokens": 10_000, "output_tokens": 10, "cached_input_tokens": 9_000},
        (1000 * 3.00 + 9000 * 0.30 + 10 * 15.00) / 1e6,
    ),
    # mistral-large: 2.00 / 6.00
    ("mistral-large-latest", "mistral_ai", {"input_tokens": 1000, "output_tokens": 500}, 0.005),
    # text-embedding-3-small: 0.02 input only
    ("text-embedding-3-small", "openai", {"input_tokens": 1000}, 1000 * 0.02 / 1e6),
]


@pytest.mark.parametrize(("model", "provider", "usage", "expected"), KNOWN)
def test_known_prices_cached_and_uncached(
    memory: MemoryExporter, model: str, provider: str, usage: dict[str, int], expected: float
) -> None:
    assert cost_of(memory, model=model, provider=provider, usage=usage) == pytest.approx(
        expected, rel=1e-9
    )


def test_the_fast_linear_path_equals_genai_prices_own_calculation() -> None:
    pricer = Pricer()
    for model, provider, usage, _ in KNOWN:
        record = llmtap.Record(id="a", trace_id="b", name="x", provider=provider)
        record.request_model = model
        record.usage = Usage(**usage)
        library = genai_prices.calc_price(
            genai_prices.Usage(
                input_tokens=usage.get("input_tokens", 0),
                cache_read_tokens=usage.get("cached_input_tokens", 0),
                cache_write_tokens=usage.get("cache_creation_input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
            ),
            model,
            provider_id={"mistral_ai": "mistral"}.get(provider, provider),
        )
        assert pricer.price(record) == pytest.approx(float(library.total_price), rel=1e-12)


def test_tiered_prices_go_through_the_library(memory: MemoryExporter) -> None:
    # gemini-2.5-pro charges 2.50 / 15.00 above 200k prompt tokens (1.25 / 10.00 below).
    usage = {"input_tokens": 300_000, "output_tokens": 500}
    cost = cost_of(memory, model="gemini-2.5-pro", provider="gcp.vertex_ai", usage=usage)
    assert cost == pytest.approx((300_000 * 2.50 + 500 * 15.00) / 1e6)


def test_an_unknown_model_costs_null_not_a_guess(memory: MemoryExporter) -> None:
    usage = {"input_tokens": 10, "output_tokens": 5}
    assert cost_of(memory, model="my-finetune-7b", provider="openai", usage=usage) is None
    assert fault_counts() == {}


def test_no_usage_means_no_cost(memory: MemoryExporter) -> None:
    assert cost_of(memory, model="gpt-4o", provider="openai") is None


def test_a_cost_already_reported_is_kept(memory: MemoryExporter) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 500}
    assert cost_of(memory, model="gpt-4o", provider="openai", usage=usage, cost_usd=0.42) == 0.42


def test_the_response_model_is_priced_before_the_request_alias(memory: MemoryExporter) -> None:
    usage = {"input_tokens": 1_000_000, "output_tokens": 0}
    cost = cost_of(
        memory,
        model="gpt-4o-mini",
        response_model="gpt-4o-2024-08-06",
        provider="openai",
        usage=usage,
    )
    assert cost == pytest.approx(2.50)


def test_user_prices_override_the_library() -> None:
    memory = MemoryExporter()
    llmtap.configure(
        exporters=[memory],
        prices={
            "gpt-4o": {"input": 1.0, "output": 2.0, "cached_input": 0.5},
            "my-finetune-7b": llmtap.Price(input=0.2, output=0.4),
        },
    )
    try:
        usage = {"input_tokens": 1000, "output_tokens": 500, "cached_input_tokens": 400}
        assert cost_of(memory, model="gpt-4o", provider="openai", usage=usage) == pytest.approx(
            (600 * 1.0 + 400 * 0.5 + 500 * 2.0) / 1e6
        )
        # Cached input defaults to the input price when the user gives none.
        assert cost_of(
            memory, model="my-finetune-7b", provider="vllm", usage=usage
        ) == pytest.approx((1000 * 0.2 + 500 * 0.4) / 1e6)
    finally:
        llmtap.configure(exporters=[MemoryExporter()])


def test_spans_are_not_priced(memory: MemoryExporter) -> None:
    with llmtap.span("chain"):
        pass
    llmtap.flush()
    assert memory.records[-1].cost_usd is None


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ([("gpt-4o", 1.0)], "takes a dict of model name"),
        ({"gpt-4o": 1.0}, "takes llmtap.Price"),
        ({"gpt-4o": {"input": 1.0}}, "give 'input' and 'output'"),
        ({"gpt-4o": {"input": 1.0, "output": 2.0, "cache": 1.0}}, "give 'input' and 'output'"),
        ({"gpt-4o": {"input": -1.0, "output": 2.0}}, "input must be a number >= 0"),
    ],
)
def test_bad_prices_say_what_to_pass(prices: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        llmtap.configure(prices=prices)
