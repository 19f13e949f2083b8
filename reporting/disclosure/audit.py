"""Independent audit: what an attacker can work out from everything that is published.

For every hidden cell the audit solves two linear programmes (HiGHS through
``scipy.optimize.linprog``): the smallest and largest value the cell can take subject to every
additive relation, every published cell fixed at its value, every value >= 0 and every value at
most its public upper bound (``Cell.upper``, e.g. councils responding <= councils invited: a
cell at its bound can only fall, which can pin it where [0, inf) would not). This is the
feasibility interval. The code shares nothing with the chooser in ``suppress.py`` except the
compiled input, so a fault in the chooser cannot hide itself here.

Speed without loss of exactness:

* The hidden cells split into independent blocks (connected through relations). Each block's
  LP is passed to HiGHS once (:class:`~.solver.LinearProgram`) and re-solved for every objective
  and bound change from the previous basis: a few simplex pivots instead of a new model per LP.
  The blocks share nothing, so solving them one by one gives the same optima as a stacked LP.
* A lower bound is proven without an LP as soon as any feasible point already sits on the cell's
  own lower limit (0 for the outsider): the LP could not go lower.
* Insiders (a council knowing its own contributions) are audited only where they can matter; see
  :func:`_suspicious_insiders` for the proof that the others cannot pin anything. The proof is
  applied block by block, so a council is checked only in the blocks where it could matter.
* An insider candidate that two explicit feasible points (the true table plus and minus a
  deviation in the null space of the block's relations) already move by more than the tolerance
  needs no LP (:func:`_moved_by_directions`); only the rest are solved.
* Interval propagation gives valid bounds (:meth:`_AttackerLP.implied_bounds`); a variable that
  a feasible point already takes to its bound needs no LP in that direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .model import BoolArray, FloatArray, IntArray, System
from .rules import Primaries
from .solver import LinearProgram, null_basis

# Two bounds closer than this (relative to the cell value, at least absolute) are equal.
RTOL = 1e-6
# Random directions tried per council and block before its insider LPs (_moved_by_directions).
DIRECTIONS = 3
# Further directions, each aimed at one variable that the random ones did not prove.
TARGETED = 6
# Largest violation of a relation (relative to the block's largest value) that a point built
# from a direction may have: far below the LP solver's own feasibility tolerance.
DIRECTION_RESIDUAL = 1e-9


def tolerance(value: float) -> float:
    """Numerical tolerance for comparing LP bounds of a cell with this value."""
    return RTOL * max(1.0, abs(value))


@dataclass(frozen=True)
class InsiderDisclosure:
    """A contributor who, subtracting its own figures, pins (or, for the p% rule, narrows too
    far) a hidden primary cell."""

    contributor: str
    cell: str


@dataclass(frozen=True)
class Audit:
    """Outcome of an audit; a release may only be published when ``passed`` is true."""

    intervals: dict[str, tuple[float, float | None]]
    exact_disclosures: tuple[str, ...]
    under_protected: tuple[str, ...]
    insider_disclosures: tuple[InsiderDisclosure, ...]
    group_disclosures: tuple[str, ...]
    # Indices for the chooser's repairs: (contributor code, cell index) per insider disclosure.
    insider_codes: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)
    # p%-unsafe cells whose second-largest contributor, with all of its own figures known in
    # every table at once, bounds the largest contribution within p% (above or below).
    insider_under_protected: tuple[InsiderDisclosure, ...] = ()
    insider_under_codes: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when no disclosure of any kind was found."""
        return not (
            self.exact_disclosures
            or self.under_protected
            or self.insider_disclosures
            or self.insider_under_protected
            or self.group_disclosures
        )


