"""Public facts: cells the world knows already are published and fixed for every attacker.

The number of councils invited per group, or a response count that is published, is known to
everyone: the engine never hides it, never treats it as primary, and protects the other cells
with it as a fixed value of the linked system (a number printed beside the tables that the
release hid would otherwise unlock hidden cells by subtraction).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reporting.disclosure import Cell, DisclosureInputError, audit, protect

from .examples import example_b_frequency

ROOT = Path(__file__).resolve().parents[3]
# Margins cheap and inner cells dear: without public facts the grand total is hidden.
COSTS = {"total|total": 0, "A|total": 0, "total|female": 0, "total|male": 0}


def _public(cells: list[Cell], *ids: str) -> list[Cell]:
    return [
        Cell(c.id, value=c.value, contributors=c.contributors, public=c.id in ids) for c in cells
    ]


def test_a_public_total_is_published_and_the_rest_still_protected() -> None:
    cells, relations = example_b_frequency()
    hidden_without = protect(cells, relations, costs=COSTS)
    assert hidden_without.cell("total|total").status == "secondary"
    result = protect(_public(cells, "total|total"), relations, costs=COSTS)
    assert result.passed, result.audit
    assert result.cell("total|total").status == "published"
    low, high = result.cell("A|female").interval
    assert high - low > 0


def test_a_public_cell_is_never_primary() -> None:
    cells, relations = example_b_frequency()
    # A female (2 councils) is primary by the minimum frequency rule, unless it is public.
    result = protect(_public(cells, "A|female"), relations)
    assert result.cell("A|female").status == "published"
    assert result.passed


def test_a_public_cell_cannot_be_audited_as_hidden() -> None:
    cells, relations = example_b_frequency()
    with pytest.raises(DisclosureInputError, match="public"):
        audit(_public(cells, "total|total"), relations, hidden=["A|female", "total|total"])


@pytest.mark.parametrize(("public", "code"), [(True, 0), ("yes", 2)])
def test_cli_reads_public_cells(tmp_path: Path, public, code: int) -> None:
    cells, relations = example_b_frequency()
    document = {
        "cells": [
            {"id": c.id, "value": c.value, "contributors": c.contributors}
            | ({"public": public} if c.id == "total|total" else {})
            for c in cells
        ],
        "relations": [{"total": r.total, "parts": list(r.parts)} for r in relations],
        "costs": COSTS,
    }
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "reporting.disclosure", "protect", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == code, completed.stderr
    if code == 0:
        cells_out = {c["id"]: c for c in json.loads(completed.stdout)["cells"]}
        assert cells_out["total|total"] == {
            "id": "total|total",
            "status": "published",
            "value": 100,
            "interval": None,
        }
    else:
        assert "public must be true or false" in completed.stderr
