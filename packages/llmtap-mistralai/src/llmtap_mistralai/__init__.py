"""llmtap integration for the Mistral Python SDK (`mistralai` 1.x, 2.x and 3.x).

    import llmtap
    llmtap.instrument_mistralai()

Records every chat, agents, FIM and embeddings call, sync and async, streamed or not,
through any `Mistral` client; see `surfaces.py` for what is hooked.
"""

from __future__ import annotations

import threading

from llmtap.patching import Patcher
from llmtap_mistralai.surfaces import sdk_package, targets
from llmtap_mistralai.wrappers import async_wrapper, sync_wrapper

__all__ = ["instrument", "is_instrumented", "uninstrument"]

_patcher = Patcher()
_lock = threading.Lock()


def instrument() -> None:
    """Start recording Mistral calls. Calling it again changes nothing.

    Raises ImportError when the mistralai SDK is not installed.
    """
    with _lock:
        if _patcher.active:
            return
        for module, qualname, surface, is_async, streams in targets(sdk_package()):
            wrapper = async_wrapper if is_async else sync_wrapper
            _patcher.wrap(module, qualname, wrapper(surface, streams))


def uninstrument() -> None:
    """Put the SDK back exactly as it was."""
    with _lock:
        _patcher.restore()


def is_instrumented() -> bool:
    return _patcher.active
