"""`llmtap demo`: real OpenAI SDK calls on bundled traffic, recorded and shown."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import TYPE_CHECKING

from llmtap.integrations import IntegrationNotInstalled, load

if TYPE_CHECKING:
    from llmtap.cli.common import Commands


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "demo",
        help="replay bundled OpenAI traffic through the real SDK with llmtap on, then show it",
    )
    parser.add_argument(
        "--db", help="store to write to (default: $LLMTAP_DB or ./.llmtap/llmtap.db)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
