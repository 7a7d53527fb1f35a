"""The GenAI client metrics (conventions v1.41.0), with the buckets the conventions advise.

`gen_ai.server.time_to_first_token` is a server metric in the conventions; it is also
recorded, from the client's measurement, because dashboards built on OpenLLMetry read
it. `gen_ai.client.operation.time_to_first_chunk` is the client's own.
"""

from __future__ import annotations

from opentelemetry.metrics import Meter

from llmtap.otel.attributes import METRIC_KEYS, Attributes
from llmtap.record import Record

TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
)  # fmt: skip
DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92
)  # fmt: skip
FIRST_TOKEN_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
)  # fmt: skip


class GenAIMetrics:
    """The instruments of one meter; `record` adds one model call's data points."""

    def __init__(self, meter: Meter) -> None:
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.first_token = meter.create_histogram(
            "gen_ai.server.time_to_first_token",
            unit="s",
            description="Time to generate the first token, as the client measured it.",
            explicit_bucket_boundaries_advisory=FIRST_TOKEN_BUCKETS,
        )

    def record(self, record: Record, span_attributes: Attributes) -> None:
        common = {k: span_attributes[k] for k in METRIC_KEYS if k in span_attributes}
        error = span_attributes.get("error.type")
        duration = common if error is None else {**common, "error.type": error}
        if record.duration_s is not None:
            self.duration.record(record.duration_s, duration)
        # Counted tokens only: the conventions forbid estimates in this metric.
        usage = record.usage
        if not record.usage_estimated:
            if usage.input_tokens is not None:
                self.tokens.record(usage.input_tokens, {**common, "gen_ai.token.type": "input"})
            if usage.output_tokens is not None:
                self.tokens.record(usage.output_tokens, {**common, "gen_ai.token.type": "output"})
        first = record.time_to_first_token_s
        if record.stream and first is not None and error is None:
            self.first_chunk.record(first, common)
            self.first_token.record(first, common)
