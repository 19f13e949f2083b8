"""An independent check of the p% rule against the second-largest contributor (no engine code).

For every hidden cell that is p%-unsafe, the council with the second-largest contribution knows
all of its own figures: every hidden cell is at least its own value there (exactly its value
where it is the only contributor). With ``scipy.optimize.linprog`` this finds the largest and
smallest value the cell can take for that council, given every published cell and relation,
and requires ``upper - x2 >= (1 + p/100) x1``, i.e. ``upper >= X + UPL`` with the protection
level ``UPL = p/100 x1 - (X - x1 - x2)``, and ``lower <= X - UPL`` (the same distance below, as
docs/disclosure-control.md sets it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from scipy.optimize import linprog

from reporting.disclosure import Cell, Contributions, Relation


def contributions_by_cell(
    cells: Iterable[Cell], relations: Iterable[Relation]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Values and per-council contributions of every cell (totals summed from their parts)."""
    values: dict[str, float] = {}
    known: dict[str, dict[str, float]] = {}
    for cell in cells:
        given = cell.contributions
        if isinstance(given, Contributions):
            pairs = zip(given.contributors.tolist(), given.values.tolist(), strict=True)
        elif isinstance(given, Mapping):
            pairs = given.items()
        elif given is not None:
            pairs = [
                p if isinstance(p, tuple | list) else (f"{cell.id}#{i}", p)
                for i, p in enumerate(given)
            ]
        else:
            pairs = None
        if pairs is not None:
            own: dict[str, float] = {}
            for who, value in pairs:
                own[str(who)] = own.get(str(who), 0.0) + float(value)
            known[cell.id] = own
            values[cell.id] = sum(own.values())
        else:
            values[cell.id] = float(cell.value)
    relations = list(relations)
    changed = True
    while changed:
        changed = False
        for relation in relations:
            if relation.total in known or not all(p in known for p in relation.parts):
                continue
            own = {}
            for part in relation.parts:
                for who, value in known[part].items():
                    own[who] = own.get(who, 0.0) + value
            known[relation.total] = own
            changed = True
    return values, known


def insider_p_violations(
    cells: list[Cell], relations: list[Relation], hidden: Iterable[str], p: float = 10.0
) -> list[tuple[str, str, str]]:
    """(cell, council, "upper"|"lower") wherever the second-largest council narrows the cell."""
    values, known = contributions_by_cell(cells, relations)
    hidden = sorted(set(hidden))
    column = {cell_id: j for j, cell_id in enumerate(hidden)}
    rows, rhs = [], []
    for relation in relations:
        row = np.zeros(len(hidden))
        constant = 0.0
        for cell_id, sign in [(relation.total, 1.0)] + [(q, -1.0) for q in relation.parts]:
            if cell_id in column:
                row[column[cell_id]] += sign
            else:
                constant += sign * values[cell_id]
        if row.any():
            rows.append(row)
            rhs.append(-constant)
    found = []
    for cell_id in hidden:
        own = sorted(known.get(cell_id, {}).items(), key=lambda item: -item[1])
        own = [(who, v) for who, v in own if v > 0]
        if len(own) < 2:
            continue
        total, x1, x2 = values[cell_id], own[0][1], own[1][1]
        if total - x1 - x2 >= p / 100 * x1:
            continue
        for council, mine in own[1:]:
            if mine < x2 - 1e-9:
                break
            bounds = []
            for other in hidden:
                share = known.get(other, {}).get(council, 0.0)
                sole = share > 0 and share >= values[other] - 1e-9
                bounds.append((share, share if sole else None))
            objective = np.zeros(len(hidden))
            objective[column[cell_id]] = 1.0
            for sign, side in ((-1.0, "upper"), (1.0, "lower")):
                result = linprog(
                    sign * objective,
                    A_eq=np.array(rows) if rows else None,
                    b_eq=np.array(rhs) if rows else None,
                    bounds=bounds,
                    method="highs",
                )
                if result.status == 3:  # unbounded: as wide as can be
                    continue
                assert result.status == 0, result.message
                bound = float(result.x[column[cell_id]])
                level = p / 100 * x1 - (total - x1 - x2)
                slack = 1e-6 * max(1.0, total)
                if side == "upper" and bound - mine < (1 + p / 100) * x1 - slack:
                    found.append((cell_id, council, side))
                if side == "lower" and bound > total - level + slack:
                    found.append((cell_id, council, side))
    return found
