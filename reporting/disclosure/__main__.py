"""Entry point for ``python -m reporting.disclosure``."""

import sys

from .cli import main

sys.exit(main())
