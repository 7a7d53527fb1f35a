"""Installing and removing wrappers on SDK classes, idempotently and exactly.

Integrations wrap methods on an SDK's classes, so every client instance is covered,
including clients created before instrumenting. `restore()` puts back the very function
object that was there, so an uninstrumented SDK is the SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import wrapt

from llmtap.faults import logger

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class Patcher:
    def __init__(self) -> None:
        self._originals: dict[tuple[type, str], Any] = {}

    @property
    def active(self) -> bool:
        return bool(self._originals)

    def wrap(self, module: str, qualname: str, wrapper: Wrapper) -> bool:
        """Wrap `module.Class.method`; False (logged) when this SDK version lacks it."""
        class_name, attr = qualname.rsplit(".", 1)
        try:
            owner = getattr(importlib.import_module(module), class_name)
            original = owner.__dict__[attr]
        except (ImportError, AttributeError, KeyError):
            logger.info("llmtap: %s.%s not in this SDK version; not recorded", module, qualname)
            return False
        key = (owner, attr)
        if key in self._originals:
            return True
        self._originals[key] = original
        setattr(owner, attr, wrapt.FunctionWrapper(original, wrapper))
        return True

    def restore(self) -> None:
        for (owner, attr), original in self._originals.items():
            current = owner.__dict__.get(attr)
            if getattr(current, "__wrapped__", None) is not original:
                logger.warning(
                    "llmtap: %s.%s was re-wrapped by another library after llmtap; "
                    "restoring the original removes that wrapper too",
                    owner.__qualname__,
                    attr,
                )
            setattr(owner, attr, original)
        self._originals.clear()
