"""`python -m llmtap` is the `llmtap` command."""

import sys

from llmtap.cli import main

sys.exit(main())
