"""Secondary suppression chooser (Fischetti and Salazar-Gonzalez style, one need at a time).

A protection need says: the attacker must not be able to rule out some movement of the hidden
values, e.g. primary cell p rising by its upper protection level. That holds exactly when there
is a deviation y with ``A y = 0`` for every relation, y = 0 on published cells, ``x + y >= 0``
(or ``>=`` the insider's own share) and ``g . y >= t`` (``g = e_p``, ``t = UPL`` for the example).
``x + y`` is then a feasible table for the attacker, so the audit interval reaches that far.

For each need in turn the chooser first checks with an LP whether the cells already hidden allow
such a y; if not it solves a MILP that picks the cheapest extra cells::

    min  sum c_j s_j     s.t.  A y = 0,  g . y >= t,  -L_j s_j <= y_j <= M_j s_j,  s binary

with s fixed to 1 on cells already hidden. Needs are processed sequentially and the hidden set
only grows, so every earlier proof stays valid. Unlike a greedy loop that adds one cheap cell at
a time, the MILP considers whole patterns (margins included) at once, so it cannot stall in a
local dead end. Independent blocks of the table are processed side by side: their MILPs are
stacked into one solver call (separable objectives optimise each block); the check LPs run per
block on a model kept warm in HiGHS between needs (see ``solver.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from .model import BoolArray, FloatArray, IntArray, System
from .rules import Primaries
from .solver import LinearProgram

# Relative slack so that a chosen pattern clears the audit's tolerance comfortably.
TARGET_MARGIN = 1e-6
# Wall-clock limit for one MILP; the best pattern found by then is used (any feasible pattern
# is a valid proof, only perhaps not the cheapest). Relative optimality gap accepted.
MILP_TIME_LIMIT = 2.0
MILP_GAP = 0.01
# Blocks stacked into one solver call (see Chooser.satisfy).
BATCH_BLOCKS = 50


@dataclass(frozen=True)
class Need:
    """Some deviation y of the hidden cells must achieve ``sum(weights[j] * y_j) >= target``."""

    weights: tuple[tuple[int, float], ...]
    target: float
    insider: int | None = None
    # Satisfying the alternative instead is enough (e.g. a non-zero width up OR down).
    alternative: Need | None = None


@dataclass(frozen=True)
class _Block:
    cells: IntArray
    matrix: sparse.csr_array


class Chooser:
    """Chooses secondary cells for a system; keeps the hidden set between rounds."""

    def __init__(
        self, system: System, primaries: Primaries, hidden: BoolArray, hideable: BoolArray
    ) -> None:
        self.system = system
        self.primaries = primaries
        self.hidden = hidden.copy()
        self.hideable = hideable | hidden
        positive = system.costs[system.costs > 0]
        # A small constant per cell so that, at equal value, fewer cells are preferred.
        self.per_cell = 0.01 * float(np.median(positive)) if len(positive) else 1e-3
        self.blocks, self.block_of = self._blocks()
        self._models: dict[int, LinearProgram] = {}

    def _blocks(self) -> tuple[list[_Block], IntArray]:
        """Connected blocks of hideable cells (cells that cannot move do not connect)."""
        matrix = sparse.csr_array(self.system.matrix)
        columns = np.flatnonzero(self.hideable)
        sub = sparse.csc_array(matrix[:, columns])
        incidence = sparse.csr_array(abs(sub))
        graph = sparse.csr_array(incidence.T @ incidence) + sparse.eye_array(
            len(columns), format="csr"
        )
        _, labels = connected_components(graph, directed=False)
        block_of = np.full(self.system.size, -1)
        block_of[columns] = labels
        blocks = []
        for b in range(labels.max() + 1 if len(labels) else 0):
            cells = columns[labels == b]
            part = sparse.csr_array(matrix[:, cells])
            rows = np.flatnonzero(np.diff(part.indptr) > 0)
            blocks.append(_Block(cells=cells, matrix=sparse.csr_array(part[rows])))
        return blocks, block_of

    def satisfy(self, needs: Sequence[Need]) -> None:
        """Hide further cells until every need has a proving deviation."""
        queues: dict[int, list[Need]] = {}
        for need in needs:
            block = int(self.block_of[need.weights[0][0]])
            queues.setdefault(block, []).append(need)
        while any(queues.values()):
            batch = {b: queue.pop(0) for b, queue in queues.items() if queue}
            # Stack at most BATCH_BLOCKS blocks per solver call: one LP or MILP per block costs
            # call overhead, while very large stacked MILPs branch on all blocks together.
            items = list(batch.items())
            for start in range(0, len(items), BATCH_BLOCKS):
                self._satisfy_batch(dict(items[start : start + BATCH_BLOCKS]))

    def _satisfy_batch(self, batch: Mapping[int, Need]) -> None:
        met = self._check_many(batch)
        unmet = {b: n for b, n in batch.items() if not met[b]}
        # An alternative counts as met when it already holds without further cells.
        alternatives = {b: n.alternative for b, n in unmet.items() if n.alternative is not None}
        if alternatives:
            met = self._check_many(alternatives)
            unmet = {b: n for b, n in unmet.items() if not met.get(b, False)}
            alternatives = {b: a for b, a in alternatives.items() if b in unmet}
        if not unmet:
            return
        chosen = self._cheapest(unmet)
        if alternatives:
            other = self._cheapest(alternatives)
            for b, cells in other.items():
                if b not in chosen or self._cost(cells) < self._cost(chosen[b]):
                    chosen[b] = cells
        for cells in chosen.values():
            self.hidden[cells] = True

    def _cost(self, cells: IntArray) -> float:
        return float(self.system.costs[cells].sum() + self.per_cell * len(cells))

    def _check_many(self, batch: Mapping[int, Need]) -> dict[int, bool]:
        """Whether the cells hidden now already allow each block's deviation.

        One warm-started LP per block: maximise the need's weighted deviation with published
        cells fixed. The need holds exactly when that maximum (or an unbounded one) reaches
        the target, which is the same test as the capped stacked LP it replaces.
        """
        met = {}
        for b, need in batch.items():
            problem = _Stack(self, {b: need}, choose=False)
            model = self._models.get(b)
            if model is None:
                block = self.blocks[b]
                free = np.full(len(block.cells), np.inf)
                model = LinearProgram(block.matrix, np.zeros(block.matrix.shape[0]), -free, free)
                self._models[b] = model
            bounds = problem.lp_bounds()
            status, x = model.solve(-problem.objective_weights(), bounds[:, 0], bounds[:, 1])
            if status == "unbounded":
                met[b] = True
                continue
            assert x is not None
            achieved = float((problem.need_rows() @ x)[0])
            met[b] = achieved >= problem.targets()[0] * (1 - TARGET_MARGIN)
        return met

    def _cheapest(self, batch: Mapping[int, Need]) -> dict[int, IntArray]:
        """Cells to hide, per block, that prove the need at least cost (a MILP)."""
        chosen: dict[int, IntArray] = {}
        # The second attempt lifts the cap on how far a newly hidden cell may move. The last
        # resort is the LP relaxation: hiding every cell with s_j > 0 there is still a valid
        # proof (y_j lies within [-x_j, M_j]), only possibly dearer than the MILP optimum.
        for big, relaxed in ((False, False), (True, False), (True, True)):
            todo = {b: n for b, n in batch.items() if b not in chosen}
            if not todo:
                break
            problem = _Stack(self, todo, choose=True, big=big)
            solution = problem.solve_milp(relaxed=relaxed)
            if solution is None:
                continue
            chosen.update(problem.selected(solution, relaxed=relaxed))
        return chosen


class _Stack:
    """LP/MILP of several independent blocks, each with its own need, stacked side by side."""

    def __init__(
        self,
        chooser: Chooser,
        batch: Mapping[int, Need],
        *,
        choose: bool,
        big: bool = False,
    ) -> None:
        self.chooser = chooser
        self.blocks = list(batch)
        self.needs = [batch[b] for b in self.blocks]
        self.choose = choose
        system = chooser.system
        chosen = [chooser.blocks[b] for b in self.blocks]
        self.cells = np.concatenate([block.cells for block in chosen])
        self.offsets = np.cumsum([0] + [len(block.cells) for block in chosen])
        self.n = len(self.cells)
        self.matrix = sparse.block_diag([block.matrix for block in chosen], format="csr")
        self.relation_count = self.matrix.shape[0]
        hidden = chooser.hidden[self.cells]
        values = system.values[self.cells]
        self.lower = values.copy()
        self.upper = np.full(self.n, np.inf)
        for i, need in enumerate(self.needs):
            if need.insider is not None:
                self._apply_insider(i, need.insider)
        self.fixed = hidden
        if choose:
            target_scale = np.repeat(
                [n.target for n in self.needs], np.diff(self.offsets).astype(int)
            )
            room = self.upper.copy()
            if big:
                scale = np.repeat(
                    [
                        values[self.offsets[i] : self.offsets[i + 1]].sum()
                        for i in range(len(self.needs))
                    ],
                    np.diff(self.offsets).astype(int),
                )
                room = np.minimum(room, 4 * (scale + target_scale))
            else:
                room = np.minimum(room, 2 * target_scale)
            self.room = room

    def _apply_insider(self, i: int, contributor: int) -> None:
        """The insider knows its own share: each cell can fall only to the others' total."""
        store = self.chooser.system.store
        for j in range(self.offsets[i], self.offsets[i + 1]):
            own = store.value_of(int(self.cells[j]), contributor)
            self.lower[j] = max(0.0, self.lower[j] - own)
            if own > 0 and self.lower[j] <= 1e-9 * max(1.0, own):
                # The sole contributor knows the cell exactly: no deviation there helps.
                self.lower[j] = 0.0
                self.upper[j] = 0.0

    def objective_weights(self) -> FloatArray:
        weights = np.zeros(self.n)
        for i, need in enumerate(self.needs):
            for cell, w in need.weights:
                weights[self._position(i, cell)] += w
        return weights

    def _position(self, i: int, cell: int) -> int:
        start, stop = self.offsets[i], self.offsets[i + 1]
        local = np.flatnonzero(self.cells[start:stop] == cell)
        return int(start + local[0])

    def need_rows(self) -> sparse.csr_array:
        rows, cols, data = [], [], []
        for i, need in enumerate(self.needs):
            for cell, w in need.weights:
                rows.append(i)
                cols.append(self._position(i, cell))
                data.append(w)
        return sparse.csr_array((data, (rows, cols)), shape=(len(self.needs), self.n))

    def targets(self) -> FloatArray:
        return np.array([n.target * (1 + TARGET_MARGIN) for n in self.needs])

    def relations(self) -> sparse.csr_array:
        return self.matrix

    def lp_bounds(self) -> FloatArray:
        """Deviation bounds with the hidden set as it is: published cells cannot move."""
        low = np.where(self.fixed, -self.lower, 0.0)
        high = np.where(self.fixed, self.upper, 0.0)
        return np.column_stack([low, high])

    def solve_milp(self, *, relaxed: bool = False) -> FloatArray | None:
        """Variables [y, s]; s_j = 1 means cell j is hidden."""
        n = self.n
        costs = self.chooser.system.costs[self.cells] + self.chooser.per_cell
        objective = np.concatenate([np.zeros(n), np.where(self.fixed, 0.0, costs)])
        eye = sparse.eye_array(n, format="csr")
        # y_j - M_j s_j <= 0 and y_j + L_j s_j >= 0 tie each deviation to its cell being hidden.
        room = np.where(self.fixed, 0.0, self.room)
        link_up = sparse.hstack([eye, -sparse.diags_array(room)], format="csr")
        # A new cell may fall by no more than it may rise (the same cap): a tighter relaxation.
        fall = np.where(self.fixed, self.lower, np.minimum(self.lower, self.room))
        link_down = sparse.hstack([eye, sparse.diags_array(fall)], format="csr")
        zeros = sparse.csr_array((self.relation_count, n))
        constraints = [
            LinearConstraint(sparse.hstack([self.matrix, zeros], format="csr"), 0.0, 0.0),
            LinearConstraint(
                sparse.hstack([self.need_rows(), sparse.csr_array((len(self.needs), n))]),
                self.targets(),
                np.inf,
            ),
            LinearConstraint(link_up, -np.inf, np.where(self.fixed, np.inf, 0.0)),
            LinearConstraint(link_down, np.where(self.fixed, -np.inf, 0.0), np.inf),
        ]
        low = np.concatenate([-fall, np.where(self.fixed, 1.0, 0.0)])
        # Cells already hidden need no big-M: their deviation is bounded only by what is known.
        high = np.concatenate([np.where(self.fixed, self.upper, self.room), np.ones(n)])
        result = milp(
            objective,
            constraints=constraints,
            integrality=np.concatenate([np.zeros(n), np.full(n, 0 if relaxed else 1)]),
            bounds=Bounds(low, high),
            options={"time_limit": MILP_TIME_LIMIT, "mip_rel_gap": MILP_GAP},
        )
        if result.x is None:
            return None
        return np.asarray(result.x)

    def selected(self, solution: FloatArray, *, relaxed: bool = False) -> dict[int, IntArray]:
        """Newly hidden cells per block."""
        chosen = (solution[self.n :] > (1e-9 if relaxed else 0.5)) & ~self.fixed
        return {
            b: self.cells[self.offsets[i] : self.offsets[i + 1]][
                chosen[self.offsets[i] : self.offsets[i + 1]]
            ]
            for i, b in enumerate(self.blocks)
        }


