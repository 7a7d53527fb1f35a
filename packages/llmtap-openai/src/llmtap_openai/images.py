"""Images (`/images/generations`, `/images/edits`, `/images/variations`).

Each image in the response becomes one output part: a `uri` part for a URL, or, for
base64 images, a blob placeholder with its type and decoded size. The base64 bytes are
never kept in a record: one image is megabytes. Uploaded images are described the same
way (name, size, type).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import Message, Part, base64_size, blob_part, field, text_part
from llmtap.record import Record, Status
from llmtap.stainless import given
from llmtap.streams import StreamRecorder
from llmtap.usage import from_input_output_format, raw_usage
from llmtap_openai.request import Request
from llmtap_openai.uploads import uploads
from llmtap_openai.wrappers import Surface

# How base64 image data begins, per format: enough to name a type the response omits.
_BASE64_MAGIC = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("UklGR", "image/webp"),
    ("R0lGOD", "image/gif"),
)


def image_mime_type(output_format: Any, data: str) -> str | None:
    """From the response's `output_format` (GPT image models), else from the data itself."""
    if isinstance(output_format, str) and output_format:
        return "image/svg+xml" if output_format == "svg" else f"image/{output_format}"
    for prefix, mime_type in _BASE64_MAGIC:
        if data.startswith(prefix):
            return mime_type
    return None


class ImageRequest(Request):
    """An image request; uploaded images are sized at call time, never read."""

    __slots__ = ("images", "prompt")

    SETTINGS = frozenset(
        {
            "size",
            "quality",
            "n",
            "style",
            "background",
            "output_format",
            "output_compression",
            "moderation",
            "response_format",
            "partial_images",
            "input_fidelity",
            "user",
        }
    )

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(client, kwargs)
        self.prompt: Any = kwargs.get("prompt")
        self.images = uploads(kwargs.get("image"))

    def apply(self, record: Record) -> None:
        super().apply(record)
        parts = [upload.part("image") for upload in self.images]
        if given(self.prompt):
            parts.append(text_part(self.prompt))
        record.input = [{"role": "user", "parts": parts}] if parts else None


def _image_part(image: Any, output_format: Any) -> Part:
    data = field(image, "b64_json")
    if data:
        part = blob_part("image", image_mime_type(output_format, data), base64_size(data))
    else:
        part = {"type": "uri", "modality": "image", "uri": field(image, "url")}
    revised_prompt = field(image, "revised_prompt")
    if revised_prompt:
        part["revised_prompt"] = revised_prompt
    return part


def _output(parts: list[Part]) -> list[Message]:
    return [{"role": "assistant", "parts": parts, "finish_reason": None}]


def _apply_usage(record: Record, usage: Any) -> None:
    record.usage = from_input_output_format(usage)
    record.provider_usage = raw_usage(usage)


def resolve_images(request: ImageRequest, response: Any, record: Record) -> None:
    """Fill a record from an `ImagesResponse` (runs on the worker)."""
    request.apply(record)
    output_format = field(response, "output_format")
    record.output = _output([_image_part(i, output_format) for i in field(response, "data") or ()])
    _apply_usage(record, field(response, "usage"))
    svg_usage = field(response, "svg_usage")  # 3.x: SVG authoring, billed on its own model
    if svg_usage is not None:
        record.metadata["openai.svg_usage"] = raw_usage(svg_usage)


class ImageStreamRecorder(StreamRecorder):
    """Counts partial images and keeps the final event's size, type and usage.

    Every event carries a whole base64 image, so no event is kept: only a placeholder
    part per completed image and the last usage.
    """

    __slots__ = ("images", "partial_images", "request", "seen", "usage")

    def __init__(self, generation: Generation, request: ImageRequest, _hide: bool) -> None:
        super().__init__(generation)
        self.request = request
        self.seen = 0
        self.partial_images = 0
        self.images: list[Part] = []
        self.usage: Any = None

    def observe(self, chunk: Any) -> bool:
        self.seen += 1
        kind = getattr(chunk, "type", None) or ""
        if kind.endswith(".partial_image"):
            self.partial_images += 1
        elif kind.endswith(".completed"):
            data = getattr(chunk, "b64_json", None) or ""
            mime_type = image_mime_type(getattr(chunk, "output_format", None), data)
            self.images.append(blob_part("image", mime_type, base64_size(data) if data else None))
            self.usage = getattr(chunk, "usage", None)
        else:
            return True
        self.generation.mark_first_token()  # the first image, partial or final
        return True

    def chunk_count(self) -> int:
        return self.seen

    def complete(self, status: Status) -> Status:
        self.generation.record.resolver = partial(_resolve_stream, self)
        if status == "ok" and not self.images:
            return "incomplete"  # the stream ended before the final image
        return status


def _resolve_stream(recorder: ImageStreamRecorder, record: Record) -> None:
    recorder.request.apply(record)
    record.output = _output(recorder.images) if recorder.images else None
    record.metadata["partial_image_count"] = recorder.partial_images
    _apply_usage(record, recorder.usage)


IMAGE = Surface(
    operation="image", request=ImageRequest, resolve=resolve_images, recorder=ImageStreamRecorder
)
IMAGE_EDIT = Surface(
    operation="image.edit",
    request=ImageRequest,
    resolve=resolve_images,
    recorder=ImageStreamRecorder,
)
IMAGE_VARIATION = Surface(operation="image.variation", request=ImageRequest, resolve=resolve_images)

# (module, sync method, async method, surface)
TARGETS: tuple[tuple[str, str, str, Surface], ...] = (
    ("openai.resources.images", "Images.generate", "AsyncImages.generate", IMAGE),
    ("openai.resources.images", "Images.edit", "AsyncImages.edit", IMAGE_EDIT),
    (
        "openai.resources.images",
        "Images.create_variation",
        "AsyncImages.create_variation",
        IMAGE_VARIATION,
    ),
)
