"""Lazy entry points: `llmtap.instrument_openai()` and friends, and `llmtap.instrument()`.

The core never imports an integration until asked. Each integration package exposes a
module with `instrument(**options)` and `uninstrument()`, registered under the entry
point group `llmtap.integrations`, so `instrument()` can turn on everything installed.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from llmtap.faults import logger, report_fault

ENTRY_POINT_GROUP = "llmtap.integrations"

# name -> (module, pip extra)
KNOWN: dict[str, tuple[str, str]] = {
    "openai": ("llmtap_openai", "openai"),
    "anthropic": ("llmtap_anthropic", "anthropic"),
    "mistralai": ("llmtap_mistralai", "mistralai"),
    "langchain": ("llmtap_langchain", "langchain"),
    "llamaindex": ("llmtap_llamaindex", "llamaindex"),
    "litellm": ("llmtap_litellm", "litellm"),
}


class IntegrationNotInstalled(ImportError):
    """The integration package for a library is missing; the message says what to install."""


def load(name: str) -> ModuleType:
    module_name, extra = KNOWN[name]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in (module_name, module_name.split(".")[0]):
            raise
        raise IntegrationNotInstalled(
            f"llmtap.instrument_{name}() needs the {name} integration, which is not installed. "
            f'Run: pip install "llmtap[{extra}]"'
        ) from exc


def load_attribute(name: str, attribute: str) -> Any:
    """An object an integration exports (a callback handler, a logger)."""
    return getattr(load(name), attribute)


def instrument_integration(name: str, **options: Any) -> None:
    load(name).instrument(**options)


def uninstrument_integration(name: str) -> None:
    load(name).uninstrument()


def instrument_all() -> list[str]:
    """Instrument every installed integration; return the names turned on."""
    enabled = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load().instrument()
        except ImportError as exc:
            logger.info("llmtap: skipping integration %s: %s", entry.name, exc)
            continue
        except Exception as exc:
            # One integration that cannot patch its library (an unsupported version)
            # must neither stop the application's start-up nor the other integrations.
            report_fault(f"instrument.{entry.name}", exc)
            continue
        enabled.append(entry.name)
    return enabled
