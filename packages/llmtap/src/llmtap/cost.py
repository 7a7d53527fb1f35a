"""`cost_usd` for generation records, priced in the worker, never on the caller's path.

Prices come from `genai-prices`, a maintained and versioned price library with each
model's price history, so a record is priced as it was billed on the day it was made.
Cache reads, cache writes and reasoning are priced the way the provider bills them:
`input_tokens` counts every billed input token, and `output_tokens` includes reasoning,
which is the shape genai-prices expects. A price the user gives wins. An unknown model
gets `None`, never a guess. A cost already set (LiteLLM's `response_cost`) is kept.

genai-prices' own calculation costs about 0.2 ms (Decimal arithmetic). For a price that
is linear in each token count, which is every price without tiers, llmtap reads the
per-token rates once per model and price period from genai-prices itself, by pricing
one million tokens of each kind. Tiered prices go through genai-prices on every record.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from llmtap.record import Record, Usage

_MILLION = 1_000_000

# GenAI provider names (llmtap's `provider`) to genai-prices provider ids.
_PROVIDER_IDS = {
    "openai": "openai",
    "azure.ai.openai": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "mistral_ai": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "x_ai": "x-ai",
    "cohere": "cohere",
}

_TOKEN_KINDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


@dataclass(frozen=True, slots=True)
class Price:
    """A user's price for one model, in USD per million tokens.

    `cached_input` and `cache_write` default to `input` when not given.
    """

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    def cost(self, usage: Usage) -> float:
        cached = usage.cached_input_tokens or 0
        written = usage.cache_creation_input_tokens or 0
        fresh = max(0, (usage.input_tokens or 0) - cached - written)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        write_rate = self.input if self.cache_write is None else self.cache_write
        total = (
            fresh * self.input
            + cached * cached_rate
            + written * write_rate
            + (usage.output_tokens or 0) * self.output
        )
        return total / _MILLION


def price_from(model: str, value: Price | Mapping[str, float]) -> Price:
    """Accept `Price(...)` or a dict with the same keys; say what is wrong otherwise."""
    if isinstance(value, Price):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(
            f"llmtap.configure(prices={{{model!r}: ...}}) takes llmtap.Price(...) or a dict "
            'such as {"input": 2.5, "output": 10.0} (USD per million tokens)'
        )
    unknown = set(value) - {"input", "output", "cached_input", "cache_write"}
    if unknown or "input" not in value or "output" not in value:
        raise ValueError(
            f"llmtap.configure(prices={{{model!r}: {dict(value)!r}}}): give 'input' and "
            "'output', optionally 'cached_input' and 'cache_write', in USD per million tokens"
        )
    for key, number in value.items():
        if not isinstance(number, (int, float)) or isinstance(number, bool) or number < 0:
            raise ValueError(
                f"llmtap.configure(prices={{{model!r}: ...}}): {key} must be a number >= 0, "
                f"got {number!r}"
            )
    return Price(**{key: float(number) for key, number in value.items()})


def prices_version() -> str | None:
    """The genai-prices release that prices records, for `llmtap doctor`."""
    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return None


class Pricer:
    """Prices generation records; one per configuration, used by the worker only."""

    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._models: dict[tuple[str | None, str], Any] = {}
        self._linear: dict[int, tuple[Any, tuple[float, ...] | None]] = {}
        self._lock = threading.Lock()

    def price(self, record: Record) -> float | None:
        usage = record.usage
        if usage.input_tokens is None and usage.output_tokens is None:
            return None
        for model in (record.response_model, record.request_model):
            if model and model in self._overrides:
                return self._overrides[model].cost(usage)
        for model in (record.response_model, record.request_model):
            if model:
                cost = self._from_library(record, model, usage)
                if cost is not None:
                    return cost
        return None

    def _from_library(self, record: Record, model: str, usage: Usage) -> float | None:
        found = self._model_info(_PROVIDER_IDS.get(record.provider or ""), model)
        if found is None:
            return None
        when = dt.datetime.fromtimestamp(record.start_time or 0.0, dt.timezone.utc)
        model_price = found.get_prices(when)
        counts = (
            usage.input_tokens or 0,
            usage.cached_input_tokens or 0,
            usage.cache_creation_input_tokens or 0,
            usage.output_tokens or 0,
        )
        rates = self._rates(model_price)
        if rates is not None:
            return sum(count * rate for count, rate in zip(counts, rates, strict=True))
        return float(model_price.calc_price(_library_usage(*counts))["total_price"])

    def _model_info(self, provider_id: str | None, model: str) -> Any:
        key = (provider_id, model)
        if key not in self._models:
            from genai_prices import data_snapshot

            try:
                _, info = data_snapshot.get_snapshot().find_provider_model(
                    model, None, provider_id, None
                )
            except LookupError:
                info = None
            with self._lock:
                self._models[key] = info
        return self._models[key]

    def _rates(self, model_price: Any) -> tuple[float, ...] | None:
        """Per-token rates, when the price is linear in every token count we report."""
        cached = self._linear.get(id(model_price))
        if cached is not None and cached[0] is model_price:
            return cached[1]
        from decimal import Decimal

        linear = all(
            isinstance(getattr(model_price, name, None), (Decimal, int, float, type(None)))
            for name in ("input_mtok", "cache_read_mtok", "cache_write_mtok", "output_mtok")
        )
        rates = None
        if linear:
            rates = tuple(
                float(model_price.calc_price(_basis(kind))["total_price"]) / _MILLION
                for kind in _TOKEN_KINDS
            )
            # A cache token is also an input token: its own rate is what it adds to that.
            rates = (rates[0], rates[1] - rates[0], rates[2] - rates[0], rates[3])
        with self._lock:
            self._linear[id(model_price)] = (model_price, rates)
        return rates


def _basis(kind: str) -> Any:
    counts = dict.fromkeys(_TOKEN_KINDS, 0)
    counts[kind] = _MILLION
    if kind in ("cache_read_tokens", "cache_write_tokens"):
        counts["input_tokens"] = _MILLION
    return _library_usage(*counts.values())


def _library_usage(inputs: int, cache_read: int, cache_write: int, outputs: int) -> Any:
    from genai_prices import Usage as LibraryUsage

    return LibraryUsage(
        input_tokens=inputs,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=outputs,
    )
