"""Embedding calls: one record per LlamaIndex embedding method call.

`get_query_embedding`, `get_text_embedding` and `get_text_embedding_batch` (and their
async twins) each get one record, opened at the first `EmbeddingStartEvent` in their
span and finished when the span ends. A batch call larger than `embed_batch_size`
makes several HTTP calls; the async variant starts them all before awaiting any, so
they cannot be told apart from events, and the record covers them all
(`metadata["embedding_batches"]`).

LlamaIndex's embedding classes drop the provider's response, usage included. When a
provider integration (llmtap-openai) records the HTTP calls, they carry the usage and
this record is a step of kind `embedding`. Otherwise the usage comes from a light tap
on the OpenAI SDK (`taps.py`). Either way each token is counted once.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from llmtap.messages import field, text_message
from llmtap.record import Record, Usage
from llmtap.usage import from_openai_format
from llmtap_llamaindex.calls import ModelCall
from llmtap_llamaindex.models import ModelInfo


class EmbeddingCall(ModelCall):
    step_kind = "embedding"

    def __init__(self, *, model: str | None, parent: Record | None, info: ModelInfo) -> None:
        name = f"embeddings {model}" if model else "embeddings"
        super().__init__(name, "embeddings", parent, info)
        self.record.request_model = model
        self.batches = 0
        self.texts: list[str] = []
        self.vectors = 0
        self.dimensions: int | None = None
        self.usage: Usage | None = None
        self.response_model: str | None = None

    def on_start(self) -> None:
        self.batches += 1

    def on_end(self, chunks: Any, embeddings: Any) -> None:
        if isinstance(chunks, list):
            self.texts.extend(chunks)
        if isinstance(embeddings, list) and embeddings:
            self.vectors += len(embeddings)
            first = embeddings[0]
            if isinstance(first, list):
                self.dimensions = len(first)

    def add_provider_response(self, response: Any) -> None:
        """Usage and model from one SDK response made for this call (the tap)."""
        self.response_model = field(response, "model") or self.response_model
        usage = from_openai_format(field(response, "usage"))
        if usage.input_tokens is None:
            return
        if self.usage is None:
            self.usage = usage
        else:
            self.usage.input_tokens = (self.usage.input_tokens or 0) + usage.input_tokens

    def complete(self, carries_usage: bool) -> None:
        record = self.record
        metadata = record.metadata
        metadata["embedding_count"] = self.vectors
        metadata["embedding_batches"] = self.batches
        if self.dimensions is not None:
            metadata["embedding_dimensions"] = self.dimensions
        record.response_model = self.response_model
        if carries_usage and self.usage is not None:
            record.usage = self.usage
        record.resolver = partial(_resolve_input, self.texts)


def _resolve_input(texts: list[str], record: Record) -> None:
    record.input = [text_message("user", text) for text in texts]
