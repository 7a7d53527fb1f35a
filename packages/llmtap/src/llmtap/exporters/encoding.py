"""Records as compact JSON text, as fast as the installed libraries allow.

Encoding is most of an exporter's cost per record, so orjson is used when it is
installed (`pip install "llmtap[fast]"`, about 3x faster here); the standard library is
the fallback. Either way an odd value in user metadata (an object, a non-string key)
is written as text rather than failing the whole batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from llmtap.record import Record


def _stdlib_encoder() -> Callable[[Any], str]:
    # check_circular=False: records are trees; a cycle raises RecursionError, which the
    # pipeline counts like any other export failure.
    return json.JSONEncoder(
        separators=(",", ":"), skipkeys=True, default=str, check_circular=False
    ).encode


def _orjson_encoder(fallback: Callable[[Any], str]) -> Callable[[Any], str] | None:
    try:
        import orjson
    except ImportError:
        return None
    options = orjson.OPT_NON_STR_KEYS

    def encode(value: Any) -> str:
        try:
            return orjson.dumps(value, default=str, option=options).decode()
        except TypeError:  # e.g. a tuple as a dict key, which only the fallback skips
            return fallback(value)

    return encode


_stdlib = _stdlib_encoder()
encode_json: Callable[[Any], str] = _orjson_encoder(_stdlib) or _stdlib


def record_json(record: Record) -> str:
    return encode_json(record.to_dict())
