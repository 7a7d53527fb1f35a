"""The `llmtap` command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from llmtap.integrations import IntegrationNotInstalled, load


def _demo(args: argparse.Namespace) -> int:
    if args.db:
        os.environ["LLMTAP_DB"] = args.db
    try:
        load("openai")
        demo = importlib.import_module("llmtap_openai.demo")
    except (IntegrationNotInstalled, ModuleNotFoundError) as exc:
        print(
            f"llmtap demo needs the OpenAI integration and vcrpy ({exc}).\n"
            'Run: pip install "llmtap[demo]"',
            file=sys.stderr,
        )
        return 2
    return int(demo.run())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmtap", description="Look at what llmtap recorded.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="replay bundled OpenAI traffic through the real SDK with llmtap on, then show it",
    )
    demo.add_argument("--db", help="store to write to (default: $LLMTAP_DB or ./.llmtap/llmtap.db)")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
