"""Held-out rounds for comparing the engine with the reference method (``reference.py``).

Synthetic responses (``reporting.synthetic``) of the 353 councils of 2015 from seeds used
nowhere else in the project (4242 and 9090), with every council responding or a share of
them; the tables, relations and public bounds are the release's (``reporting.tables``).
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter

from reporting.bench import catalogue_2015, councils_2015
from reporting.disclosure import Cell, Relation, Rules, protect
from reporting.synthetic import synthetic_inputs
from reporting.tables import build_system

from .reference import ReferenceResult, reference_suppression

SEEDS = (4242, 9090)
RESPONDING = (1.0, 0.27)


def held_out_release(seed: int, responding: float) -> tuple[list[Cell], list[Relation]]:
    """The protected system of a held-out round: ``responding`` of the councils answered."""
    councils = councils_2015(1)
    catalogue, tiers = catalogue_2015(councils)
    if responding < 1:
        keep = random.Random(seed).sample(list(councils.index), round(responding * len(councils)))
        councils = councils.loc[sorted(keep)]
    system = build_system(catalogue, synthetic_inputs(catalogue, councils, tiers, seed=seed))
    return system.cells, system.relations


def table_of(cell_id: str) -> str:
    return cell_id.split("|", 1)[0]


def compare(seed: int, responding: float, rules: Rules | None = None, progress=None) -> dict:
    """Cells, and cells hidden by the engine and by the reference, per table kind."""
    cells, relations = held_out_release(seed, responding)
    clock = time.perf_counter()
    engine = protect(cells, relations, rules=rules)
    engine_s = time.perf_counter() - clock
    clock = time.perf_counter()
    reference: ReferenceResult = reference_suppression(cells, relations, rules, progress=progress)
    reference_s = time.perf_counter() - clock
    engine_hidden = {c.id for c in engine.cells if c.status in ("primary", "secondary")}
    engine_primary = {c.id for c in engine.cells if c.status == "primary"}
    counts = Counter(table_of(c.id) for c in cells)
    kinds = {}
    for kind in sorted(counts):
        kinds[kind] = {
            "cells": counts[kind],
            "engine": sum(table_of(c) == kind for c in engine_hidden),
            "reference": sum(table_of(c) == kind for c in reference.hidden),
            "primary": sum(table_of(c) == kind for c in engine_primary),
        }
    return {
        "seed": seed,
        "responding": responding,
        "cells": len(cells),
        "primary": len(engine_primary),
        "reference_primary": len(reference.primary),
        "engine_hidden": len(engine_hidden),
        "reference_hidden": len(reference.hidden),
        "engine_passed": engine.passed,
        "reference_passed": reference.passed,
        "reference_rounds": reference.rounds,
        "reference_failures": _failures(reference),
        "engine_s": round(engine_s, 1),
        "reference_s": round(reference_s, 1),
        "by_table": kinds,
    }


def _failures(result: ReferenceResult) -> dict[str, int]:
    audit = result.audit
    return {
        "exact": len(audit.exact_disclosures),
        "under_protected": len(audit.under_protected),
        "insider": len(audit.insider_disclosures),
        "insider_under_protected": len(audit.insider_under_protected),
        "group": len(audit.group_disclosures),
    }


def lines(row: dict) -> list[str]:
    """The comparison as printed: one line per table kind, then the totals."""
    verdict = {True: "passed", False: "FAILED"}
    head = (
        f"seed {row['seed']}, {row['responding']:.0%} responding: {row['cells']} cells, "
        f"engine hides {row['engine_hidden']} (audit {verdict[row['engine_passed']]}, "
        f"{row['engine_s']} s), reference hides {row['reference_hidden']} (audit "
        f"{verdict[row['reference_passed']]} after {row['reference_rounds']} rounds, "
        f"{row['reference_s']} s; still open: {row['reference_failures']})"
    )
    out = [head]
    for kind, k in row["by_table"].items():
        out.append(
            f"  {kind:12} cells {k['cells']:6}  primary {k['primary']:5}  "
            f"engine {k['engine']:5}  reference {k['reference']:5}"
        )
    return out


if __name__ == "__main__":
    for seed in SEEDS:
        for responding in RESPONDING:
            row = compare(seed, responding, progress=lambda text: sys.stderr.write(text + "\n"))
            sys.stdout.write("\n".join(lines(row)) + "\n")
            sys.stdout.flush()