def needs_for_primaries(system: System, primaries: Primaries) -> list[Need]:
    """Protection needs of every primary cell, largest protection first."""
    needs = []
    for cell, requirement in primaries.requirements.items():
        value = float(system.values[cell])
        up = requirement.upper - value
        down = value - requirement.lower
        if up > 0:
            needs.append(Need(((cell, 1.0),), up))
        if down > 0:
            needs.append(Need(((cell, -1.0),), down))
        if up <= 0 and down <= 0:
            needs.append(width_need(cell, value))
    for flag in primaries.groups:
        # Some zero sibling must be able to hold a council: then the answers are not all known.
        needs.append(Need(tuple((s, 1.0) for s in flag.siblings), 1.0))
    needs.sort(key=lambda need: -need.target)
    return needs


def width_need(cell: int, value: float, insider: int | None = None) -> Need:
    """A non-zero width: the cell may move up or down by a small step."""
    step = min(1.0, value) if value > 0 else 1.0
    down = Need(((cell, -1.0),), step, insider) if value > 0 else None
    return Need(((cell, 1.0),), step, insider, alternative=down)


def drop_pinned(hidden: BoolArray, secondary: BoolArray, pinned: BoolArray) -> BoolArray:
    """Publish secondary cells whose interval is a single point: hiding them protects nothing."""
    return hidden & ~(secondary & pinned)