class _AttackerLP:
    """The attacker's linear programme over the hidden cells, split into independent blocks."""

    def __init__(self, system: System, hidden: BoolArray) -> None:
        self.cells: IntArray = np.flatnonzero(hidden)
        self.values: FloatArray = system.values[self.cells]
        # Public upper bounds: every attacker, outsider or insider, knows them.
        self.upper: FloatArray = system.upper[self.cells]
        matrix = sparse.csr_array(system.matrix)
        known = np.where(hidden, 0.0, system.values)
        sub = sparse.csr_array(matrix[:, self.cells])
        touched = np.flatnonzero(np.diff(sub.indptr) > 0)
        # Published cells move to the right-hand side: sum(hidden) = -sum(published terms).
        self.a_eq = sparse.csr_array(sub[touched])
        self.b_eq: FloatArray = -(matrix @ known)[touched]
        self.blocks = self._blocks()
        # Block of each variable and its position inside the block.
        self.block_of: IntArray = np.full(len(self.cells), -1, dtype=np.int64)
        self.local: IntArray = np.zeros(len(self.cells), dtype=np.int64)
        for b, (variables, _) in enumerate(self.blocks):
            self.block_of[variables] = b
            self.local[variables] = np.arange(len(variables))
        self._models: dict[int, LinearProgram] = {}
        self._nulls: dict[int, tuple[FloatArray, sparse.csr_array]] = {}

    def null_space(self, block: int) -> tuple[FloatArray, sparse.csr_array]:
        """A basis of the block's deviations ``{y : A y = 0}`` and the block's matrix A."""
        found = self._nulls.get(block)
        if found is None:
            variables, rows = self.blocks[block]
            matrix = sparse.csr_array(self.a_eq[rows][:, variables])
            found = (null_basis(matrix.toarray()), matrix)
            self._nulls[block] = found
        return found

    def _blocks(self) -> list[tuple[IntArray, IntArray]]:
        """(variables, rows) of each connected block, largest block first."""
        count = len(self.cells)
        if count == 0:
            return []
        incidence = sparse.csr_array(abs(self.a_eq))
        graph = sparse.csr_array(incidence.T @ incidence) + sparse.eye_array(count, format="csr")
        _, labels = connected_components(graph, directed=False)
        row_label = (
            labels[incidence.indices[incidence.indptr[:-1]]] if incidence.shape[0] else labels[:0]
        )
        blocks = [
            (np.flatnonzero(labels == b), np.flatnonzero(row_label == b))
            for b in range(labels.max() + 1)
        ]
        blocks.sort(key=lambda block: -len(block[0]))
        return blocks

    def solve(
        self, blocks: Sequence[int], targets: Sequence[int], sign: float, bounds: FloatArray
    ) -> tuple[FloatArray, list[bool]]:
        """Optimise ``sign * x[target]`` (minimise) in each block, one target per block.

        Returns the solution over all variables (NaN outside the blocks) and, per block, whether
        its target is unbounded.
        """
        full = np.full(len(self.cells), np.nan)
        unbounded = []
        for block, target in zip(blocks, targets, strict=True):
            found = self._solve_block(block, [target], sign, bounds)
            unbounded.append(found is None)
            if found is not None:
                full[self.blocks[block][0]] = found
        return full, unbounded

    def _model(self, block: int) -> LinearProgram:
        """The block's LP, passed to HiGHS once and re-solved warm for every objective."""
        model = self._models.get(block)
        if model is None:
            variables, rows = self.blocks[block]
            a_eq = sparse.csr_array(self.a_eq[rows][:, variables])
            zeros = np.zeros(len(variables))
            model = LinearProgram(a_eq, self.b_eq[rows], zeros, np.full(len(variables), np.inf))
            self._models[block] = model
        return model

    def _solve_block(
        self, block: int, targets: Sequence[int], sign: float, bounds: FloatArray
    ) -> FloatArray | None:
        """Minimise ``sign * sum(x[targets])`` over one block; None when unbounded."""
        variables = self.blocks[block][0]
        objective = np.zeros(len(variables))
        objective[self.local[np.asarray(targets, dtype=np.int64)]] = sign
        status, x = self._model(block).solve(objective, bounds[variables, 0], bounds[variables, 1])
        return x if status == "optimal" else None

    def linprog(
        self, blocks: tuple[int, ...], targets: Sequence[int], sign: float, bounds: FloatArray
    ) -> FloatArray | None:
        """Minimise ``sign * sum(x[targets])`` over the blocks; None when unbounded.

        The blocks share no variable or relation, so the sum separates: each block is solved on
        its own (warm), which is the same optimum as the stacked LP.
        """
        by_block: dict[int, list[int]] = {b: [] for b in blocks}
        for target in targets:
            by_block[int(self.block_of[target])].append(int(target))
        full = np.full(len(self.cells), np.nan)
        for block, chosen in by_block.items():
            found = self._solve_block(block, chosen, sign, bounds)
            if found is None:
                return None
            full[self.blocks[block][0]] = found
        return full

    def implied_bounds(self, bounds: FloatArray, rounds: int = 8) -> FloatArray:
        """Bounds each variable gets from the relations alone (interval propagation).

        Valid but usually not tight; when a feasible point reaches one, it is the exact optimum
        and no LP is needed for that variable.
        """
        low, high = bounds[:, 0].copy(), bounds[:, 1].copy()
        coo = sparse.coo_array(self.a_eq)
        row, col, coef = coo.row, coo.col, coo.data
        nrows = self.a_eq.shape[0]
        for _ in range(rounds):
            term_min = np.where(coef > 0, coef * low[col], coef * high[col])
            term_max = np.where(coef > 0, coef * high[col], coef * low[col])
            new_high, new_low = high.copy(), low.copy()
            for terms, sense in ((term_min, 1.0), (term_max, -1.0)):
                infinite = ~np.isfinite(terms)
                finite_sum = np.bincount(row, np.where(infinite, 0.0, terms), nrows)
                inf_count = np.bincount(row, infinite.astype(float), nrows)
                # Sum of the other terms of the row (infinite if another term is).
                others_inf = inf_count[row] - infinite > 0
                others = finite_sum[row] - np.where(infinite, 0.0, terms)
                bound = np.where(others_inf, np.inf * sense, self.b_eq[row] - others)
                # coef * x <= bound (sense 1) or >= bound (sense -1), coef is +-1.
                implied = bound / coef
                upper_side = (coef > 0) == (sense > 0)
                np.minimum.at(new_high, col[upper_side], implied[upper_side])
                np.maximum.at(new_low, col[~upper_side], implied[~upper_side])
            converged = np.array_equal(new_low, low) and np.array_equal(new_high, high)
            low, high = np.maximum(new_low, low), np.minimum(new_high, high)
            if converged:
                break
        return np.column_stack([low, high])


