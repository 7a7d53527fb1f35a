"""One configuration object, read once: code wins over `LLMTAP_*` environment variables.

`configure()` validates its arguments and raises a ValueError that says what to pass;
a bad environment variable is logged and ignored, because raising at import time would
break the host application.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmtap.cost import Price, Pricer, price_from
from llmtap.faults import logger

if TYPE_CHECKING:
    from llmtap.exporters.base import Exporter
    from llmtap.record import Record

Redactor = Callable[["Record"], "Record | None"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Config:
    exporters: tuple[Exporter, ...]
    capture_content: bool = True
    redact: Redactor | None = None
    sample_rate: float = 1.0
    environment: str | None = None
    release: str | None = None
    disabled: bool = False
    queue_size: int = 10_000
    batch_size: int = 512
    flush_interval_s: float = 0.5
    pricer: Pricer = field(default_factory=Pricer)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    logger.warning("llmtap: ignoring %s=%r; use 1/0, true/false, yes/no or on/off", name, raw)
    return default


def _env_number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        logger.warning(
            "llmtap: ignoring %s=%r; expected a number from %s to %s", name, raw, low, high
        )
        return default
    return value


def _env_exporters() -> tuple[Exporter, ...]:
    """`LLMTAP_EXPORTERS=sqlite,jsonl,console,otel` (default sqlite; `none` records nowhere)."""
    from llmtap.exporters import ConsoleExporter, JSONLExporter, SQLiteExporter

    names = [n.strip().lower() for n in os.environ.get("LLMTAP_EXPORTERS", "sqlite").split(",")]
    chosen: list[Exporter] = []
    for name in filter(None, names):
        if name == "sqlite":
            chosen.append(SQLiteExporter())
        elif name == "jsonl":
            chosen.append(JSONLExporter(os.environ.get("LLMTAP_JSONL_PATH", "llmtap.jsonl")))
        elif name == "console":
            chosen.append(ConsoleExporter())
        elif name == "otel":
            from llmtap.exporters.otel import OTelExporter

            chosen.append(OTelExporter())
        elif name != "none":
            logger.warning(
                "llmtap: ignoring unknown exporter %r in LLMTAP_EXPORTERS; "
                "choose from sqlite, jsonl, console, otel, none",
                name,
            )
    return tuple(chosen)


def _check_number(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(
            f"llmtap.configure({name}=...) must be a number from {low} to {high}, got {value!r}"
        )


def build_config(
    *,
    exporters: Sequence[Exporter] | None = None,
    capture_content: bool | None = None,
    redact: Redactor | None = None,
    sample_rate: float | None = None,
    environment: str | None = None,
    release: str | None = None,
    disabled: bool | None = None,
    queue_size: int | None = None,
    batch_size: int | None = None,
    flush_interval_s: float | None = None,
    prices: Mapping[str, Price | Mapping[str, float]] | None = None,
) -> Config:
    """Merge explicit arguments over the environment, validating both."""
    if exporters is not None:
        exporters = tuple(exporters)
        for exporter in exporters:
            if not callable(getattr(exporter, "export", None)):
                raise ValueError(
                    f"llmtap.configure(exporters=[...]) got {exporter!r}, which has no "
                    "export(records) method; pass exporters from llmtap.exporters"
                )
    if redact is not None and not callable(redact):
        raise ValueError("llmtap.configure(redact=...) must be a callable taking a Record")
    if sample_rate is not None:
        _check_number("sample_rate", sample_rate, 0.0, 1.0)
    for name, number in (("queue_size", queue_size), ("batch_size", batch_size)):
        if number is not None and (not isinstance(number, int) or number < 1):
            raise ValueError(f"llmtap.configure({name}=...) must be a positive int, got {number!r}")
    if flush_interval_s is not None:
        _check_number("flush_interval_s", flush_interval_s, 0.001, 3600.0)

    if prices is not None and not isinstance(prices, Mapping):
        raise ValueError(
            "llmtap.configure(prices=...) takes a dict of model name to llmtap.Price(...), "
            'e.g. {"my-model": {"input": 0.5, "output": 1.5}} (USD per million tokens)'
        )
    overrides = {model: price_from(model, value) for model, value in (prices or {}).items()}

    def pick(value: Any, fallback: Callable[[], Any]) -> Any:
        return fallback() if value is None else value

    return Config(
        exporters=pick(exporters, _env_exporters),
        capture_content=pick(capture_content, lambda: _env_bool("LLMTAP_CAPTURE_CONTENT", True)),
        redact=redact,
        sample_rate=pick(sample_rate, lambda: _env_number("LLMTAP_SAMPLE_RATE", 1.0, 0.0, 1.0)),
        environment=pick(environment, lambda: os.environ.get("LLMTAP_ENVIRONMENT")),
        release=pick(release, lambda: os.environ.get("LLMTAP_RELEASE")),
        disabled=pick(disabled, lambda: _env_bool("LLMTAP_DISABLED", False)),
        queue_size=pick(
            queue_size, lambda: int(_env_number("LLMTAP_QUEUE_SIZE", 10_000, 1, 10_000_000))
        ),
        batch_size=pick(batch_size, lambda: 512),
        flush_interval_s=pick(flush_interval_s, lambda: 0.5),
        pricer=Pricer(overrides),
    )
