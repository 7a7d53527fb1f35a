"""Embeddings (`/embeddings`): texts in, vectors out; the vectors are never stored.

A record keeps how many vectors came back and their dimension, which is all a trace
needs; the vectors themselves would make every record tens of kilobytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.messages import base64_size, field, text_field
from llmtap.record import Record
from llmtap.usage import from_openai_format, raw_usage
from llmtap_openai.completions import snapshot, text_inputs
from llmtap_openai.request import Request
from llmtap_openai.wrappers import Surface

FLOAT32_BYTES = 4


class EmbeddingsRequest(Request):
    """An embeddings request; the input list is copied."""

    __slots__ = ("input",)

    SETTINGS = frozenset({"dimensions", "encoding_format", "user"})

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(client, kwargs)
        self.input = snapshot(kwargs.get("input"))

    def apply(self, record: Record) -> None:
        super().apply(record)
        record.input = text_inputs(self.input)


def resolve_embeddings(request: EmbeddingsRequest, response: Any, record: Record) -> None:
    """Fill a record from a `CreateEmbeddingResponse` (runs on the worker).

    Embeddings report only `prompt_tokens` and a `total_tokens` equal to it, so output
    tokens stay None (not 0: nothing was reported).
    """
    request.apply(record)
    record.response_model = text_field(response, "model")
    usage = field(response, "usage")
    record.usage = from_openai_format(usage)
    record.provider_usage = raw_usage(usage)
    data = field(response, "data")
    if not isinstance(data, list):  # a malformed body: nothing to count
        data = []
    metadata = record.metadata
    metadata["embedding_count"] = len(data)
    if not data:
        return
    vector = field(data[0], "embedding")
    if isinstance(vector, str):  # encoding_format="base64": packed little-endian float32
        metadata["encoding_format"] = "base64"
        metadata["embedding_dimensions"] = base64_size(vector) // FLOAT32_BYTES
    elif isinstance(vector, list):
        metadata["encoding_format"] = "float"
        metadata["embedding_dimensions"] = len(vector)


EMBEDDINGS = Surface(operation="embeddings", request=EmbeddingsRequest, resolve=resolve_embeddings)

# (module, sync method, async method, surface)
TARGETS: tuple[tuple[str, str, str, Surface], ...] = (
    ("openai.resources.embeddings", "Embeddings.create", "AsyncEmbeddings.create", EMBEDDINGS),
)