@dataclass
class _Intervals:
    low: FloatArray
    high: FloatArray
    point_sum: FloatArray
    point_count: FloatArray
    seen_low: FloatArray
    seen_high: FloatArray
    # Variables whose optimal points are kept (p% cells with insider targets), and the points:
    # (variable, sign) -> (moved variables, their values), as solved by the sweep.
    watched: frozenset[int] = frozenset()
    points: dict[tuple[int, float], tuple[IntArray, FloatArray]] = field(default_factory=dict)

    def record(self, solution: FloatArray, lp: _AttackerLP | None = None) -> None:
        solved = ~np.isnan(solution)
        if self.watched and lp is not None:
            self._keep_points(solution, solved, lp)
        self.point_sum[solved] += solution[solved]
        self.point_count[solved] += 1
        self.seen_low[solved] = np.minimum(self.seen_low[solved], solution[solved])
        self.seen_high[solved] = np.maximum(self.seen_high[solved], solution[solved])

    def _keep_points(self, solution: FloatArray, solved: BoolArray, lp: _AttackerLP) -> None:
        """Keep the point for each watched variable it takes further than any point before."""
        shared: dict[int, tuple[IntArray, FloatArray]] = {}
        for v in self.watched:
            if not solved[v]:
                continue
            for sign, better in (
                (-1.0, solution[v] > self.seen_high[v]),
                (1.0, solution[v] < self.seen_low[v]),
            ):
                if better or (v, sign) not in self.points:
                    block = int(lp.block_of[v])
                    if block not in shared:
                        shared[block] = _deviation(lp, solution, v)
                    self.points[v, sign] = shared[block]


def _intervals(
    lp: _AttackerLP,
    bounds: FloatArray,
    blocks: Sequence[int],
    watched: frozenset[int] = frozenset(),
) -> _Intervals:
    """Exact [min, max] of every hidden variable in the given blocks (optimal points of the
    ``watched`` variables are kept)."""
    size = len(lp.cells)
    # The true values are feasible, so they count as a seen point.
    found = _Intervals(
        low=np.full(size, np.nan),
        high=np.full(size, np.nan),
        point_sum=np.zeros(size),
        point_count=np.zeros(size),
        seen_low=lp.values.copy(),
        seen_high=lp.values.copy(),
        watched=watched,
    )
    if not len(blocks):
        return found
    implied = lp.implied_bounds(bounds)
    # Two cheap LPs (all cells up, all cells down) give points that often reach the bounds.
    for sign in (-1.0, 1.0):
        targets = [int(v) for b in blocks for v in lp.blocks[b][0]]
        solution = lp.linprog(tuple(blocks), targets, sign, _capped(lp, bounds, implied))
        if solution is not None:
            found.record(solution, lp)
    for sign, out in ((-1.0, found.high), (1.0, found.low)):
        todo = {b: [int(v) for v in lp.blocks[b][0]] for b in blocks}
        _sweep(lp, bounds, implied, todo, sign, out, found)
    return found


def _capped(lp: _AttackerLP, bounds: FloatArray, implied: FloatArray) -> FloatArray:
    """Bounds with infinite upper limits replaced, so that a sum objective stays bounded."""
    capped = bounds.copy()
    finite = np.isfinite(implied[:, 1])
    capped[finite, 1] = np.minimum(capped[finite, 1], implied[finite, 1])
    scale = 1.0 + float(np.abs(lp.values).sum())
    capped[~finite, 1] = np.minimum(capped[~finite, 1], lp.values[~finite] + scale)
    return capped


