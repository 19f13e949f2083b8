"""Benchmark on synthetic releases like the real one: ``python3 -m reporting.disclosure.bench``.

Tables: transaction x channel x council type x region, with type totals, region totals and the
England total per (transaction, channel). Councils are spread over type x region as the 353
English councils of 2015 were (public structural counts), then 100 times that. Each council
reports a random subset of (transaction, channel) pairs with heavy-tailed values, so some cells
have one dominant council. A third, smaller linked 3-D case adds an all-channels total.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from . import Cell, Contributions, Relation, protect

TYPES = ("CTY", "NMD", "UA", "MD", "LBO", "CC", "IOS")
REGIONS = ("EM", "EE", "LON", "NE", "NW", "SE", "SW", "WM", "YH")
# Councils per type (rows) and region (columns) in July 2015: 353 in all.
COUNCILS_2015 = np.array(
    [
        [5, 5, 0, 0, 2, 7, 4, 3, 1],
        [36, 41, 0, 0, 18, 55, 25, 19, 7],
        [4, 6, 0, 7, 6, 12, 11, 4, 5],
        [0, 0, 0, 5, 15, 0, 0, 7, 9],
        [0, 0, 32, 0, 0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 1, 0, 0],
    ]
)
ALL = "ALL"


@dataclass(frozen=True)
class Shape:
    """Size of one synthetic release."""

    name: str
    transactions: int
    channels: int
    scale: int
    channel_total: bool = False


def synthetic_release(shape: Shape, seed: int = 2015) -> tuple[list[Cell], list[Relation]]:
    """Cells with named contributors and all additive relations of one synthetic release."""
    rng = np.random.default_rng(seed)
    counts = COUNCILS_2015 * shape.scale
    council_type = np.repeat(np.arange(len(TYPES)), counts.sum(axis=1))
    council_region = np.concatenate([np.repeat(np.arange(len(REGIONS)), row) for row in counts])
    councils = len(council_type)
    # Heavy-tailed council sizes: a few councils dominate the cells they report in.
    size = rng.pareto(1.2, councils) + 0.2
    pairs = shape.transactions * shape.channels
    # Which (transaction, channel) pairs each council reports, and how many transactions.
    reports = rng.random((councils, pairs)) < 0.55
    council_idx, pair_idx = np.nonzero(reports)
    values = np.maximum(1, np.round(size[council_idx] * rng.lognormal(3.0, 1.0, len(pair_idx))))
    key = (pair_idx * len(TYPES) + council_type[council_idx]) * len(REGIONS) + council_region[
        council_idx
    ]
    order = np.argsort(key, kind="stable")
    key, council_idx, values = key[order], council_idx[order], values[order]
    starts = np.searchsorted(key, np.arange(pairs * len(TYPES) * len(REGIONS) + 1))
    cells: list[Cell] = []
    relations: list[Relation] = []
    for pair in range(pairs):
        t, ch = divmod(pair, shape.channels)
        prefix = f"T{t:02d}|C{ch:02d}"
        for ti in range(len(TYPES)):
            for ri in range(len(REGIONS)):
                k = (pair * len(TYPES) + ti) * len(REGIONS) + ri
                lo, hi = starts[k], starts[k + 1]
                cells.append(
                    Cell(
                        f"{prefix}|{TYPES[ti]}|{REGIONS[ri]}",
                        contributions=Contributions(council_idx[lo:hi], values[lo:hi]),
                    )
                )
        cells.extend(_margins(prefix, cells))
        relations.extend(_table_relations(prefix))
    if shape.channel_total:
        cells, relations = _add_channel_totals(shape, cells, relations)
    return cells, relations


def _margins(prefix: str, cells: list[Cell]) -> list[Cell]:
    inner = {c.id: _value(c) for c in cells[-len(TYPES) * len(REGIONS) :]}
    margins = []
    for t in TYPES:
        margins.append(
            Cell(f"{prefix}|{t}|{ALL}", value=sum(inner[f"{prefix}|{t}|{r}"] for r in REGIONS))
        )
    for r in REGIONS:
        margins.append(
            Cell(f"{prefix}|{ALL}|{r}", value=sum(inner[f"{prefix}|{t}|{r}"] for t in TYPES))
        )
    margins.append(Cell(f"{prefix}|{ALL}|{ALL}", value=sum(inner.values())))
    return margins


def _value(cell: Cell) -> float:
    if cell.value is not None:
        return float(cell.value)
    assert isinstance(cell.contributions, Contributions)
    return float(cell.contributions.values.sum())


def _table_relations(prefix: str) -> list[Relation]:
    relations = []
    for t in TYPES:
        relations.append(
            Relation(f"{prefix}|{t}|{ALL}", tuple(f"{prefix}|{t}|{r}" for r in REGIONS))
        )
    for r in (*REGIONS, ALL):
        parts = tuple(f"{prefix}|{t}|{r}" for t in TYPES)
        relations.append(Relation(f"{prefix}|{ALL}|{r}", parts))
    return relations


def _add_channel_totals(
    shape: Shape, cells: list[Cell], relations: list[Relation]
) -> tuple[list[Cell], list[Relation]]:
    """Link the channel tables of each transaction through an all-channels table."""
    values = {c.id: _value(c) for c in cells}
    for t in range(shape.transactions):
        prefix = f"T{t:02d}|{ALL}"
        for tr in (*TYPES, ALL):
            for rg in (*REGIONS, ALL):
                parts = tuple(f"T{t:02d}|C{ch:02d}|{tr}|{rg}" for ch in range(shape.channels))
                cell_id = f"{prefix}|{tr}|{rg}"
                cells.append(Cell(cell_id, value=sum(values[p] for p in parts)))
                relations.append(Relation(cell_id, parts))
        relations.extend(_table_relations(prefix))
    return cells, relations


def run(shape: Shape) -> dict[str, float]:
    """Protect one synthetic release and return its figures."""
    cells, relations = synthetic_release(shape)
    contributors = int(COUNCILS_2015.sum() * shape.scale)
    started = time.perf_counter()
    result = protect(cells, relations)
    elapsed = time.perf_counter() - started
    statuses = [c.status for c in result.cells]
    return {
        "cells": len(cells),
        "relations": len(relations),
        "contributors": contributors,
        "primary": statuses.count("primary"),
        "secondary": statuses.count("secondary"),
        "rules_s": result.timings["rules"],
        "suppression_s": result.timings["suppression"],
        "audit_s": result.timings["audit"],
        "total_s": elapsed,
        # Peak resident memory of this process (input generation included).
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "passed": result.passed,
    }


SHAPES = (
    Shape("linked 3-D, 1 transaction x 6 channels + total", 1, 6, 1, channel_total=True),
    Shape("full, 353 councils", 22, 10, 1),
    Shape("full, 35,300 councils", 22, 10, 100),
)


def main() -> None:
    """Print one line of figures per shape, each measured in a fresh process."""
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        figures = run(SHAPES[int(sys.argv[2])])
        print(", ".join(f"{k}={_fmt(v)}" for k, v in figures.items()), flush=True)
        return
    names = sys.argv[1:]
    for number, shape in enumerate(SHAPES):
        if names and not any(n in shape.name for n in names):
            continue
        # A separate process per shape, so that peak memory is that shape's own.
        completed = subprocess.run(  # noqa: S603 (our own module, fixed arguments)
            [sys.executable, "-m", "reporting.disclosure.bench", "--one", str(number)],
            capture_output=True,
            text=True,
            check=True,
        )
        # The last line holds the figures (HiGHS may print diagnostics before it).
        print(f"{shape.name}: {completed.stdout.strip().splitlines()[-1]}", flush=True)


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
