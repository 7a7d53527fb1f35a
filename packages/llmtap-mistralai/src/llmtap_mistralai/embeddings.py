"""Embeddings (`/v1/embeddings`): texts in, vectors out; the vectors are never stored.

A record keeps how many vectors came back and their dimension, which is all a trace
needs; the vectors themselves would make every record tens of kilobytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.messages import text_message
from llmtap.record import Record
from llmtap_mistralai.messages import value
from llmtap_mistralai.request import Request
from llmtap_mistralai.usage import normalise


class EmbeddingsRequest(Request):
    """An embeddings request (`inputs=`: one text or a list of them, which is copied)."""

    __slots__ = ("inputs",)

    SETTINGS = frozenset({"output_dimension", "output_dtype", "encoding_format"})

    def __init__(self, instance: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(instance, kwargs)
        inputs = kwargs.get("inputs")
        self.inputs: str | list[Any] | None = (
            inputs if isinstance(inputs, str) else self.snapshot("inputs")
        )

    def apply(self, record: Record) -> None:
        super().apply(record)
        inputs = self.inputs
        if inputs is not None:
            texts = [inputs] if isinstance(inputs, str) else inputs
            record.input = [text_message("user", text) for text in texts]


def resolve_embeddings(request: Request, response: Any, record: Record) -> None:
    """Fill a record from an `EmbeddingResponse` (runs on the worker).

    Mistral reports `completion_tokens: 0` for embeddings; that is what was sent, so
    output tokens are 0 here, where a server that left the field out gets None.
    """
    request.apply(record)
    record.response_id = value(response, "id")
    record.response_model = value(response, "model")
    record.usage, record.provider_usage = normalise(value(response, "usage"))
    data = value(response, "data") or []
    record.metadata["embedding_count"] = len(data)
    vector = value(data[0], "embedding") if data else None
    if vector is not None:
        record.metadata["embedding_dimensions"] = len(vector)