def _sweep(
    lp: _AttackerLP,
    bounds: FloatArray,
    implied: FloatArray,
    todo: dict[int, list[int]],
    sign: float,
    out: FloatArray,
    found: _Intervals,
) -> None:
    """Optimise each listed variable, one per block per stacked LP, skipping proven ones."""
    upward = sign < 0
    seen = found.seen_high if upward else found.seen_low
    limit = implied[:, 1] if upward else implied[:, 0]
    while True:
        for queue in todo.values():
            while queue and _reached(lp, seen, limit, queue[0], upward):
                v = queue.pop(0)
                out[v] = limit[v]
        blocks = [b for b, queue in todo.items() if queue]
        if not blocks:
            return
        targets = [todo[b].pop(0) for b in blocks]
        solution, unbounded = lp.solve(blocks, targets, sign, bounds)
        for target, is_unbounded in zip(targets, unbounded, strict=True):
            out[target] = np.inf * -sign if is_unbounded else solution[target]
        found.record(solution, lp)


def _deviation(lp: _AttackerLP, solution: FloatArray, v: int) -> tuple[IntArray, FloatArray]:
    """The variables of v's block that the solution moves, and their values there."""
    variables = lp.blocks[int(lp.block_of[v])][0]
    values = solution[variables]
    moved = np.abs(values - lp.values[variables]) > 0
    return variables[moved], values[moved]


def _reached(lp: _AttackerLP, seen: FloatArray, limit: FloatArray, v: int, upward: bool) -> bool:
    """Whether a feasible point already attains the variable's implied bound."""
    if not np.isfinite(limit[v]):
        return False
    tol = tolerance(lp.values[v])
    return bool(seen[v] >= limit[v] - tol) if upward else bool(seen[v] <= limit[v] + tol)


def audit_system(
    system: System, hidden: BoolArray, primaries: Primaries, region: BoolArray | None = None
) -> Audit:
    """Audit a suppression pattern: intervals, exact, under-protected, insider and group leaks.

    ``region``: audit only these cells (hidden cells outside it count as published, primary
    cells outside it are not assessed). Exact for them when no relation holds both a movable
    cell of the region and a hidden cell outside it (e.g. a union of the chooser's blocks); see
    :func:`merge_audits`.
    """
    hidden = np.asarray(hidden, dtype=bool)
    if region is not None:
        hidden = hidden & region
        primaries = Primaries(
            requirements={c: r for c, r in primaries.requirements.items() if region[c]},
            groups=tuple(f for f in primaries.groups if region[f.part]),
            empty=primaries.empty,
        )
    lp = _AttackerLP(system, hidden)
    outsider_bounds = np.column_stack([np.zeros(len(lp.cells)), lp.upper])
    variable_of = {int(cell): v for v, cell in enumerate(lp.cells)}
    watched = frozenset(
        variable_of[c] for c, r in primaries.requirements.items() if r.insiders and c in variable_of
    )
    found = _intervals(lp, outsider_bounds, list(range(len(lp.blocks))), watched)
    intervals = {
        system.ids[cell]: (float(found.low[v]), _finite(found.high[v]))
        for v, cell in enumerate(lp.cells)
    }
    exact, under = _outsider_findings(system, primaries, found, variable_of)
    groups = _group_findings(system, primaries, found, variable_of)
    under |= {system.ids[primaries.groups[g].part] for g in groups}
    own_matrix = _own_matrix(system, lp)
    insiders = _insider_findings(system, primaries, lp, found, own_matrix)
    narrowed = _insider_p_findings(primaries, lp, variable_of, own_matrix, found)
    return Audit(
        intervals=intervals,
        exact_disclosures=tuple(sorted(exact)),
        under_protected=tuple(sorted(under)),
        insider_disclosures=tuple(
            sorted(
                (InsiderDisclosure(system.store.labels[c], system.ids[p]) for c, p in insiders),
                key=lambda d: (d.cell, d.contributor),
            )
        ),
        group_disclosures=tuple(sorted(system.ids[primaries.groups[g].total] for g in groups)),
        insider_codes=tuple(insiders),
        insider_under_protected=_named(system, narrowed),
        insider_under_codes=tuple(narrowed),
    )


def _named(system: System, pairs: Sequence[tuple[int, int]]) -> tuple[InsiderDisclosure, ...]:
    return tuple(
        sorted(
            (InsiderDisclosure(system.store.labels[c], system.ids[p]) for c, p in pairs),
            key=lambda d: (d.cell, d.contributor),
        )
    )


