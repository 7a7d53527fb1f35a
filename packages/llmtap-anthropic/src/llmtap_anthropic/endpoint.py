"""Which client a call goes through: the GenAI provider name and the server's host."""

from __future__ import annotations

import importlib
from typing import Any

# Client base classes of the cloud platforms, for SDK lines that do not name their
# provider (0.x); 1.x and 2.x clients carry `_gen_ai_provider_name` themselves.
_PLATFORMS = (
    ("anthropic.lib.bedrock._client", "BaseBedrockClient", "aws.bedrock"),
    ("anthropic.lib.bedrock._mantle", "BaseMantleClient", "aws.bedrock"),
    ("anthropic.lib.vertex._client", "BaseVertexClient", "gcp.vertex_ai"),
)

_by_class: dict[type, str] = {}


def _platform_classes() -> list[tuple[type, str]]:
    found = []
    for module, name, provider in _PLATFORMS:
        try:
            found.append((getattr(importlib.import_module(module), name), provider))
        except (ImportError, AttributeError):
            continue  # a platform this SDK line does not have
    return found


def provider_of(client: Any) -> str:
    """`aws.bedrock`, `gcp.vertex_ai` or `anthropic`; worked out once per client class."""
    cls = type(client)
    provider = _by_class.get(cls)
    if provider is None:
        provider = "anthropic"
        named = getattr(cls, "_gen_ai_provider_name", None)
        if isinstance(named, str):
            provider = named
        else:
            for base, platform in _platform_classes():
                if issubclass(cls, base):
                    provider = platform
                    break
        _by_class[cls] = provider
    return provider
