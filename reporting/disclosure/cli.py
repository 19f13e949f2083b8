"""Command line: ``python -m reporting.disclosure protect INPUT.json``.

Prints the protected table as JSON on stdout. Exit codes: 0 when the audit passed, 1 when the
audit failed (the JSON is still printed, with ``"passed": false``: the release is refused), 2 for
unusable input (a one-line message on stderr and nothing on stdout).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from . import ProtectionResult, protect
from .model import DisclosureInputError, parse_document

USAGE = "usage: python -m reporting.disclosure protect INPUT.json"
# LP results within this distance of an integer are printed as that integer.
INTEGER_TOLERANCE = 1e-6


def number(value: float | None) -> float | int | None:
    """An LP bound for JSON: integral values as int, tiny noise rounded away, inf as null."""
    if value is None or math.isinf(value):
        return None
    nearest = round(value)
    if abs(value - nearest) <= INTEGER_TOLERANCE * max(1.0, abs(value)):
        return int(nearest)
    return round(value, 6)


def render(result: ProtectionResult) -> dict[str, Any]:
    """The JSON document for a protected release (rule parameters never appear)."""
    audit = result.audit
    return {
        "cells": [
            {
                "id": cell.id,
                "status": cell.status,
                "value": number(cell.published_value),
                "interval": (
                    None
                    if cell.interval is None
                    else [number(cell.interval[0]), number(cell.interval[1])]
                ),
            }
            for cell in result.cells
        ],
        "audit": {
            "passed": audit.passed,
            "exact_disclosures": list(audit.exact_disclosures),
            "under_protected": list(audit.under_protected),
            "insider_disclosures": [
                {"cell": d.cell, "contributor": d.contributor} for d in audit.insider_disclosures
            ],
            "insider_under_protected": [
                {"cell": d.cell, "contributor": d.contributor}
                for d in audit.insider_under_protected
            ],
        },
        # Cells hidden and why, overall and per table (the part of each id before its "|").
        "summary": result.summary(),
    }


@contextlib.contextmanager
def _quiet_native_stdout() -> Iterator[None]:
    """Send anything the native solver writes to file descriptor 1 to /dev/null.

    HiGHS can print diagnostics straight to the C-level stdout, which would corrupt the JSON.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "protect":
        print(f"error: {USAGE}", file=sys.stderr)
        return 2
    try:
        with open(args[1], encoding="utf-8") as handle:
            document = json.load(handle)
        cells, relations, rules, costs = parse_document(document)
        with _quiet_native_stdout():
            result = protect(cells, relations, rules=rules, costs=costs)
    except OSError as error:
        print(f"error: cannot read {args[1]}: {error.strerror}", file=sys.stderr)
        return 2
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"error: {args[1]} is not valid JSON: {error}", file=sys.stderr)
        return 2
    except DisclosureInputError as error:
        print(f"error: invalid input: {error}", file=sys.stderr)
        return 2
    print(json.dumps(render(result), indent=1))
    return 0 if result.passed else 1
