"""The HTTP server behind `llmtap ui`: a JSON API over the store and the page's static files.

It is the standard library's `ThreadingHTTPServer`, not a web framework: the UI serves one
person on one machine, answers a handful of GET routes with JSON, and must not add a
dependency to a core package whose promise is to stay light. Each request opens the store
read-only (`Store`, `mode=ro`) on its own thread, so a slow query never blocks the page
and looking can never lock out the application writing the store.

Rules it keeps:
- GET and HEAD only; every other method gets 405.
- Bound to loopback, it answers only requests whose Host header names loopback
  (`localhost`, `127.x.x.x`, `[::1]`), so a web page on another origin cannot reach it
  through DNS rebinding. Binding elsewhere needs an explicit `allow_remote`.
- Static files come from a fixed list read at start-up; no request path reaches the disk.
"""

from __future__ import annotations

import ipaddress
import json
import mimetypes
import socket
import sys
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from llmtap.store import Store, StoreError
from llmtap.timewindow import window
from llmtap.ui import queries

STATIC = Path(__file__).parent / "static"

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
}


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, without its port: `[::1]:8000` gives `::1`."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


_SERVED = {".html", ".js", ".css"}


def _static_files() -> dict[str, tuple[bytes, str]]:
    files = {}
    for path in sorted(STATIC.rglob("*")):
        if path.suffix in _SERVED:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind == "application/javascript":
                kind += "; charset=utf-8"
            files["/static/" + path.relative_to(STATIC).as_posix()] = (path.read_bytes(), kind)
    files["/"] = files["/static/index.html"]
    return files


class UIServer(ThreadingHTTPServer):
    """Serves the page and the API over the store at `db_path`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, db_path: Path, *, allow_remote: bool = False):
        if not is_loopback(host) and not allow_remote:
            raise PermissionError(
                f"refusing to serve on {host}: the store holds prompts and outputs, so the UI "
                "binds to loopback only. Pass --allow-remote to serve on another address."
            )
        if ":" in host.strip("[]"):
            self.address_family = socket.AF_INET6
        self.host = host
        self.db_path = db_path
        self.loopback_only = is_loopback(host)
        self.files = _static_files()
        self.buckets = queries.BucketCache()
        super().__init__((host.strip("[]"), port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page closed or navigated away mid-answer is routine, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host = self.host.strip("[]")
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server_address[1]}/"


class _HTTPError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


Query = dict[str, list[str]]
"""A request's query string, parsed."""


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1].strip() or None if values else None


def _trace_filter(query: Query) -> queries.TraceFilter:
    since, until = window(_one(query, "since"), _one(query, "until"))
    return queries.TraceFilter(
        since=since,
        until=until,
        provider=_one(query, "provider"),
        model=_one(query, "model"),
        status=_one(query, "status"),
        tag=_one(query, "tag"),
        thread=_one(query, "thread"),
        user=_one(query, "user"),
        q=_one(query, "q"),
    )


def _traces(server: UIServer, store: Store, rest: str, query: Query) -> Any:
    if rest:
        return queries.trace(store, rest)
    cursor = _one(query, "cursor")
    limit = int(_one(query, "limit") or queries.PAGE)
    if not 1 <= limit <= 500:
        raise ValueError("limit must be between 1 and 500")
    return queries.list_traces(
        store,
        _trace_filter(query),
        after=None if cursor is None else queries.parse_cursor(cursor),
        limit=limit,
    )


def _threads(server: UIServer, store: Store, rest: str, query: Query) -> Any:
    if not rest:
        raise LookupError("give a thread id: /api/threads/<id>")
    return queries.thread(store, rest)


def _dashboard(server: UIServer, store: Store, rest: str, query: Query) -> Any:
    wanted = _one(query, "since") or "24h"
    since, until = window(None if wanted == "all" else wanted, _one(query, "until"))
    return queries.dashboard(store, since, until, cache=server.buckets)


_ROUTES: dict[str, Callable[[UIServer, Store, str, Query], Any]] = {
    "traces": _traces,
    "threads": _threads,
    "dashboard": _dashboard,
    "facets": lambda server, store, rest, query: queries.facets(store),
    "changes": lambda server, store, rest, query: queries.changes(store),
}


class Handler(BaseHTTPRequestHandler):
    server: UIServer
    server_version = "llmtap-ui"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _refuse_method(self) -> None:
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            _json({"error": "read-only: only GET and HEAD are served"}),
            "application/json",
            extra={"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a page polls every few seconds, and the terminal is the user's."""

    def _respond(self, send_body: bool) -> None:
        if self.server.loopback_only and not is_loopback(host_name(self.headers["Host"] or "")):
            body = _json({"error": "this server answers only requests addressed to loopback"})
            self._send(HTTPStatus.FORBIDDEN, body, "application/json", send_body)
            return
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):
            status, body = self._api(url.path[len("/api/") :], parse_qs(url.query))
            self._send(status, body, "application/json", send_body)
            return
        found = self.server.files.get(url.path)
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", send_body)
        else:
            self._send(HTTPStatus.OK, found[0], found[1], send_body)

    def _api(self, path: str, query: Query) -> tuple[HTTPStatus, bytes]:
        name, _, rest = path.partition("/")
        route = _ROUTES.get(name)
        try:
            if route is None:
                raise _HTTPError(HTTPStatus.NOT_FOUND, f"no API route /api/{name}")
            with Store(self.server.db_path) as store:
                return HTTPStatus.OK, _json(route(self.server, store, unquote(rest), query))
        except _HTTPError as exc:
            return exc.status, _json({"error": str(exc)})
        except LookupError as exc:
            return HTTPStatus.NOT_FOUND, _json({"error": str(exc).strip("'\"")})
        except ValueError as exc:
            return HTTPStatus.BAD_REQUEST, _json({"error": str(exc)})
        except StoreError as exc:
            return HTTPStatus.SERVICE_UNAVAILABLE, _json({"error": str(exc)})
        except Exception as exc:  # a bug: say so on the page and in the terminal
            print(f"llmtap ui: {self.path}: {exc!r}", file=sys.stderr)
            return HTTPStatus.INTERNAL_SERVER_ERROR, _json({"error": repr(exc)})

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        kind: str,
        send_body: bool = True,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in {**_SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()
