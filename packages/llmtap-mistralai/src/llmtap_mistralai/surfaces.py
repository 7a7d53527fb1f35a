"""Every SDK method llmtap records, in every line of the mistralai SDK.

The client moved in 2.0: 1.x has `mistralai.chat.Chat` (and `from mistralai import
Mistral`); 2.x and 3.x make `mistralai` a namespace package with the client under
`mistralai.client` (`mistralai.client.chat.Chat`). The installed layout is found first,
then each method is wrapped where that line has it; a method the line lacks is skipped
(and logged), never an import error. Methods are wrapped on the
resource classes, so every client is covered, including those created before
instrumenting. `chat.parse*` call `complete`/`stream`, so they are covered too.
"""

from __future__ import annotations

import importlib.util

from llmtap_mistralai.chat import AgentsRequest, ChatRequest, resolve_completion
from llmtap_mistralai.embeddings import EmbeddingsRequest, resolve_embeddings
from llmtap_mistralai.fim import FimRequest
from llmtap_mistralai.wrappers import Surface

CHAT = Surface(operation="chat", request=ChatRequest, resolve=resolve_completion)
AGENTS = Surface(operation="chat", request=AgentsRequest, resolve=resolve_completion)
FIM = Surface(operation="fim", request=FimRequest, resolve=resolve_completion)
EMBEDDINGS = Surface(operation="embeddings", request=EmbeddingsRequest, resolve=resolve_embeddings)

PACKAGES = ("mistralai.client", "mistralai")
"""Where the resource modules live: 2.x/3.x, then 1.x."""

# (module under a package, class, surface, methods as (name, is_async, streams))
_COMPLETIONS = (
    ("complete", False, False),
    ("complete_async", True, False),
    ("stream", False, True),
    ("stream_async", True, True),
)
RESOURCES: tuple[tuple[str, str, Surface, tuple[tuple[str, bool, bool], ...]], ...] = (
    ("chat", "Chat", CHAT, _COMPLETIONS),
    ("agents", "Agents", AGENTS, _COMPLETIONS),
    ("fim", "Fim", FIM, _COMPLETIONS),
    (
        "embeddings",
        "Embeddings",
        EMBEDDINGS,
        (("create", False, False), ("create_async", True, False)),
    ),
)


def sdk_package() -> str:
    """The package holding the installed SDK's resource modules."""
    for package in PACKAGES:
        try:
            if importlib.util.find_spec(f"{package}.chat") is not None:
                return package
        except ImportError:  # 1.x: `mistralai.client` is a module, not a package
            continue
    raise ImportError("llmtap-mistralai needs the mistralai SDK: pip install mistralai")


def targets(package: str) -> list[tuple[str, str, Surface, bool, bool]]:
    """(module, Class.method, surface, is_async, streams) for the SDK under `package`."""
    return [
        (f"{package}.{module}", f"{cls}.{name}", surface, is_async, streams)
        for module, cls, surface, methods in RESOURCES
        for name, is_async, streams in methods
    ]
