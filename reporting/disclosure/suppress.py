"""Secondary suppression chooser (Fischetti and Salazar-Gonzalez style, one need at a time).

A protection need says: the attacker must not be able to rule out some movement of the hidden
values, e.g. primary cell p rising by its upper protection level. That holds exactly when there
is a deviation y with ``A y = 0`` for every relation, y = 0 on published cells, ``x + y >= 0``
(or ``>=`` the insider's own share), ``x + y <= u`` for cells with a public upper bound u, and
``g . y >= t`` (``g = e_p``, ``t = UPL`` for the example).
``x + y`` is then a feasible table for the attacker, so the audit interval reaches that far.

For each need in turn the chooser first checks whether the cells already hidden allow such a y:
first against the proof it kept for the need and the deviations it has already found in the
block (any of them is still feasible while the cells it moves stay hidden; turned round, once
scaled to the limits), then with an LP (for a need on one cell, the LP relaxation below,
which picks no new cell exactly when the hidden ones suffice). If not it solves a MILP that
picks the cheapest extra cells::

    min  sum c_j s_j     s.t.  A y = 0,  g . y >= t,  -L_j s_j <= y_j <= M_j s_j,  s binary

with s fixed to 1 on cells already hidden. Needs are processed sequentially and the hidden set
only grows, so every earlier proof stays valid. Unlike a greedy loop that adds one cheap cell at
a time, the MILP considers whole patterns (margins included) at once, so it cannot stall in a
local dead end.

Speed: the table splits into independent blocks (connected through relations); each block's
need is first met by a cheap pattern: the LP relaxation is solved and every cell its deviation
touches is hidden (a valid proof: y_j lies in ``[-L_j, M_j]``), less the dearest cells that a
warm LP shows are not needed. While the overall time budget lasts, a MILP with a small time limit
and that pattern's cost as cutoff may then find a cheaper one; its incumbent is accepted when
the limit stops it (any feasible pattern is a valid proof, only perhaps not the cheapest).
Cost-optimality is traded for time this way, protection never: every pattern proves its need,
and the audit checks the result independently.

The relaxation of a need on one cell is one warm-started HiGHS model per block (only costs and
bounds change between needs, see :meth:`Chooser._relaxed`). After the outsider needs, the chooser
plans for the insiders the audit checks (:meth:`Chooser.satisfy_insiders`) and publishes cells
that no deviation can move (:meth:`Chooser.publish_fixed`), so that the first audit normally
certifies the release without repairs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .model import BoolArray, FloatArray, IntArray, System
from .rules import Primaries
from .solver import LinearProgram, null_basis, solve_mip

# Relative slack so that a chosen pattern clears the audit's tolerance comfortably.
TARGET_MARGIN = 1e-6
# Wall-clock limit for one MILP; its incumbent is used when the limit stops it. Relative
# optimality gap accepted.
MILP_TIME_LIMIT = 0.1
MILP_GAP = 0.02
# Default overall budget of the MILPs of one protect() call: a base plus a share per requirement.
# Small on purpose: on the benchmark releases the pruned relaxation patterns are about as cheap
# overall as capped MILPs (whose incumbents after 0.1-0.25 s are often dearer), at a fraction of
# the time; the MILPs only improve individual patterns while the budget lasts. (353-council
# release shape: no MILP at all hid 2.7% less, 35,300 councils 0.9% more than 1.1 s of MILPs.)
BUDGET_BASE = 0.25
BUDGET_PER_REQUIREMENT = 0.0001
# Cells of a relaxation pattern (the dearest first) that the chooser tries to do without.
PRUNE_TRIES = 8
# Deviations remembered per block for the quick check (the oldest are dropped).
KEPT_DEVIATIONS = 64
# Rounds of insider planning (each round re-checks only the blocks the previous one changed).
INSIDER_ROUNDS = 3
# LPs the trim may solve in a block: a floor plus a share of the LPs the block's choice took.
# The dearest secondary cells are tried first, so most of the gain comes early.
TRIM_LP_FLOOR = 20
TRIM_LP_SHARE = 0.25
# Relative squared residual below which a primary cell counts as fixed for an insider in the
# null-space screen; the warm LP of the need then decides.
PINNED_SCREEN = 1e-7
# Rounds of interval propagation before a pruning LP, and how far short of the target its
# bound must stay (relative) for the LP to be skipped.
INTERVAL_ROUNDS = 12
SHORT_MARGIN = 1e-6


def default_budget(requirements: int) -> float:
    """Seconds of MILP time for a system with this many protection requirements."""
    return BUDGET_BASE + BUDGET_PER_REQUIREMENT * requirements


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
    """Chooses secondary cells for a system; keeps the hidden set between rounds.

    ``budget``: seconds of MILP time over the chooser's life (None: :func:`default_budget`).
    Once spent, every further need is met by the LP-relaxation pattern.
    """

    def __init__(
        self,
        system: System,
        primaries: Primaries,
        hidden: BoolArray,
        hideable: BoolArray,
        budget: float | None = None,
    ) -> None:
        self.system = system
        self.primaries = primaries
        self.hidden = hidden.copy()
        self.hideable = hideable | hidden
        positive = system.costs[system.costs > 0]
        # A small constant per cell so that, at equal value, fewer cells are preferred.
        self.per_cell = 0.01 * float(np.median(positive)) if len(positive) else 1e-3
        self.blocks, self.block_of = self._blocks()
        self.local = np.full(system.size, -1, dtype=np.int64)
        for block in self.blocks:
            self.local[block.cells] = np.arange(len(block.cells))
        self.budget = default_budget(len(primaries.requirements)) if budget is None else budget
        self.spent = 0.0
        # Counts of how needs were met (for benchmarks and tests).
        self.stats = {"known": 0, "lp": 0, "milp": 0, "incumbent": 0, "relaxed": 0}
        self._models: dict[int, LinearProgram] = {}
        self._relaxations: dict[int, LinearProgram] = {}
        self._nulls: dict[int, tuple[bytes, FloatArray]] = {}
        # Per block: deviations found (rows of a ring buffer) and how many were stored.
        self._seen: dict[int, tuple[FloatArray, list[int]]] = {}
        self._falls: dict[tuple[int, int], tuple[FloatArray, FloatArray]] = {}
        self._term_cache: dict[int, tuple[IntArray, IntArray, FloatArray, int]] = {}
        self._owners: dict[int, sparse.csr_array] = {}
        # Per block: every need satisfied so far (ordered, no repeats), and per need the
        # deviation that last proved it (sparse: positions in the block and values).
        self._needs: dict[int, dict[Need, None]] = {}
        self._witness: dict[Need, tuple[IntArray, FloatArray]] = {}
        # Whether to trim, and the secondary cells before the trim (a reference for benchmarks).
        self.trims = True
        self.untrimmed = 0
        # LPs solved per block (the trim's allowance is a share of them).
        self._lps: dict[int, int] = {}
        # Per block: the needs that blocked a publication in the trim, the latest last.
        self._blockers: dict[int, dict[Need, None]] = {}

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
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(
            labels[order], np.arange((labels.max() + 1 if len(labels) else 0) + 1)
        )
        csc = sparse.csc_array(matrix)
        blocks = []
        for b in range(len(bounds) - 1):
            cells = columns[order[bounds[b] : bounds[b + 1]]]
            part = sparse.csr_array(csc[:, cells])
            rows = np.flatnonzero(np.diff(part.indptr) > 0)
            blocks.append(_Block(cells=cells, matrix=sparse.csr_array(part[rows])))
        return blocks, block_of

    def block_cells(self, blocks: Sequence[int]) -> BoolArray:
        """Mask of the cells of the given blocks."""
        mask = np.zeros(self.system.size, dtype=bool)
        for b in blocks:
            mask[self.blocks[b].cells] = True
        return mask

    def satisfy(self, needs: Sequence[Need]) -> None:
        """Hide further cells until every need has a proving deviation.

        Blocks take turns (one need each per turn), so that the MILP budget is shared fairly
        when it runs out.
        """
        queues: dict[int, list[Need]] = {}
        for need in needs:
            block = int(self.block_of[need.weights[0][0]])
            queues.setdefault(block, []).append(need)
            # Remembered for the trim: every need must still hold after a cell is published.
            self._needs.setdefault(block, {})[need] = None
        position = 0
        while queues:
            for b in list(queues):
                queue = queues[b]
                if position >= len(queue):
                    del queues[b]
                    continue
                self._satisfy_one(b, queue[position])
            position += 1

    def satisfy_insiders(self, blocks: Sequence[int] | None = None) -> None:
        """Plan for the insiders that the audit checks, so that its first pass finds no leak.

        A council knows its own contributions. Every hidden cell has a positive value (zero cells
        are not hidden unless they are group siblings), so a council's lower bounds leave room
        around the true table except in the cells where it is the only contributor: those it
        knows exactly. A primary cell p is therefore pinned by council c exactly when every
        deviation y with ``A y = 0``, y = 0 on published cells and on c's sole cells, has
        ``y_p = 0``: a question about a null space, answered for all councils and primary cells
        of a block with one SVD (:meth:`_pinned_pairs`). Each pair found becomes an insider
        width need (checked and met with the insider's own limits, as audit repairs are).
        Hiding more cells only widens the null space, so only blocks that changed are checked
        again. The screen is a planning aid: the audit remains the judge, and whatever it still
        finds is repaired as before.
        """
        todo = list(range(len(self.blocks))) if blocks is None else list(blocks)
        tried: set[tuple[int, int]] = set()
        for _ in range(INSIDER_ROUNDS):
            before = self.hidden.copy()
            needs = []
            for b in todo:
                for contributor, cell in self._pinned_pairs(b):
                    if (contributor, cell) in tried:
                        continue
                    tried.add((contributor, cell))
                    value = float(self.system.values[cell])
                    needs.append(width_need(cell, value, insider=contributor))
            if not needs:
                return
            self.satisfy(needs)
            changed = before != self.hidden
            todo = np.unique(self.block_of[changed]).tolist()
            if not todo:
                return

    def _null_space(self, b: int, positions: IntArray) -> FloatArray:
        """A basis of the deviations of block b's hidden cells (``positions`` in the block)."""
        key = positions.tobytes()
        found = self._nulls.get(b)
        if found is not None and found[0] == key:
            return found[1]
        basis = null_basis(self.blocks[b].matrix[:, positions].toarray())
        self._nulls[b] = (key, basis)
        return basis

    def publish_fixed(self, primary: BoolArray, blocks: Sequence[int] | None = None) -> None:
        """Publish the secondary cells that no deviation of the hidden cells can move.

        Such a cell's value already follows from the published ones, so publishing it changes
        no attacker's feasible set (outsider or insider: both are subsets of the set where it is
        fixed already); it only saves the cost. Hidden cells have positive values, so "no
        deviation moves it" is a zero row of the null-space basis. (A zero group sibling can
        also be fixed by its bound 0: the audit's intervals catch that case afterwards.)
        """
        for b in range(len(self.blocks)) if blocks is None else blocks:
            block = self.blocks[b]
            positions = np.flatnonzero(self.hidden[block.cells])
            if not len(positions):
                continue
            basis = self._null_space(b, positions)
            cells = block.cells[positions]
            fixed = ~np.any(np.abs(basis) > 1e-9, axis=1) & ~primary[cells]
            if fixed.any():
                self.hidden[cells[fixed]] = False

    def trim(self, primary: BoolArray, blocks: Sequence[int] | None = None) -> None:
        """Publish secondary cells that no need requires any more, the dearest first.

        A secondary cell is published when every need the chooser has met in its block (outsider
        and insider protection of the primary cells, group siblings, insider widths) still has a
        proving deviation without it: then publishing it changes no primary cell's protection.
        Only needs whose last proving deviation moves the cell are checked again (the others'
        deviations stay feasible), the needs that blocked a cell most recently first, each with
        a warm LP that prefers moving cheap cells, so that its proof rarely stands in the way of
        the next, cheaper candidate. Proofs found by a try that fails are kept as well. The
        cells hidden later in the greedy order often make earlier ones unnecessary; this takes
        them back.

        Work is bounded per block by a number of LPs (:data:`TRIM_LP_FLOOR` plus
        :data:`TRIM_LP_SHARE` times the LPs its choice took), not by time: the result does not
        depend on the machine or on how blocks are split between processes. Cells not tried
        stay hidden. The audit remains the judge of the result.
        """
        region = self._region(blocks)
        self.untrimmed += int(np.sum(self.hidden & ~primary & region))
        for b in range(len(self.blocks)) if blocks is None else blocks:
            needs = self._needs.get(b)
            block = self.blocks[b]
            cells = block.cells[self.hidden[block.cells] & ~primary[block.cells]]
            if not needs or not len(cells):
                continue
            allowed = TRIM_LP_FLOOR + TRIM_LP_SHARE * self._lps.get(b, 0)
            spent = self._lps.get(b, 0)
            order = cells[np.argsort(-self.system.costs[cells], kind="stable")]
            for cell in order.tolist():
                if self._lps.get(b, 0) - spent >= allowed:
                    break
                self._try_publish(b, cell, list(needs))

    def _region(self, blocks: Sequence[int] | None) -> BoolArray:
        if blocks is None:
            return np.ones(self.system.size, dtype=bool)
        return self.block_cells(blocks)

    def _try_publish(self, b: int, cell: int, needs: list[Need]) -> bool:
        """Publish the cell if every need of the block still has a proof without it.

        The needs that blocked a publication most recently are checked first: they are the
        likeliest to block this one too, and then one LP ends the try. The proofs found on
        the way leave the cell alone, so they stay valid whether or not it is published, and
        are kept either way (the next try need not solve them again).
        """
        position = int(self.local[cell])
        blockers = self._blockers.setdefault(b, {})
        rank = {need: i for i, need in enumerate(reversed(blockers))}
        affected = []
        for need in needs:
            witness = self._witness.get(need)
            if witness is None or position in witness[0]:
                affected.append(need)
        affected.sort(key=lambda need: rank.get(need, len(rank)))
        self.hidden[cell] = False
        found: dict[Need, tuple[IntArray, FloatArray]] = {}
        blocked = None
        for need in affected:
            witness = self._without(b, need, position)
            if witness is None and need.alternative is not None:
                witness = self._without(b, need.alternative, position)
            if witness is None:
                blocked = need
                break
            found[need] = witness
        if blocked is None:
            self.forget(b, np.array([cell]))
        else:
            self.hidden[cell] = True
            blockers.pop(blocked, None)
            blockers[blocked] = None
        n = len(self.blocks[b].cells)
        for moved, values in {id(w): w for w in found.values()}.values():
            if len(values) == len(moved):
                dense = np.zeros(n)
                dense[moved] = values
                self._remember(b, dense)
        self._witness.update(found)
        if blocked is not None:
            return False
        self.stats["trimmed"] = self.stats.get("trimmed", 0) + 1
        return True

    def _without(self, b: int, need: Need, position: int) -> tuple[IntArray, FloatArray] | None:
        """A proof of the need that leaves the cell at ``position`` (being published) alone.

        One of the remembered deviations if it can (those that move the cell do not count),
        else the LP of :meth:`_lean` (or, for a need on several cells, of :meth:`_reach`).
        Returns the proof as a sparse deviation; an unbounded LP has none, so its proof is
        every hidden cell of the block with no values (checked again whenever one is published,
        and never remembered as a deviation). None: the need fails without the cell.
        """
        block = self.blocks[b]
        weights = self._weights(b, need)
        threshold = need.target * (1 + TARGET_MARGIN) * (1 - TARGET_MARGIN)
        known = self._known(b, need, weights, threshold, position)
        if known is not None:
            return _sparse(known)
        if len(need.weights) == 1 and need.weights[0][1] != 0:
            y = self._lean(b, need)
            return None if y is None else _sparse(y)
        self._lps[b] = self._lps.get(b, 0) + 1
        met, y = self._reach(b, need, self.hidden[block.cells], weights)
        if not met:
            return None
        if y is None:
            return np.flatnonzero(self.hidden[block.cells]), np.zeros(0)
        return _sparse(y)

    def _remember(self, b: int, y: FloatArray) -> None:
        seen = self._seen.get(b)
        if seen is None:
            seen = (np.zeros((KEPT_DEVIATIONS, len(y))), [0])
            self._seen[b] = seen
        # The oldest deviation is overwritten first.
        seen[0][seen[1][0] % KEPT_DEVIATIONS] = y
        seen[1][0] += 1

    def _lean(self, b: int, need: Need) -> FloatArray | None:
        """A deviation of the hidden cells that meets the need and moves few cheap cells.

        The relaxation model of :meth:`_relaxed` with no new cell allowed and every hidden cell
        priced by its cost per unit of relative movement: the optimum moves few cells, the
        cheap ones rather than the dear ones that the trim tries to publish next, so that its
        proof is rarely disturbed. None when the hidden cells cannot meet the need. Needs on
        several cells use :meth:`_reach`.
        """
        block = self.blocks[b]
        cell, weight = need.weights[0]
        n = len(block.cells)
        fall, rise = self._limits(b, need.insider)
        fixed = self.hidden[block.cells]
        values = self.system.values[block.cells]
        scale = need.target
        price = (self.system.costs[block.cells] + self.per_cell) / np.maximum(values, 1.0)
        lower = np.zeros(2 * n)
        upper = np.concatenate([np.where(fixed, rise, 0.0), np.where(fixed, fall, 0.0)]) / scale
        cost = np.concatenate([price, price]) * scale
        j = int(self.local[cell])
        side = j if weight > 0 else n + j
        goal = _goal(float(upper[side]), weight)
        if goal is None:
            return None
        lower[side] = goal
        upper[n + j if weight > 0 else j] = 0.0
        model = self._relaxations.get(b)
        if model is None:
            matrix = sparse.hstack([block.matrix, -block.matrix], format="csc")
            model = LinearProgram(matrix, np.zeros(block.matrix.shape[0]), lower, upper)
            self._relaxations[b] = model
        self.stats["lean"] = self.stats.get("lean", 0) + 1
        # Counted as solved either way: the trim's allowance does not depend on the proof.
        self._lps[b] = self._lps.get(b, 0) + 1
        if self._stuck(b, need, fixed):
            return None
        status, x = model.solve(cost, lower, upper, may_be_infeasible=True)
        if status != "optimal" or x is None:
            return None
        y = (x[:n] - x[n:]) * scale
        y[np.abs(y) <= 1e-12 * np.maximum(1.0, values)] = 0.0
        return y

    def _pinned_pairs(self, b: int) -> list[tuple[int, int]]:
        """(council, primary cell) pairs of block b where the council pins the cell (screen).

        With N a basis of the deviations of the hidden cells (rows: cells) and S the council's
        sole cells, p is fixed for the council exactly when N_p lies in the row space of N_S
        (then y_S = N_S a = 0 forces y_p = N_p a = 0): the residual of its projection onto that
        row space is (close to) zero.
        """
        block = self.blocks[b]
        positions = np.flatnonzero(self.hidden[block.cells])
        cells = block.cells[positions]
        store = self.system.store
        soles: dict[int, list[int]] = {}
        for i, cell in enumerate(cells.tolist()):
            found = store.get(cell)
            if found is None:
                continue
            codes = found[0][found[1] > 0]
            if len(codes) == 1:
                soles.setdefault(int(codes[0]), []).append(i)
        requirements = self.primaries.requirements
        primary = np.array([i for i, cell in enumerate(cells.tolist()) if cell in requirements])
        if not soles or not len(primary):
            return []
        basis = self._null_space(b, positions)
        if basis.shape[1] == 0:
            return []
        rows = basis[primary]
        room = np.einsum("ij,ij->i", rows, rows)
        pairs = []
        for contributor, sole in soles.items():
            # The part of N_p in the row space of N_S: B G^+ B^T with B = N_p N_S^T and the
            # small Gram matrix G = N_S N_S^T (one row per sole cell).
            known = basis[sole]
            cross = rows @ known.T
            gram = np.linalg.pinv(known @ known.T, rcond=1e-10, hermitian=True)
            left = room - np.einsum("ij,ij->i", cross @ gram, cross)
            own = set(sole)
            fixed = (room > 0) & (left <= PINNED_SCREEN * np.maximum(room, 1.0))
            for k in np.flatnonzero(fixed).tolist():
                if int(primary[k]) not in own:
                    pairs.append((contributor, int(cells[primary[k]])))
        return pairs

    def _satisfy_one(self, b: int, need: Need) -> None:
        """Meet the need (or its alternative) with the cheaper of their patterns.

        For a need on one cell there is no separate "already met?" LP: the relaxation of
        :meth:`_relaxed` prices the hidden cells at nothing, so it picks no new cell exactly when
        the hidden cells already meet the need, and its deviation is then the proof.
        """
        options = [need] if need.alternative is None else [need, need.alternative]
        for option in options:
            if self._met(b, option):
                return
        patterns = []
        for option in options:
            pattern = self._pattern(b, option)
            if pattern is not None and not len(pattern):
                return
            patterns.append(pattern)
        chosen = None
        for option, pattern in zip(options, patterns, strict=True):
            found = self._improve(b, option, pattern)
            if found is not None and (chosen is None or self._cost(found) < self._cost(chosen)):
                chosen = found
        if chosen is not None:
            self.hidden[chosen] = True

    def _cost(self, cells: IntArray) -> float:
        return float(self.system.costs[cells].sum() + self.per_cell * len(cells))

    def _weights(self, b: int, need: Need) -> FloatArray:
        weights = np.zeros(len(self.blocks[b].cells))
        for cell, w in need.weights:
            weights[self.local[cell]] += w
        return weights

    def _limits(self, b: int, insider: int | None) -> tuple[FloatArray, FloatArray]:
        """How far each cell of the block may fall and rise (the insider knows its share).

        A cell rises at most to its public upper bound: every attacker knows it, so a deviation
        beyond it would prove a protection that the audit rightly denies.
        """
        key = (b, -1 if insider is None else insider)
        found = self._falls.get(key)
        if found is not None:
            return found
        cells = self.blocks[b].cells
        fall = self.system.values[cells].astype(np.float64).copy()
        rise = np.maximum(self.system.upper[cells] - fall, 0.0)
        if insider is not None:
            positions, own = self._own(b, insider)
            fall[positions] = np.maximum(0.0, fall[positions] - own)
            # The sole contributor knows the cell exactly: no deviation there helps.
            sole = (own > 0) & (fall[positions] <= 1e-9 * np.maximum(1.0, own))
            fall[positions[sole]] = 0.0
            rise[positions[sole]] = 0.0
        if len(self._falls) > 4096:
            self._falls.clear()
        self._falls[key] = (fall, rise)
        return fall, rise

    def _own(self, b: int, contributor: int) -> tuple[IntArray, FloatArray]:
        """Positions in block b of the cells the contributor has a share in, and the shares."""
        matrix = self._owners.get(b)
        if matrix is None:
            store = self.system.store
            rows, cols, data = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
            for j, cell in enumerate(self.blocks[b].cells.tolist()):
                found = store.get(cell)
                if found is None:
                    continue
                rows.append(found[0])
                cols.append(np.full(len(found[0]), j, dtype=np.int64))
                data.append(found[1])
            shape = (len(store.labels), len(self.blocks[b].cells))
            matrix = sparse.csr_array(
                (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=shape
            )
            self._owners[b] = matrix
        start, stop = matrix.indptr[contributor], matrix.indptr[contributor + 1]
        return matrix.indices[start:stop].astype(np.int64), matrix.data[start:stop]

    def _met(self, b: int, need: Need) -> bool:
        """Whether the cells hidden now already allow a deviation reaching the need's target.

        A proof found earlier stands while every cell it moves is still hidden; then a
        remembered deviation. A need on several cells is then decided by an LP; a need on one
        cell by the relaxation in :meth:`_satisfy_one` (False here means "not known yet").
        """
        witness = self._witness.get(need)
        if witness is not None and self.hidden[self.blocks[b].cells[witness[0]]].all():
            self.stats["proved"] = self.stats.get("proved", 0) + 1
            return True
        self._witness.pop(need, None)
        weights = self._weights(b, need)
        threshold = need.target * (1 + TARGET_MARGIN) * (1 - TARGET_MARGIN)
        known = self._known(b, need, weights, threshold)
        if known is not None:
            self.stats["known"] += 1
            self._witness[need] = _sparse(known)
            return True
        if len(need.weights) == 1 and need.weights[0][1] != 0:
            return False
        self.stats["lp"] += 1
        self._lps[b] = self._lps.get(b, 0) + 1
        met, y = self._reach(b, need, self.hidden[self.blocks[b].cells], weights)
        if met and y is not None:
            # (Unbounded: no witness, the trim re-checks the need with an LP.)
            self._witness[need] = _sparse(y)
        if y is not None:
            # An insider's deviation respects tighter limits: it is an outsider's one as well.
            self._remember(b, y)
        return met

    def _known(
        self,
        b: int,
        need: Need,
        weights: FloatArray,
        threshold: float,
        leave: int | None = None,
    ) -> FloatArray | None:
        """A deviation found earlier in the block (scaled down, or turned round) that already
        meets the need.

        Every deviation found earlier is still feasible for the outsider (cells only get
        hidden; publishing one drops the deviations that move it). For an insider, who knows
        its own shares, a deviation y is scaled by the largest t <= 1 that keeps every cell of
        the insider within its limits; ``t y`` is then feasible for it (the relations are
        homogeneous in y). Failing that, ``-t y`` with t keeping every cell within the need's
        limits: a cell's other side (e.g. a primary cell's protection downwards after the one
        upwards) is often met by the same hidden cells, without an LP.
        """
        seen = self._seen.get(b)
        if seen is None:
            return None
        # A view: no copy of the (up to KEPT_DEVIATIONS x block) rows in this hot path.
        rows = seen[0][: min(seen[1][0], KEPT_DEVIATIONS)]
        if not len(rows):
            return None
        # Only the need's cells matter: a few columns instead of the whole product.
        columns = self.local[[cell for cell, _ in need.weights]]
        if len(columns) > 1:
            columns = np.unique(columns)
        reached = rows[:, columns] @ weights[columns]
        back = -reached
        if leave is not None:
            # Only deviations that leave this cell (about to be published) alone, either way.
            moving = rows[:, leave] != 0
            reached[moving] = back[moving] = -np.inf
        found = self._scaled(b, need, rows, reached, threshold)
        if found is None and threshold > 0:
            found = self._turned(b, need, rows, back, threshold)
        return found

    def _scaled(
        self, b: int, need: Need, rows: FloatArray, reached: FloatArray, threshold: float
    ) -> FloatArray | None:
        """The remembered deviation reaching furthest, scaled to the insider's limits."""
        # The insider's scale t lies in [0, 1], so a row short of a positive threshold stays
        # short: only the others are scaled (the insider's cells are many columns).
        hopeful = np.flatnonzero(reached >= threshold) if threshold > 0 else np.arange(len(rows))
        if not len(hopeful):
            return None
        scale = np.ones(len(rows))
        if need.insider is not None:
            positions, _own = self._own(b, need.insider)
            if len(positions):
                fall, rise = self._limits(b, need.insider)
                scale[hopeful] = _room(
                    rows[np.ix_(hopeful, positions)], fall[positions], rise[positions]
                )
                reached = reached * scale
        best = int(np.argmax(reached))
        return rows[best] * scale[best] if reached[best] >= threshold else None

    def _turned(
        self, b: int, need: Need, rows: FloatArray, reached: FloatArray, threshold: float
    ) -> FloatArray | None:
        """The remembered deviation that, turned round and scaled to every cell's limits (a
        deviation was found within them one way, not the other), reaches furthest."""
        hopeful = np.flatnonzero(reached >= threshold)
        if not len(hopeful):
            return None
        fall, rise = self._limits(b, need.insider)
        turned = -rows[hopeful]
        scale = _room(turned, fall, rise)
        reached = reached[hopeful] * scale
        best = int(np.argmax(reached))
        if reached[best] < threshold:
            return None
        self.stats["turned"] = self.stats.get("turned", 0) + 1
        return turned[best] * scale[best]

    def forget(self, b: int, cells: IntArray) -> None:
        """Drop the remembered deviations of block b that move any of these (published) cells."""
        seen = self._seen.get(b)
        if seen is None:
            return
        count = min(seen[1][0], KEPT_DEVIATIONS)
        rows = seen[0][:count]
        keep = ~np.any(np.abs(rows[:, self.local[cells]]) > 0, axis=1)
        kept = rows[keep].copy()
        seen[0][: len(kept)] = kept
        seen[1][0] = len(kept)

    def _reach(
        self, b: int, need: Need, fixed: BoolArray, weights: FloatArray
    ) -> tuple[bool, FloatArray | None]:
        """Whether hiding the block's cells in ``fixed`` allows the need (warm LP), and a y."""
        model = self._models.get(b)
        block = self.blocks[b]
        if model is None:
            free = np.full(len(block.cells), np.inf)
            model = LinearProgram(block.matrix, np.zeros(block.matrix.shape[0]), -free, free)
            self._models[b] = model
        fall, rise = self._limits(b, need.insider)
        status, y = model.solve(-weights, np.where(fixed, -fall, 0.0), np.where(fixed, rise, 0.0))
        if status == "unbounded":
            return True, None
        assert y is not None
        threshold = need.target * (1 + TARGET_MARGIN) * (1 - TARGET_MARGIN)
        return float(weights @ y) >= threshold, y

    def _stuck(self, b: int, need: Need, fixed: BoolArray, magnitudes: bool = False) -> bool:
        """Whether the relations prove that no deviation moves a one-cell need's cell its way.

        Sign propagation over the block's relations (``sum a_j y_j = 0``, a_j = +-1) with
        y = 0 outside ``fixed`` and each cell's limits (a cell that may not fall has y >= 0):
        a term may be positive only if another term of the row may be negative, and vice
        versa. What this excludes, every deviation excludes, so True is exact: an LP would
        find the need unmet. False proves nothing (the LP decides).
        """
        if len(need.weights) != 1 or need.weights[0][1] == 0:
            return False
        cell, weight = need.weights[0]
        fall, rise = self._limits(b, need.insider)
        up, down = _signs(self._terms(b), fixed & (rise > 0), fixed & (fall > 0))
        j = int(self.local[cell])
        if not (up[j] if weight > 0 else down[j]):
            return True
        if not magnitudes:
            return False
        # How far the cell can move at most, from the limits through the relations.
        low = np.where(down, -fall, 0.0)
        high = np.where(up, rise, 0.0)
        # Clear of the LP's tolerances: only a bound well short of the target decides.
        needed = need.target * (1 - SHORT_MARGIN) / abs(weight)
        return _interval_reach(self._terms(b), low, high, j, weight > 0, needed) < needed

    def _terms(self, b: int) -> tuple[IntArray, IntArray, FloatArray, int]:
        """The block's relation terms: row, column, coefficient (non-zero); and the rows."""
        found = self._term_cache.get(b)
        if found is None:
            coo = sparse.coo_array(self.blocks[b].matrix)
            coo.sum_duplicates()
            # A zero coefficient is no term (left in, it would look like a negative one).
            real = np.flatnonzero(coo.data != 0)
            # Sorted by column: each cell's terms are one run (see _interval_reach).
            real = real[np.lexsort((coo.row[real], coo.col[real]))]
            found = (
                coo.row[real].astype(np.int64),
                coo.col[real].astype(np.int64),
                coo.data[real].astype(np.float64),
                int(coo.shape[0]),
            )
            self._term_cache[b] = found
        return found

    def _prune(self, b: int, need: Need, cells: IntArray) -> IntArray:
        """Drop the dearest of the chosen cells while the rest still prove the need (LP)."""
        if len(cells) <= 1:
            return cells
        block = self.blocks[b]
        weights = self._weights(b, need)
        fixed = self.hidden[block.cells].copy()
        fixed[self.local[cells]] = True
        order = np.argsort(-self.system.costs[cells], kind="stable")[:PRUNE_TRIES]
        keep = np.ones(len(cells), dtype=bool)
        # The deviation that proved the last drop: it proves the next one too if it leaves
        # that cell alone (it respects the same limits on every other cell).
        proof: FloatArray | None = None
        for i in order:
            j = self.local[cells[i]]
            fixed[j] = False
            if proof is not None and proof[j] == 0:
                met = True
            elif self._stuck(b, need, fixed, magnitudes=True):
                # The relations alone keep the need's cell from moving its way: the LP would
                # find nothing (most of the cells a pattern needs fail this way).
                met = False
            else:
                met, y = self._reach(b, need, fixed, weights)
                if met:
                    proof = y
            if met:
                keep[i] = False
            else:
                fixed[j] = True
        return cells[keep]

    def _pattern(self, b: int, need: Need) -> IntArray | None:
        """The cells the LP relaxation of the MILP moves (none: the need is met already).

        Hiding all of them is a valid proof, since y_j lies within [-L_j, M_j]. A small cap
        first: per unit of deviation a cell then costs c_j / (2 t), so the relaxation prefers
        cheap cells; the big cap only when that is infeasible. Only when both are infeasible
        with the margin is the target asked for exactly: a public bound may let a cell reach it
        exactly and no further (the audit judges such a pattern like any other).
        """
        for exact in (False, True):
            for big in (False, True):
                found = self._relaxed(b, need, big=big, exact=exact)
                if found is not None:
                    return found
        return None

    def _improve(self, b: int, need: Need, pattern: IntArray | None) -> IntArray | None:
        """Cells to hide in block b that prove the need, as cheaply as time allows.

        The relaxation's pattern without the dearest cells that an LP shows are not needed.
        Then, while the time budget lasts, a MILP with a small time limit, cut off at that
        pattern's cost: its incumbent, if any, is cheaper and replaces the pattern.
        """
        if pattern is not None:
            pattern = self._prune(b, need, pattern)
            self.stats["relaxed"] += 1
        left = self.budget - self.spent
        if pattern is None or left <= 0 or len(pattern) <= 1:
            return pattern
        started = time.perf_counter()
        better = self._solve(
            b,
            need,
            big=False,
            relaxed=False,
            limit=min(MILP_TIME_LIMIT, left),
            cutoff=self._cost(pattern) * (1 - MILP_GAP),
        )
        self.spent += time.perf_counter() - started
        self.stats["milp"] += 1
        if better is not None and self._cost(better) < self._cost(pattern):
            self.stats["incumbent"] += 1
            return better
        return pattern

    def _relaxed(self, b: int, need: Need, *, big: bool, exact: bool = False) -> IntArray | None:
        """The LP-relaxation pattern of :meth:`_solve`, from one warm-started model per block.

        For a need on one cell the relaxation is rewritten without the s variables: with
        ``y = t (u - d)``, ``u, d >= 0``, a free cell costs ``c_j t / M_j`` per unit of u (at
        most ``M_j / t``) and ``c_j t / L_j`` per unit of d (at most ``L_j / t``), which is the
        relaxation's ``c_j s_j`` at its optimum ``s_j = max(y_j / M_j, -y_j / L_j)``; hidden
        cells cost nothing and keep their limits; the target ``w y_p >= t`` becomes a bound on
        u_p or d_p. Only costs and bounds change between needs, so HiGHS re-solves from the
        previous basis instead of building a model each time. Needs on several cells use
        :meth:`_solve`.
        """
        if len(need.weights) != 1 or need.weights[0][1] == 0:
            return self._solve(b, need, big=big, relaxed=True, limit=np.inf)
        cell, weight = need.weights[0]
        block = self.blocks[b]
        n = len(block.cells)
        fall, rise = self._limits(b, need.insider)
        fixed = self.hidden[block.cells]
        values = self.system.values[block.cells]
        scale = need.target
        cap = 4 * (float(values.sum()) + scale) if big else 2 * scale
        room = np.minimum(rise, cap)
        # A new cell may fall by no more than the cap either (a tighter relaxation); a cell at
        # its upper bound (room 0) may still fall.
        drop = np.minimum(fall, cap)
        free = ~fixed & ((room > 0) | (drop > 0))
        price = self.system.costs[block.cells] + self.per_cell
        lower = np.zeros(2 * n)
        upper = np.concatenate(
            [np.where(fixed, rise, np.where(free, room, 0.0)), np.where(fixed, fall, drop)]
        )
        upper[n:][~fixed & ~free] = 0.0
        upper /= scale
        cost = np.zeros(2 * n)
        with np.errstate(divide="ignore", invalid="ignore"):
            cost[:n] = np.where(free & (room > 0), price * scale / room, 0.0)
            cost[n:] = np.where(free & (drop > 0), price * scale / drop, 0.0)
        j = int(self.local[cell])
        side = j if weight > 0 else n + j
        goal = _goal(float(upper[side]), weight, exact=exact)
        if goal is None:
            return None
        lower[side] = goal
        upper[n + j if weight > 0 else j] = 0.0
        model = self._relaxations.get(b)
        if model is None:
            matrix = sparse.hstack([block.matrix, -block.matrix], format="csc")
            model = LinearProgram(matrix, np.zeros(block.matrix.shape[0]), lower, upper)
            self._relaxations[b] = model
        self._lps[b] = self._lps.get(b, 0) + 1
        status, x = model.solve(cost, lower, upper, may_be_infeasible=True)
        if status != "optimal" or x is None:
            return None
        rising, falling = x[:n] * scale, x[n:] * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.maximum(
                np.where(room > 0, rising / room, 0.0), np.where(drop > 0, falling / drop, 0.0)
            )
        moved = np.abs(rising - falling) > 1e-9 * np.maximum(1.0, values)
        picked = free & ((share > 1e-9) | moved)
        if not picked.any():
            # The hidden cells meet the need: the deviation proves it (for the trim).
            y = np.where(fixed, rising - falling, 0.0)
            self._witness[need] = _sparse(y)
            self._remember(b, y)
        return block.cells[picked]

    def _solve(
        self,
        b: int,
        need: Need,
        *,
        big: bool,
        relaxed: bool,
        limit: float,
        cutoff: float | None = None,
    ) -> IntArray | None:
        """Variables [y, s] (s only for cells not yet hidden); s_j = 1 means cell j is hidden."""
        block = self.blocks[b]
        n = len(block.cells)
        fall, rise = self._limits(b, need.insider)
        fixed = self.hidden[block.cells]
        values = self.system.values[block.cells]
        cap = 4 * (float(values.sum()) + need.target) if big else 2 * need.target
        room = np.minimum(rise, cap)
        # A new cell may fall by no more than the cap either: a tighter relaxation. (Not by
        # no more than it may rise: a cell at its upper bound may still fall.)
        drop = np.minimum(fall, cap)
        free = np.flatnonzero(~fixed & ((room > 0) | (drop > 0)))
        k = len(free)
        costs = self.system.costs[block.cells[free]] + self.per_cell
        weights = self._weights(b, need)
        eye = sparse.csr_array((np.ones(k), (np.arange(k), free)), shape=(k, n))
        rows = sparse.vstack(
            [
                sparse.hstack([block.matrix, sparse.csr_array((block.matrix.shape[0], k))]),
                sparse.hstack([sparse.csr_array(weights[None, :]), sparse.csr_array((1, k))]),
                # y_j - M_j s_j <= 0 and y_j + L_j s_j >= 0 tie each deviation to its cell.
                sparse.hstack([eye, -sparse.diags_array(room[free])]),
                sparse.hstack([eye, sparse.diags_array(drop[free])]),
            ],
            format="csc",
        )
        relations = block.matrix.shape[0]
        row_lower = np.concatenate(
            [
                np.zeros(relations),
                [need.target * (1 + TARGET_MARGIN)],
                np.full(k, -np.inf),
                np.zeros(k),
            ]
        )
        row_upper = np.concatenate([np.zeros(relations), [np.inf], np.zeros(k), np.full(k, np.inf)])
        # Cells already hidden need no big-M: their deviation is bounded only by what is known.
        y_low = np.where(fixed, -fall, 0.0)
        y_high = np.where(fixed, rise, 0.0)
        y_low[free] = -drop[free]
        y_high[free] = room[free]
        if len(need.weights) == 1 and need.weights[0][1] != 0:
            cell, weight = need.weights[0]
            j = int(self.local[cell])
            reach = (y_high[j] if weight > 0 else -y_low[j]) / need.target
            goal = _goal(float(reach), weight)
            if goal is None:
                return None
            row_lower[relations] = goal * abs(weight) * need.target
        result = solve_mip(
            np.concatenate([np.zeros(n), costs]),
            rows,
            row_lower,
            row_upper,
            np.concatenate([y_low, np.zeros(k)]),
            np.concatenate([y_high, np.ones(k)]),
            np.concatenate([np.zeros(n, dtype=bool), np.full(k, not relaxed)]),
            time_limit=limit,
            gap=MILP_GAP,
            cutoff=cutoff,
        )
        if result.x is None:
            return None
        # A cell is hidden when chosen, and also whenever its deviation is not zero (within
        # tolerances a MILP may move a cell a little with s_j just above 0): a superset of a
        # proving pattern is a proving pattern.
        moved = np.abs(result.x[:n][free]) > 1e-9 * np.maximum(1.0, values[free])
        picked = (result.x[n:] > (1e-9 if relaxed else 0.5)) | moved
        return block.cells[free[picked]]


def _goal(reach: float, weight: float, *, exact: bool = False) -> float | None:
    """How far a need on one cell asks its cell to move, in units of the target (None: too far).

    ``reach``: how far the cell may move that way, in the same units. The margin keeps a proof
    clear of the audit's tolerance; but a cell whose public bound lets it reach the target
    exactly, and no further, is asked to go to its bound: meeting the target exactly at the
    bound protects the cell (the audit judges), and asking for the margin beyond it would make
    the need look out of reach and leave it unmet. ``exact``: the target without the margin
    (a bound of another cell may stop the deviation exactly at the target).
    """
    goal = (1 + (0.0 if exact else TARGET_MARGIN)) / abs(weight)
    if reach >= goal:
        return goal
    if reach * abs(weight) >= 1 - 1e-12:
        return reach
    return None


def _signs(
    terms: tuple[IntArray, IntArray, FloatArray, int], up: BoolArray, down: BoolArray
) -> tuple[BoolArray, BoolArray]:
    """Which cells may still rise and fall once every relation's signs are taken into account.

    ``up``/``down``: the cells that their limits let rise/fall. A term ``a_j y_j`` of a
    relation may be positive only if another term may be negative (they sum to 0), and vice
    versa; a cell loses a direction when any of its terms cannot take the sign it needs.
    Repeated until nothing changes; the result is a superset of what deviations can do.
    """
    row, col, coefficient, rows = terms
    positive = coefficient > 0
    # Only the terms of cells that may still move matter (the others are 0 for good).
    live = up[col] | down[col]
    row, col, positive = row[live], col[live], positive[live]
    while True:
        # Whether each term may be positive, and negative.
        plus = np.where(positive, up[col], down[col])
        minus = np.where(positive, down[col], up[col])
        # Whether another term of its row may be positive, and negative.
        other_plus = np.bincount(row, plus, rows)[row] - plus > 0
        other_minus = np.bincount(row, minus, rows)[row] - minus > 0
        # A term may be positive only if another may be negative, and vice versa.
        no_plus = plus & ~other_minus
        no_minus = minus & ~other_plus
        no_up = np.where(positive, no_plus, no_minus)
        no_down = np.where(positive, no_minus, no_plus)
        if not (no_up.any() or no_down.any()):
            return up, down
        up, down = up.copy(), down.copy()
        up[col[no_up]] = False
        down[col[no_down]] = False
        live = up[col] | down[col]
        row, col, positive = row[live], col[live], positive[live]


def _interval_reach(
    terms: tuple[IntArray, IntArray, FloatArray, int],
    low: FloatArray,
    high: FloatArray,
    j: int,
    upward: bool,
    needed: float,
) -> float:
    """An upper bound on how far deviation j can rise (``upward``) or fall, by propagation.

    Each relation ``sum a_k y_k = 0`` bounds ``a_j y_j`` by minus the other terms' range;
    ``low``/``high``: each cell's limits (0 for cells that may not move). Repeated for at most
    :data:`INTERVAL_ROUNDS` rounds, or until the bound is below ``needed``; every bound found
    holds for every deviation. The terms come sorted by column.
    """
    row, col, coefficient, rows = terms
    live = (low[col] < 0) | (high[col] > 0)
    row, col, coefficient = row[live], col[live], coefficient[live]
    if not len(col):
        # No relation holds a movable cell: only the limits bound the cell.
        return float(high[j]) if upward else float(-low[j])
    positive = coefficient > 0
    # Each live cell's terms are one run: reduceat gives its tightest bound.
    starts = np.flatnonzero(np.concatenate([[True], col[1:] != col[:-1]]))
    cells = col[starts]
    low, high = low.copy(), high.copy()
    for _ in range(INTERVAL_ROUNDS):
        smallest = np.where(positive, coefficient * low[col], coefficient * high[col])
        largest = np.where(positive, coefficient * high[col], coefficient * low[col])
        others = []
        for values, fill in ((smallest, -np.inf), (largest, np.inf)):
            infinite = np.isinf(values)
            finite = np.where(infinite, 0.0, values)
            total = np.bincount(row, finite, rows)[row] - finite
            unbounded = np.bincount(row, infinite, rows)[row] - infinite > 0
            others.append(np.where(unbounded, fill, total))
        others_min, others_max = others
        # a_j y_j = -(the others): within [-others_max, -others_min].
        upper = np.where(positive, -others_min, -others_max) / coefficient
        lower = np.where(positive, -others_max, -others_min) / coefficient
        new_high = np.minimum(high[cells], np.minimum.reduceat(upper, starts))
        new_low = np.maximum(low[cells], np.maximum.reduceat(lower, starts))
        if np.array_equal(new_high, high[cells]) and np.array_equal(new_low, low[cells]):
            break
        high[cells], low[cells] = new_high, new_low
        if (high[j] if upward else -low[j]) < needed:
            break
    return float(high[j]) if upward else float(-low[j])


def _room(moves: FloatArray, fall: FloatArray, rise: FloatArray) -> FloatArray:
    """Per row of deviations, the largest t <= 1 that keeps ``t * row`` within the limits
    (cells fall at most ``fall``, rise at most ``rise``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(moves < 0, fall / -moves, np.where(moves > 0, rise / moves, np.inf))
    return np.minimum(1.0, room.min(axis=1)) if room.shape[1] else np.ones(len(moves))


def _sparse(y: FloatArray) -> tuple[IntArray, FloatArray]:
    moved = np.flatnonzero(y)
    return moved, y[moved]


def needs_for_primaries(system: System, primaries: Primaries) -> list[Need]:
    """Protection needs of every primary cell, largest protection first.

    A p%-unsafe cell is protected against its second-largest contributor with that council's
    own figures known everywhere (:func:`insider_p_needs`). The council's feasible tables are a
    subset of the outsider's, so its need implies the outsider's need for the same target, which
    is then left out.
    """
    needs = []
    for cell, requirement in primaries.requirements.items():
        value = float(system.values[cell])
        up = requirement.upper - value
        down = value - requirement.lower
        covered_up = covered_down = False
        for contributor, upper, lower in requirement.insiders:
            needs.extend(insider_p_needs(system, cell, contributor, upper, lower))
            covered_up |= upper >= requirement.upper
            covered_down |= lower <= requirement.lower
        if up > 0 and not covered_up:
            needs.append(Need(((cell, 1.0),), up))
        if down > 0 and not covered_down:
            needs.append(Need(((cell, -1.0),), down))
        if up <= 0 and down <= 0:
            needs.append(width_need(cell, value))
    for flag in primaries.groups:
        # Some zero sibling must be able to hold a council: then the answers are not all known.
        needs.append(Need(tuple((s, 1.0) for s in flag.siblings), 1.0))
    needs.sort(key=lambda need: -need.target)
    return needs


def insider_p_needs(
    system: System, cell: int, contributor: int, upper: float, lower: float
) -> list[Need]:
    """The p% needs of a cell against one second-largest contributor (its own shares known)."""
    value = float(system.values[cell])
    needs = []
    if upper > value:
        needs.append(Need(((cell, 1.0),), upper - value, insider=contributor))
    if lower < value:
        needs.append(Need(((cell, -1.0),), value - lower, insider=contributor))
    return needs


def width_need(cell: int, value: float, insider: int | None = None) -> Need:
    """A non-zero width: the cell may move up or down by a small step."""
    step = min(1.0, value) if value > 0 else 1.0
    # A cell falls at most to 0: a cell of value <= 1 aims just short of it, so that the margin
    # the chooser adds to every target stays reachable (a cell at its upper bound, e.g. all
    # invited councils responding, can only fall).
    fall = step if step < value else value * (1 - 10 * TARGET_MARGIN)
    down = Need(((cell, -1.0),), fall, insider) if value > 0 else None
    return Need(((cell, 1.0),), step, insider, alternative=down)


def drop_pinned(hidden: BoolArray, secondary: BoolArray, pinned: BoolArray) -> BoolArray:
    """Publish secondary cells whose interval is a single point: hiding them protects nothing."""
    return hidden & ~(secondary & pinned)
