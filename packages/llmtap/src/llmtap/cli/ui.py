"""`llmtap ui`: serve a read-only page over the store on loopback and open it."""

from __future__ import annotations

import argparse
import errno
import threading
import webbrowser
from typing import TYPE_CHECKING

from llmtap.cli.common import CommandError, add_db, open_store

if TYPE_CHECKING:
    from llmtap.cli.common import Commands

DEFAULT_PORT = 8377


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "ui", help="browse traces, threads and charts in a local web page (read-only)"
    )
    add_db(parser)
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port to serve on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be a non-loopback address: anyone who reaches it reads the store",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from llmtap.ui.server import UIServer  # the server's imports only for this command

    with open_store(args) as store:  # a missing or unreadable store fails here, exit 2
        path = store.path
    try:
        server = UIServer(args.host, args.port, path, allow_remote=args.allow_remote)
    except PermissionError as exc:
        raise CommandError(str(exc), 2) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {args.port} on {args.host} is in use: pass --port N for another, "
                "or --port 0 for any free one."
            ) from None
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {exc.strerror}.") from None
    print(f"llmtap ui: {server.url} (read-only, {path}); Ctrl-C stops.", flush=True)
    if not args.no_browser:
        # Some browsers block until they exit; the page is served meanwhile.
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("llmtap ui: stopped.")
    finally:
        server.server_close()
    return 0