def merge_audits(
    system: System, primaries: Primaries, previous: Audit, partial: Audit, region: BoolArray
) -> Audit:
    """``previous`` with everything about ``region`` replaced by ``partial`` (its re-audit).

    Used between audit-and-repair rounds only, for the blocks whose hidden cells changed: the
    blocks share no cell and no relation, so the attacker's LP is a product of block LPs and the
    findings of an unchanged block are the same as before. The release's certificate is always
    a final complete audit.
    """
    ids = system.ids

    def outside(name: str) -> bool:
        return not region[system.index[name]]

    refreshed = {ids[f.total] for f in primaries.groups if region[f.part]}
    insiders = [d for d in previous.insider_disclosures if outside(d.cell)]
    codes = [(c, p) for c, p in previous.insider_codes if not region[p]]
    narrowed = [(c, p) for c, p in previous.insider_under_codes if not region[p]]
    narrowed += partial.insider_under_codes
    return Audit(
        intervals={k: v for k, v in previous.intervals.items() if outside(k)} | partial.intervals,
        exact_disclosures=tuple(
            sorted(
                [c for c in previous.exact_disclosures if outside(c)] + [*partial.exact_disclosures]
            )
        ),
        under_protected=tuple(
            sorted([c for c in previous.under_protected if outside(c)] + [*partial.under_protected])
        ),
        insider_disclosures=tuple(
            sorted([*insiders, *partial.insider_disclosures], key=lambda d: (d.cell, d.contributor))
        ),
        group_disclosures=tuple(
            sorted(
                [g for g in previous.group_disclosures if g not in refreshed]
                + [*partial.group_disclosures]
            )
        ),
        insider_codes=(*codes, *partial.insider_codes),
        insider_under_protected=_named(system, narrowed),
        insider_under_codes=tuple(narrowed),
    )


def _finite(value: float) -> float | None:
    return None if np.isinf(value) else float(value)


def _outsider_findings(
    system: System, primaries: Primaries, found: _Intervals, variable_of: dict[int, int]
) -> tuple[set[str], set[str]]:
    exact: set[str] = set()
    under: set[str] = set()
    for cell, need in primaries.requirements.items():
        name = system.ids[cell]
        v = variable_of.get(cell)
        if v is None:
            # A published primary cell is disclosed by definition.
            exact.add(name)
            under.add(name)
            continue
        low, high, value = found.low[v], found.high[v], float(system.values[cell])
        tol = tolerance(value)
        if high - low <= tol:
            exact.add(name)
            under.add(name)
        elif high < need.upper - tol or low > need.lower + tol:
            under.add(name)
    return exact, under


def _group_findings(
    system: System, primaries: Primaries, found: _Intervals, variable_of: dict[int, int]
) -> list[int]:
    """Flagged groups where no zero sibling can be positive: all answers are still known."""
    leaks = []
    for g, flag in enumerate(primaries.groups):
        open_sibling = any(
            s in variable_of and found.high[variable_of[s]] > tolerance(1.0) for s in flag.siblings
        )
        if not open_sibling:
            leaks.append(g)
    return leaks


def _insider_findings(
    system: System,
    primaries: Primaries,
    lp: _AttackerLP,
    found: _Intervals,
    own_matrix: sparse.csr_array,
) -> list[tuple[int, int]]:
    """(contributor, cell) pairs where a council pins a hidden primary cell it shares."""
    findings: list[tuple[int, int]] = []
    if not len(lp.cells):
        return findings
    suspicious = _suspicious_insiders(lp, found, own_matrix)
    tol = RTOL * np.maximum(1.0, np.abs(lp.values))
    primary = np.isin(lp.cells, np.fromiter(primaries.requirements, np.int64))
    # Candidates an insider might pin: hidden primaries the outsider cannot pin.
    open_primary = primary & (found.high - found.low > tol)
    # Fixed seed: the audit of a pattern is deterministic.
    rng = np.random.default_rng(0)
    for contributor, touched in suspicious.items():
        own = _own_values(own_matrix, contributor)
        # A council that is the whole cell knows it: that is no disclosure of someone else.
        movable = open_primary & (own < lp.values - tol)
        candidates = {}
        for b in touched:
            variables = lp.blocks[b][0]
            chosen = variables[movable[variables]]
            if len(chosen):
                candidates[b] = [int(v) for v in chosen]
        if not candidates:
            continue
        bounds = _insider_bounds(lp, own)
        for b, chosen in list(candidates.items()):
            moved = _moved_by_directions(lp, b, bounds, np.array(chosen, dtype=np.int64), rng)
            candidates[b] = [v for v, gone in zip(chosen, moved, strict=True) if not gone]
        for v in _pinned(lp, bounds, candidates):
            findings.append((contributor, int(lp.cells[v])))
    return findings


