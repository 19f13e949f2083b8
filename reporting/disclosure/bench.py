"""Benchmark on synthetic releases like the real one: ``python3 -m reporting.disclosure.bench``.

Tables: transaction x channel x council type x region, with type totals, region totals and the
England total per (transaction, channel). Councils are spread over type x region as the 353
English councils of 2015 were (public structural counts), then 100 times that. Each council
reports a random subset of (transaction, channel) pairs with heavy-tailed values, so some cells
have one dominant council. A third, smaller linked 3-D case adds an all-channels total.

The "release" shapes are built like a real survey round (:func:`realistic_release`): 22
transactions x 10 channels plus an all-channels total, x 7 council types x 9 regions with type,
region and England totals, all linked as one system; county services are not delivered by
districts and district services not by counties (structural zeros), rare channels are offered by
few councils and a handful of very large councils dominate.

``python -m reporting.disclosure.bench [--against DIR] [NAME ...]`` runs the shapes whose name
contains one of the NAMEs; with ``--against`` the same inputs are also protected by the copy of
this package in DIR (e.g. an older version kept outside the repository) and the ratio of the
total times is printed.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import Cell, Contributions, Relation, protect
from .parallel import peak_rss_mb

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
    # Council-type delivery patterns, dominant councils and rare channels (realistic_release).
    realistic: bool = False


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
    return _assemble(shape, council_idx, pair_idx, values, council_type, council_region)


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


# Which council types deliver each kind of transaction: county services are not delivered by
# districts (NMD) and district services not by counties (CTY); unitary authorities do both.
DELIVERS = {
    "county": np.array([True, False, True, True, True, True, True]),
    "district": np.array([False, True, True, True, True, True, True]),
    "all": np.ones(len(TYPES), dtype=bool),
}
# How widely each channel is used (share of delivering councils offering it) and its weight.
CHANNEL_USE = np.array([0.95, 0.9, 0.85, 0.6, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05])
CHANNEL_WEIGHT = np.array([3.0, 2.5, 4.0, 1.0, 0.7, 0.5, 0.3, 0.2, 0.1, 0.1])


def realistic_release(shape: Shape, seed: int = 2015) -> tuple[list[Cell], list[Relation]]:
    """A release shaped like the real one, with the skew and structural zeros of real councils.

    Transactions are county, district or all-council services; a few very large councils
    dominate (Pareto sizes plus a handful of outliers); rarer channels are offered by few
    councils, so many cells hold one or two councils or none.
    """
    rng = np.random.default_rng(seed)
    counts = COUNCILS_2015 * shape.scale
    council_type = np.repeat(np.arange(len(TYPES)), counts.sum(axis=1))
    council_region = np.concatenate([np.repeat(np.arange(len(REGIONS)), row) for row in counts])
    councils = len(council_type)
    size = rng.pareto(1.1, councils) + 0.1
    size[rng.choice(councils, max(3, councils // 100), replace=False)] *= 25
    kinds = np.array((["county"] * 8 + ["district"] * 8 + ["all"] * 6) * 4)[: shape.transactions]
    channels = shape.channels
    use = np.resize(CHANNEL_USE, channels)
    weight = np.resize(CHANNEL_WEIGHT, channels)
    council_list, pair_list, value_list = [], [], []
    for t in range(shape.transactions):
        delivers = DELIVERS[str(kinds[t])][council_type] & (rng.random(councils) < 0.85)
        volume = rng.lognormal(4.0, 1.0)
        offers = (rng.random((councils, channels)) < use) & delivers[:, None]
        council_idx, channel_idx = np.nonzero(offers)
        noise = rng.lognormal(0.0, 0.8, len(council_idx))
        share = weight[channel_idx] * noise
        council_list.append(council_idx)
        pair_list.append(t * channels + channel_idx)
        value_list.append(np.maximum(1, np.round(volume * size[council_idx] * share)))
    return _assemble(
        shape,
        np.concatenate(council_list),
        np.concatenate(pair_list),
        np.concatenate(value_list),
        council_type,
        council_region,
    )


def _assemble(
    shape: Shape,
    council_idx: np.ndarray,
    pair_idx: np.ndarray,
    values: np.ndarray,
    council_type: np.ndarray,
    council_region: np.ndarray,
) -> tuple[list[Cell], list[Relation]]:
    """Cells and relations from (council, transaction x channel pair, value) triples."""
    pairs = shape.transactions * shape.channels
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


def run(shape: Shape, against: str | None = None) -> dict[str, object]:
    """Protect one synthetic release and return its figures.

    ``against``: directory of another copy of this package (e.g. an older version kept outside
    the repository); the same inputs are then protected by it instead, for a same-run ratio.
    """
    cells, relations = (realistic_release if shape.realistic else synthetic_release)(shape)
    contributors = int(COUNCILS_2015.sum() * shape.scale)
    engine = _engine(against)
    if engine is not None:
        cells = [engine.Cell(**_fields(c, engine)) for c in cells]
        relations = [engine.Relation(r.total, r.parts, r.group_check) for r in relations]
    started = time.perf_counter()
    result = (engine.protect if engine is not None else protect)(cells, relations)
    elapsed = time.perf_counter() - started
    statuses = [c.status for c in result.cells]
    summary = result.summary(_table_kind) if hasattr(result, "summary") else None
    return {
        "cells": len(cells),
        "relations": len(relations),
        "contributors": contributors,
        "primary": statuses.count("primary"),
        "secondary": statuses.count("secondary"),
        # The reference: the same choice before the trim (None for an engine without it).
        "secondary_untrimmed": getattr(result, "secondary_untrimmed", None),
        "hidden_cost": sum(c.value for c in result.cells if c.status == "secondary"),
        "hidden_share": summary["hidden_share"] if summary else None,
        "hidden_by_kind": _shares(summary) if summary else None,
        "rules_s": result.timings["rules"],
        "suppression_s": result.timings["suppression"],
        "audit_s": result.timings["audit"],
        "total_s": elapsed,
        # Peak resident memory of this process (input generation included) or of a child
        # protecting, whichever is bigger.
        "peak_rss_mb": peak_rss_mb(),
        "passed": result.passed,
    }


def _table_kind(cell_id: str) -> str:
    """Inner cells, type or region margins, or England totals; channels or all channels."""
    _transaction, channel, kind, region = cell_id.split("|")
    margin = {(False, False): "inner", (True, True): "england"}.get(
        (kind == ALL, region == ALL), "margin"
    )
    return f"{'all-channels' if channel == ALL else 'channel'} {margin}"


def _shares(summary: dict[str, Any]) -> str:
    """Share hidden per table kind and why (primary rule/group rule/secondary), compactly."""
    return "; ".join(
        f"{kind} {tally['hidden_share']:.0%} "
        f"({tally['primary_rule']}/{tally['group_rule']}/{tally['secondary']})"
        for kind, tally in summary["tables"].items()
    )


def _engine(against: str | None) -> Any:
    if against is None:
        return None
    path = Path(against).resolve()
    sys.path.insert(0, str(path.parent))
    return importlib.import_module(path.name)


def _fields(cell: Cell, engine: Any) -> dict[str, object]:
    given = cell.contributions
    if isinstance(given, Contributions):
        given = engine.Contributions(given.contributors, given.values)
    return {
        "id": cell.id,
        "value": cell.value,
        "contributions": given,
        "contributors": cell.contributors,
        "frequency": cell.frequency,
        "forced_primary": cell.forced_primary,
    }


SHAPES = (
    Shape("linked 3-D, 1 transaction x 6 channels + total", 1, 6, 1, channel_total=True),
    Shape("full, 353 councils", 22, 10, 1),
    Shape("full, 35,300 councils", 22, 10, 100),
    Shape("release, 353 councils", 22, 10, 1, channel_total=True, realistic=True),
    Shape("release, 35,300 councils", 22, 10, 100, channel_total=True, realistic=True),
)


def main() -> None:
    """Print one line of figures per shape, each measured in a fresh process.

    ``--against DIR`` also protects the same inputs with the copy of the package in DIR and
    prints the ratio of its total time to this one's.
    """
    args = sys.argv[1:]
    against = None
    if "--against" in args:
        at = args.index("--against")
        against = args[at + 1]
        del args[at : at + 2]
    if len(args) >= 2 and args[0] == "--one":
        figures = run(SHAPES[int(args[1])], args[2] if len(args) > 2 else None)
        print(", ".join(f"{k}={_fmt(v)}" for k, v in figures.items()), flush=True)
        return
    for number, shape in enumerate(SHAPES):
        if args and not any(n in shape.name for n in args):
            continue
        mine = _measure(number, None)
        print(f"{shape.name}: {mine}", flush=True)
        if against is not None:
            theirs = _measure(number, against)
            print(f"{shape.name} [against]: {theirs}", flush=True)
            ratio = _total(theirs) / max(_total(mine), 1e-9)
            print(f"{shape.name}: speed-up x{ratio:.1f}", flush=True)


def _measure(number: int, against: str | None) -> str:
    # A separate process per shape, so that peak memory is that shape's own.
    command = [sys.executable, "-m", "reporting.disclosure.bench", "--one", str(number)]
    completed = subprocess.run(  # noqa: S603 (our own module, fixed arguments)
        command + ([against] if against else []),
        capture_output=True,
        text=True,
        check=True,
    )
    # The last line holds the figures (HiGHS may print diagnostics before it).
    return completed.stdout.strip().splitlines()[-1]


def _total(figures: str) -> float:
    fields = dict(item.split("=", 1) for item in figures.split(", "))
    return float(fields["total_s"])


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
