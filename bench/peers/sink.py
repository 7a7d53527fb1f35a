"""A tiny HTTP sink on 127.0.0.1 for tracers that upload (LangSmith, stray Langfuse calls).

Run as its own process (`python sink.py OUT`): it prints its port, answers every request
with 200 and a small JSON body, and appends each request body to OUT (zstd and gzip
bodies decompressed), so the worker can count uploads and look for the exported usage.
Its CPU is not the worker's: only the tracer's serialising and sending is timed.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# LangSmith's GET /info: the real service accepts zstd-compressed multipart uploads, so
# the client compresses as it would in production.
INFO = {"version": "0.0.0", "instance_flags": {"zstd_compression_enabled": True}}


def decompress(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


class Handler(BaseHTTPRequestHandler):
    out: Path

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the worker's output is JSON."""

    def answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(length) if length else b""
        try:
            data = decompress(data, self.headers.get("content-encoding", ""))
        except Exception as error:  # a body we cannot read is still counted
            data = f"<undecodable: {error}>".encode()
        with self.out.open("ab") as out:
            out.write(f"{self.command} {self.path} {len(data)}\n".encode() + data + b"\n")
        reply = json.dumps(INFO if self.path.rstrip("/").endswith("/info") else {}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PATCH = do_PUT = answer


def main() -> None:
    Handler.out = Path(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