def _insider_bounds(lp: _AttackerLP, own: FloatArray) -> FloatArray:
    """What a council knows of each hidden cell: at least its own value, at most the public
    bound, and the value itself where it is the only contributor."""
    bounds = np.column_stack([own, lp.upper])
    sole = (own >= lp.values - RTOL * np.maximum(1.0, np.abs(lp.values))) & (own > 0)
    bounds[sole, 1] = own[sole]
    return bounds


def _insider_p_findings(
    primaries: Primaries,
    lp: _AttackerLP,
    variable_of: dict[int, int],
    own_matrix: sparse.csr_array,
    found: _Intervals,
) -> list[tuple[int, int]]:
    """(contributor, cell) pairs where a p%-unsafe cell's second-largest contributor, knowing
    all of its own figures in every hidden cell at once, bounds the cell too narrowly.

    The council's feasible tables: the outsider's, with its own value as the lower bound of
    every hidden cell and its sole cells fixed. First a proof without an LP: the outsider's
    optimal point z for the cell (kept by the sweep) and the true table x are both feasible for
    the outsider, so ``x + t (z - x)`` is, for t in [0, 1]; the largest t that keeps the
    council's own cells within its bounds gives a table the council cannot rule out. If that
    reaches the target, the side is protected. Otherwise one attacker LP per council is
    maximised (minimised) for each of its remaining cells, one cell per block per solve; a
    solution that already reaches another queued cell's target proves that one too. The
    targets are the p% ones of :func:`.rules.p_percent_insiders`.
    """
    targets: dict[int, list[tuple[int, float, float]]] = {}
    for cell, requirement in primaries.requirements.items():
        v = variable_of.get(cell)
        if v is None:
            # A published primary cell is reported as disclosed already.
            continue
        for contributor, upper, lower in requirement.insiders:
            targets.setdefault(contributor, []).append((v, upper, lower))
    findings: set[tuple[int, int]] = set()
    for contributor, items in targets.items():
        own = _own_values(own_matrix, contributor)
        bounds = _insider_bounds(lp, own)
        start, stop = own_matrix.indptr[contributor], own_matrix.indptr[contributor + 1]
        mine = own_matrix.indices[start:stop]
        for sign in (-1.0, 1.0):
            goal = {v: (upper if sign < 0 else lower) for v, upper, lower in items}
            goal = {
                v: g
                for v, g in goal.items()
                if not _scaled_reach(lp, bounds, mine, found.points.get((v, sign)), v, g, sign)
            }
            for v in _unreached(lp, bounds, goal, sign):
                findings.add((contributor, int(lp.cells[v])))
    return sorted(findings)


def _scaled_reach(
    lp: _AttackerLP,
    bounds: FloatArray,
    mine: IntArray,
    point: tuple[IntArray, FloatArray] | None,
    v: int,
    goal: float,
    sign: float,
) -> bool:
    """Whether ``x + t (z - x)`` within the insider's bounds reaches the goal (z: the point)."""
    if point is None:
        return False
    moved, values = point
    z = lp.values.copy()
    z[moved] = values
    step = z[mine] - lp.values[mine]
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(
            step < 0,
            (lp.values[mine] - bounds[mine, 0]) / -step,
            np.where(step > 0, (bounds[mine, 1] - lp.values[mine]) / step, np.inf),
        )
    t = min(1.0, float(room.min())) if len(room) else 1.0
    reached = float(lp.values[v]) + t * float(z[v] - lp.values[v])
    tol = tolerance(float(lp.values[v]))
    return reached >= goal - tol if sign < 0 else reached <= goal + tol


def _unreached(
    lp: _AttackerLP, bounds: FloatArray, goal: dict[int, float], sign: float
) -> list[int]:
    """Variables whose optimum (max for sign -1, min for sign 1) falls short of their goal."""
    queues: dict[int, list[int]] = {}
    for v in goal:
        queues.setdefault(int(lp.block_of[v]), []).append(v)
    short = []

    def reached(v: int, value: float) -> bool:
        tol = tolerance(float(lp.values[v]))
        return value >= goal[v] - tol if sign < 0 else value <= goal[v] + tol

    while any(queues.values()):
        active = [b for b, q in queues.items() if q]
        targets = [queues[b].pop(0) for b in active]
        solution, unbounded = lp.solve(active, targets, sign, bounds)
        for b, target, is_unbounded in zip(active, targets, unbounded, strict=True):
            if not is_unbounded and not reached(target, float(solution[target])):
                short.append(target)
            queues[b] = [v for v in queues[b] if not reached(v, float(solution[v]))]
    return short


