"""The `llmtap` command: one module per subcommand, each adding its own parser."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from llmtap.cli import demo, doctor, export, show, stats, tail, ui
from llmtap.cli.common import CommandError
from llmtap.store import StoreError

_COMMANDS = (tail, show, stats, export, doctor, ui, demo)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="llmtap",
        description="Look at what llmtap recorded: follow, inspect, summarise and export.",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 2 for a store that cannot be read, 1 for other failures."""
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except StoreError as exc:
        print(f"llmtap: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"llmtap: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`llmtap export | head`): stop quietly, and keep Python
        # from failing again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
