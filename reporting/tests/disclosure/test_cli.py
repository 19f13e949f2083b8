"""The command line, run as a subprocess exactly as the release builder's scripts will."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reporting.disclosure import Cell, Relation

from .examples import INSIDER_TABLE, insider_table
from .insider_check import insider_p_violations

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reporting.disclosure", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


GOOD = {
    "rules": {"min_contributors": 3, "p": 10, "nk": None},
    "cells": [
        {"id": "A|male", "contributions": [18, 15, 13]},
        {"id": "A|female", "contributions": [11, 9]},
        {"id": "A|total", "value": 66},
        {
            "id": "B|male",
            "contributions": [
                {"contributor": "E06000001", "value": 12},
                {"contributor": "E06000002", "value": 14},
                {"contributor": "E06000003", "value": 10},
            ],
        },
        {
            "id": "B|female",
            "contributions": [
                {"contributor": "E06000001", "value": 9},
                {"contributor": "E06000004", "value": 11},
                {"contributor": "E06000005", "value": 12},
            ],
        },
        {"id": "B|total", "value": 68},
        {"id": "C|male", "value": 10, "contributors": 10},
        {"id": "C|female", "value": 12, "contributors": 12},
        {"id": "C|total", "value": 22, "contributors": 22},
        {"id": "T|male", "value": 92},
        {"id": "T|female", "value": 64},
        {"id": "T|total", "value": 156},
    ],
    "relations": [
        {"total": "A|total", "parts": ["A|male", "A|female"]},
        {"total": "B|total", "parts": ["B|male", "B|female"]},
        {"total": "C|total", "parts": ["C|male", "C|female"]},
        {"total": "T|male", "parts": ["A|male", "B|male", "C|male"]},
        {"total": "T|female", "parts": ["A|female", "B|female", "C|female"]},
        {"total": "T|total", "parts": ["A|total", "B|total", "C|total"]},
        {"total": "T|total", "parts": ["T|male", "T|female"]},
    ],
    "costs": {"T|total": 1000},
}


def test_cli_protect_prints_statuses_intervals_and_a_passed_audit(tmp_path: Path) -> None:
    completed = _run("protect", _write(tmp_path, GOOD))
    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)
    cells = {c["id"]: c for c in output["cells"]}
    assert [c["id"] for c in output["cells"]] == sorted(cells)
    assert cells["A|female"]["status"] == "primary"
    assert cells["A|female"]["value"] is None
    low, high = cells["A|female"]["interval"]
    # p% protection of A female (x1 = 11, x2 = 9): 1.1 above and below its value 20.
    assert low <= 18.9 and high >= 21.1
    assert sum(c["status"] == "secondary" for c in cells.values()) >= 1
    assert cells["T|total"]["status"] == "published" and cells["T|total"]["value"] == 156
    assert output["audit"] == {
        "passed": True,
        "exact_disclosures": [],
        "under_protected": [],
        "insider_disclosures": [],
        "insider_under_protected": [],
    }
    # Rule parameters are confidential: nothing but cells, the audit and counts is printed.
    assert set(output) == {"cells", "audit", "summary"}
    summary = output["summary"]
    assert summary["hidden"] == sum(c["value"] is None for c in output["cells"])
    assert summary["primary_rule"] == sum(c["status"] == "primary" for c in output["cells"])
    assert summary["secondary"] == sum(c["status"] == "secondary" for c in output["cells"])
    assert set(summary["tables"]) == {"A", "B", "C", "T"}
    assert all(set(c) == {"id", "status", "value", "interval"} for c in output["cells"])


def test_cli_prints_integral_intervals_as_integers(tmp_path: Path) -> None:
    completed = _run("protect", _write(tmp_path, GOOD))
    for cell in json.loads(completed.stdout)["cells"]:
        for bound in cell["interval"] or []:
            assert not (isinstance(bound, float) and bound.is_integer())


def _assert_refused(completed: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert completed.returncode == 2
    assert completed.stdout == ""
    message = completed.stderr.strip()
    assert len(message.splitlines()) == 1
    assert fragment in message


def test_cli_unknown_command_is_refused() -> None:
    _assert_refused(_run("suppress", "x.json"), "usage")


def test_cli_missing_argument_is_refused() -> None:
    _assert_refused(_run("protect"), "usage")


def test_cli_unreadable_file_is_refused(tmp_path: Path) -> None:
    _assert_refused(_run("protect", str(tmp_path / "missing.json")), "cannot read")


def test_cli_bad_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    _assert_refused(_run("protect", str(path)), "not valid JSON")


def _with(**changes: object) -> dict:
    document = json.loads(json.dumps(GOOD))
    document.update(changes)
    return document


BAD_INPUTS = {
    "relation does not add up": (
        _with(relations=[{"total": "A|total", "parts": ["A|male"]}]),
        "does not add up",
    ),
    "negative value": (_with(cells=[{"id": "x", "value": -1}]), "negative"),
    "negative contribution": (_with(cells=[{"id": "x", "contributions": [3, -1]}]), "negative"),
    "unknown id": (
        _with(relations=[{"total": "A|total", "parts": ["A|male", "nowhere"]}]),
        "unknown cell nowhere",
    ),
    "duplicate id": (
        _with(cells=[{"id": "x", "value": 1}, {"id": "x", "value": 1}], relations=[], costs={}),
        "duplicate cell id x",
    ),
    "value disagrees with contributions": (
        _with(cells=[{"id": "x", "value": 5, "contributions": [1, 2]}], relations=[], costs={}),
        "disagrees",
    ),
    "p out of range": (_with(rules={"p": 100}), "p must be"),
    "p zero": (_with(rules={"p": 0}), "p must be"),
    "k out of range": (_with(rules={"nk": [2, 120]}), "nk k"),
    "n below one": (_with(rules={"min_contributors": 0}), "min_contributors"),
    "cost for unknown cell": (_with(costs={"nowhere": 3}), "unknown cell nowhere"),
    "cells not a list": (_with(cells={"id": "x"}), "cells must be a list"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_cli_inconsistent_input_is_refused_with_one_line(tmp_path: Path, name: str) -> None:
    document, fragment = BAD_INPUTS[name]
    _assert_refused(_run("protect", _write(tmp_path, document)), fragment)


def _insider_document(costs: dict, changes: dict) -> tuple[dict, list[Cell], list[Relation]]:
    """The insider table of the examples as CLI input (named councils), with changed cells."""
    given = {**INSIDER_TABLE, **changes}
    cells, relations = insider_table()
    cells = [Cell(c.id, contributions=given[c.id]) if c.id in given else c for c in cells]
    document = {
        "rules": {"min_contributors": 3, "p": 10},
        "cells": [
            {"id": c.id, "contributions": [{"contributor": k, "value": v} for k, v in given[c.id]]}
            if c.id in given
            else {"id": c.id, "value": c.value}
            for c in cells
        ],
        "relations": [{"total": r.total, "parts": list(r.parts)} for r in relations],
        "costs": costs,
    }
    return document, cells, relations


INSIDER_CASES = {
    # The cheapest outsider-safe pattern is the hypercube r1|a, r1|b, r2|a, r2|b; E2 gives 30
    # of r1|b's 37 and would bound its neighbour E1 (100 in r1|a) at 109 < 110.
    "upper side": ({}, {}),
    # The same with the other column dear: the pattern must find another way round.
    "upper side, column c dear": ({"r1|c": 1000, "r2|c": 1000}, {}),
    # E2 also gives 58 of r2|b's 60: from below as well it would pin E1 within 10%.
    "both sides": ({}, {"r2|b": [("E2", 58), ("E9", 1), ("E10", 1)]}),
}


@pytest.mark.parametrize("name", sorted(INSIDER_CASES))
def test_cli_protects_p_cells_against_the_second_largest_council(tmp_path: Path, name) -> None:
    document, cells, relations = _insider_document(*INSIDER_CASES[name])
    completed = _run("protect", _write(tmp_path, document))
    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)
    assert output["audit"]["passed"] is True
    assert output["audit"]["insider_under_protected"] == []
    hidden = [c["id"] for c in output["cells"] if c["status"] in ("primary", "secondary")]
    assert "r1|a" in hidden
    # An LP outside the engine, with all of E2's figures known at once, agrees.
    assert insider_p_violations(cells, relations, hidden) == []
    # The hypercube that the outsider's protection levels accept is not what was chosen.
    assert insider_p_violations(cells, relations, ["r1|a", "r1|b", "r2|a", "r2|b"])
