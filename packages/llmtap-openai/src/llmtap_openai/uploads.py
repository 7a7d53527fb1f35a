"""Files uploaded with image edits and audio calls, described by name, size and type.

Uploads can be megabytes; a record keeps only what describes them, so the store stays
small and the content switch has nothing large to strip.
"""

from __future__ import annotations

import io
import mimetypes
import os
from dataclasses import dataclass
from typing import Any

from llmtap.messages import Part, blob_part
from llmtap.stainless import given


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the record describes it: name, size and type, never its bytes."""

    name: str | None
    size_bytes: int | None
    mime_type: str | None

    @classmethod
    def of(cls, file: Any) -> Upload:
        """Read on the caller's path, before the SDK consumes the file: a stream that has
        been read (or closed) can no longer be sized. Costs one `fstat` at most."""
        name = mime_type = None
        if isinstance(file, tuple):  # (name, content[, content_type[, headers]])
            name = file[0] if len(file) > 0 and isinstance(file[0], str) else None
            if len(file) > 2 and isinstance(file[2], str):
                mime_type = file[2]
            file = file[1] if len(file) > 1 else None
        size = None
        if isinstance(file, (bytes, bytearray)):
            size = len(file)
        elif isinstance(file, os.PathLike):
            path = os.fspath(file)
            name = name or os.path.basename(path)
            try:
                size = os.stat(path).st_size
            except OSError:
                size = None
        elif isinstance(file, io.BytesIO):
            try:
                with file.getbuffer() as view:
                    size = view.nbytes
            except ValueError:  # closed
                size = None
        elif hasattr(file, "read"):
            file_name = getattr(file, "name", None)
            if name is None and isinstance(file_name, str):
                name = os.path.basename(file_name)
            try:
                size = os.fstat(file.fileno()).st_size
            except (AttributeError, OSError, ValueError):
                size = None
        return cls(name, size, mime_type)

    def part(self, modality: str) -> Part:
        """The upload as a blob placeholder; the type is guessed from the name if not given."""
        mime_type = self.mime_type
        if mime_type is None and self.name:
            mime_type = mimetypes.guess_type(self.name)[0]
        return blob_part(modality, mime_type, self.size_bytes)


def uploads(files: Any) -> list[Upload]:
    """One or several files, as the SDK accepts them (`image=[...]` for edits)."""
    if not given(files):
        return []
    if isinstance(files, list):
        return [Upload.of(f) for f in files]
    return [Upload.of(files)]