def _moved_by_directions(
    lp: _AttackerLP,
    block: int,
    bounds: FloatArray,
    chosen: IntArray,
    rng: np.random.Generator,
) -> BoolArray:
    """Per chosen variable: whether two explicit feasible points prove it is not pinned.

    Every variable that the bounds fix (upper <= lower) or that sits on its lower or upper
    bound stays put; y is a random deviation of the block (``A y = 0``) that keeps them at
    zero, i.e. a random element of the null space projected onto ``y_F = 0``. The true values
    x satisfy the bounds, so ``x + s y`` and ``x - s y`` do as well for the step s of half the
    smallest ``slack_j / |y_j|``; both are checked to satisfy the relations. A variable that
    they move by more than twice the audit's tolerance cannot be pinned: an LP would find it
    movable. The rest (also when a direction happens to move a variable too little) go to the
    LPs.
    """
    basis, matrix = lp.null_space(block)
    moved = np.zeros(len(chosen), dtype=bool)
    if basis.shape[1] == 0:
        return moved
    variables = lp.blocks[block][0]
    x = lp.values[variables]
    low, high = bounds[variables, 0], bounds[variables, 1]
    fixed = (high <= low) | (x <= low) | (x >= high)
    known = _orthonormal_rows(basis[fixed])
    local = lp.local[chosen]
    need = 2 * RTOL * np.maximum(1.0, np.abs(lp.values[chosen]))
    allowed = DIRECTION_RESIDUAL * max(1.0, float(np.abs(x).max()))
    for attempt in range(DIRECTIONS + TARGETED):
        if attempt < DIRECTIONS:
            g = rng.standard_normal(basis.shape[1])
        else:
            # Then aim at a variable still unproven: its own row of the basis moves it most.
            left = np.flatnonzero(~moved)
            g = basis[local[left[(attempt - DIRECTIONS) % len(left)]]].copy()
        for q in known:
            g -= (q @ g) * q
        # Element-wise on purpose (see null_basis): no multi-threaded BLAS for a small product.
        y = (basis * g).sum(axis=1)
        y[fixed] = 0.0
        size = float(np.abs(y).max())
        if size == 0.0:
            break
        y /= size
        moving = np.abs(y) > 1e-12
        limits = (x[moving] - low[moving]) / np.abs(y[moving])
        above = np.isfinite(high[moving])
        if above.any():
            limits[above] = np.minimum(
                limits[above], (high[moving][above] - x[moving][above]) / np.abs(y[moving][above])
            )
        step = 0.5 * float(limits.min())
        if not step > 0 or step * float(np.abs(matrix @ y).max()) > allowed:
            continue
        moved |= step * np.abs(y[local]) > need
        if moved.all():
            break
    return moved


def _orthonormal_rows(rows: FloatArray) -> list[FloatArray]:
    """An orthonormal basis of the span of a few rows (modified Gram-Schmidt)."""
    basis: list[FloatArray] = []
    for row in rows:
        v = row.astype(np.float64).copy()
        size = float(np.sqrt(v @ v))
        for q in basis:
            v -= (q @ v) * q
        rest = float(np.sqrt(v @ v))
        if rest > 1e-9 * max(size, 1e-300):
            basis.append(v / rest)
    return basis


def _suspicious_insiders(
    lp: _AttackerLP, found: _Intervals, own_matrix: sparse.csr_array
) -> dict[int, list[int]]:
    """Contributors whose own knowledge could pin a hidden primary cell, and in which blocks.

    Proof for the others: let u = (true values + mean of the audit's LP solutions) / 2. Both
    terms are feasible for the outsider, so u is. A contributor c knows x_j >= v_c(j) (its own
    share). If u_j > v_c(j) wherever v_c(j) > 0, and c is the sole contributor of no hidden
    cell, then u is feasible for c with slack, so u + t (z - u) stays feasible for c for small
    t > 0, where z is the outsider's minimising (or maximising) point for a primary cell p.
    Those two points differ in p whenever the outsider interval of p has width > 0, so c
    cannot pin p. (Public upper bounds bind the outsider and the insider alike: u, z and every
    point between them satisfy them, so they leave the argument as it is.) Only contributors to
    hidden cells are considered (published cells are fixed
    for everyone already), and only those with v_c(j) >= min(u_j, x_j) somewhere need an LP.

    Blocks share no variable and no relation, so the attacker's LP is a product of the block
    LPs and the argument holds block by block: c needs checking only in the blocks where it
    has such a cell (being the sole contributor of a cell is one case of it, as then
    v_c(j) = x_j >= min(u_j, x_j)).
    """
    mean = np.divide(
        found.point_sum,
        found.point_count,
        out=lp.values.copy(),
        where=found.point_count > 0,
    )
    interior = np.minimum((lp.values + mean) / 2, lp.values)
    coo = sparse.coo_array(own_matrix)
    tol = RTOL * np.maximum(1.0, np.abs(lp.values))
    close = (coo.data >= interior[coo.col] - tol[coo.col]) & (coo.data > 0)
    pairs = np.unique(
        np.column_stack([coo.row[close], lp.block_of[coo.col[close]]]).astype(np.int64), axis=0
    )
    suspicious: dict[int, list[int]] = {}
    for contributor, block in pairs.tolist():
        suspicious.setdefault(contributor, []).append(block)
    return suspicious


