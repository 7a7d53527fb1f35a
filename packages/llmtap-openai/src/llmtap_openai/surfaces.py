"""Every SDK method llmtap records, and how each is read.

Hooked per resource method rather than at the client's single `request()`: the
arguments arrive exactly as the caller passed them, results are the SDK's typed
objects, and a new endpoint is never mistaken for a generation. `stream()` helpers call
`create`, so they are covered by it; `parse()` methods post directly, so they are hooked
themselves. A method missing from an older SDK line is skipped.
"""

from __future__ import annotations

from llmtap_openai import audio, completions, embeddings, images
from llmtap_openai.chat import ChatRequest, ChatStreamRecorder, resolve_completion
from llmtap_openai.responses import TARGETS as RESPONSES_TARGETS
from llmtap_openai.wrappers import Surface

CHAT = Surface(
    operation="chat",
    request=ChatRequest,
    resolve=resolve_completion,
    recorder=ChatStreamRecorder,
    stream_usage=True,
)

# (module, sync method, async method, surface)
TARGETS: tuple[tuple[str, str, str, Surface], ...] = (
    ("openai.resources.chat.completions", "Completions.create", "AsyncCompletions.create", CHAT),
    ("openai.resources.chat.completions", "Completions.parse", "AsyncCompletions.parse", CHAT),
    *RESPONSES_TARGETS,
    *completions.TARGETS,
    *embeddings.TARGETS,
    *images.TARGETS,
    *audio.TARGETS,
)
