"""llmtap integration for the Anthropic Python SDK.

    import llmtap
    llmtap.instrument_anthropic()

Records every Messages API call made through `Anthropic`, `AsyncAnthropic` and the
Bedrock and Vertex clients: `messages.create` (streamed or not), `messages.parse`,
`messages.stream()`, and their `beta.messages` counterparts. See `surfaces.py`.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from llmtap.patching import Patcher
from llmtap_anthropic.surfaces import BETA, BETA_COPIES, FIRST_PARTY, FOLLOW_UPS, METHODS

__all__ = ["instrument", "is_instrumented", "uninstrument"]

_patcher = Patcher()
_lock = threading.Lock()


def _method(module: str, qualname: str) -> Any:
    """The function a class holds for `qualname`, or None where this SDK has no such method."""
    class_name, attr = qualname.rsplit(".", 1)
    try:
        owner = getattr(importlib.import_module(module), class_name)
    except (ImportError, AttributeError):
        return None
    return owner.__dict__.get(attr)


def instrument() -> None:
    """Start recording Anthropic calls. Calling it again changes nothing."""
    with _lock:
        if _patcher.active:
            return
        for module in (FIRST_PARTY, BETA):
            for qualname, wrapper in METHODS:
                _patcher.wrap(module, qualname, wrapper)
        for module in BETA_COPIES:
            for qualname, wrapper in METHODS:
                copied = _method(module, qualname)
                if copied is None or copied is _method(BETA, qualname):
                    continue  # absent, or copied from the already wrapped beta method
                _patcher.wrap(module, qualname, wrapper)
        for module, qualname, wrapper in FOLLOW_UPS:
            _patcher.wrap(module, qualname, wrapper)


def uninstrument() -> None:
    """Put the SDK back exactly as it was."""
    with _lock:
        _patcher.restore()


def is_instrumented() -> bool:
    """True between `instrument()` and `uninstrument()`."""
    return _patcher.active
