"""Every SDK method llmtap wraps, and with what.

Hooked per resource method, as for OpenAI: arguments arrive as the caller passed them,
results are the SDK's typed objects, and no other endpoint (`count_tokens`, batches,
models, files) is ever taken for a generation. `parse()` posts directly and `stream()`
posts from its manager, so neither is covered by `create`; each is hooked itself, and
nothing is recorded twice. A method missing from an older SDK line is skipped.

The Bedrock and Vertex clients use these same resource classes, except for their beta
`Messages`, which copy the first-party beta methods into classes of their own at import
time (`create = FirstPartyMessagesAPI.create`); those copies are wrapped as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmtap_anthropic import helpers, instancecheck, raw
from llmtap_anthropic.wrappers import async_wrapper, sync_wrapper

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

FIRST_PARTY = "anthropic.resources.messages"
BETA = "anthropic.resources.beta.messages"
# Modules whose beta `Messages` classes hold copies of BETA's methods.
BETA_COPIES = ("anthropic.lib.bedrock._beta_messages", "anthropic.lib.vertex._beta_messages")

# (method, wrapper), for each resource module's `Messages` and `AsyncMessages`.
METHODS: tuple[tuple[str, Wrapper], ...] = (
    ("Messages.create", sync_wrapper),
    ("AsyncMessages.create", async_wrapper),
    ("Messages.parse", sync_wrapper),
    ("AsyncMessages.parse", async_wrapper),
    # Both `stream()`s return a manager without sending anything.
    ("Messages.stream", helpers.stream),
    ("AsyncMessages.stream", helpers.stream),
)

# (module, method, wrapper) for the objects that finish a call after it returned, and
# for keeping `isinstance` true of recorded streams on 0.x.
FOLLOW_UPS: tuple[tuple[str, str, Wrapper], ...] = (
    *helpers.HELPER_TARGETS,
    *raw.PARSE_TARGETS,
    *instancecheck.TARGETS,
)