def _own_matrix(system: System, lp: _AttackerLP) -> sparse.csr_array:
    """Contributors x hidden variables: each council's own value in every hidden cell."""
    rows, cols, data = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for v, cell in enumerate(lp.cells):
        found = system.store.get(int(cell))
        if found is None:
            continue
        rows.append(found[0])
        cols.append(np.full(len(found[0]), v, dtype=np.int64))
        data.append(found[1])
    shape = (len(system.store.labels), len(lp.cells))
    return sparse.csr_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )


def _own_values(own_matrix: sparse.csr_array, contributor: int) -> FloatArray:
    """The contributor's own value in every hidden cell."""
    own = np.zeros(own_matrix.shape[1])
    start, stop = own_matrix.indptr[contributor], own_matrix.indptr[contributor + 1]
    own[own_matrix.indices[start:stop]] = own_matrix.data[start:stop]
    return own


def _pinned(lp: _AttackerLP, bounds: FloatArray, candidates: dict[int, list[int]]) -> list[int]:
    """Candidate variables whose insider interval is a single point (the true value)."""
    remaining = {b: list(c) for b, c in candidates.items()}
    for sign in (-1.0, 1.0):
        remaining = _drop_movable(lp, bounds, remaining, sign)
    return [v for queue in remaining.values() for v in queue]


def _drop_movable(
    lp: _AttackerLP, bounds: FloatArray, remaining: dict[int, list[int]], sign: float
) -> dict[int, list[int]]:
    """Keep only candidates that cannot move away from their true value in one direction.

    The true values are feasible, so a candidate is fixed in this direction exactly when its
    optimum equals its value. Moving the sum of all candidates first clears many at once;
    whatever is left is checked one variable per block per LP.
    """
    blocks = [b for b, queue in remaining.items() if queue]
    if not blocks:
        return remaining
    solution = _solve_sum(lp, bounds, remaining, blocks, sign)
    moved = _moved_all(lp, solution)
    remaining = {b: [v for v in remaining[b] if not moved[v]] for b in blocks}
    fixed: dict[int, list[int]] = {b: [] for b in remaining}
    queues = {b: list(q) for b, q in remaining.items()}
    while any(queues.values()):
        active = [b for b, q in queues.items() if q]
        targets = [queues[b][0] for b in active]
        solution, unbounded = lp.solve(active, targets, sign, bounds)
        # NaN (a block not solved) never counts as moved.
        moved = _moved_all(lp, solution)
        for b, target, is_unbounded in zip(active, targets, unbounded, strict=True):
            queues[b].pop(0)
            if not is_unbounded and not moved[target]:
                fixed[b].append(target)
            # Any other candidate this point already moves is cleared as well.
            queues[b] = [v for v in queues[b] if not moved[v]]
    return fixed


def _solve_sum(
    lp: _AttackerLP,
    bounds: FloatArray,
    remaining: dict[int, list[int]],
    blocks: list[int],
    sign: float,
) -> FloatArray:
    """One LP optimising the sum of all remaining candidates (rescaled to avoid unboundedness)."""
    capped = bounds.copy()
    # Cap each candidate just beyond its value: enough to see it move, and bounded.
    chosen = np.array([v for b in blocks for v in remaining[b]], dtype=np.int64)
    spread = np.maximum(1.0, np.abs(lp.values[chosen]))
    capped[chosen, 1] = np.minimum(capped[chosen, 1], lp.values[chosen] + spread)
    targets = [v for b in blocks for v in remaining[b]]
    solution = lp.linprog(tuple(blocks), targets, sign, capped)
    if solution is None:
        return np.full(len(lp.cells), np.nan)
    return solution


def _moved_all(lp: _AttackerLP, solution: FloatArray) -> BoolArray:
    """Per variable: whether the solution moves it away from its true value (NaN: no)."""
    distance = np.abs(solution - lp.values)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(distance, nan=0.0) > RTOL * np.maximum(1.0, np.abs(lp.values))
