"""A release's cells are handed to the engine one at a time and let go of once compiled
(``reporting.tables.System.hand_over``): their contributions are not held twice while the
release is protected, and the protection is the same as from a list of the same cells."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from reporting.disclosure import Rules, protect
from reporting.disclosure.model import build_system
from reporting.tables import System

RULES = Rules(min_contributors=3, p=10.0, nk=(2, 85.0), group_min_size=10)


def _system(seed: int = 7) -> System:
    """Volumes of councils by group with a total, and counts of councils by group with a
    total, in the compact form a release uses (positions into one array of GSS codes)."""
    rng = np.random.default_rng(seed)
    labels = np.array([f"E{n:08d}" for n in rng.permutation(80)], dtype=object)
    system = System()
    volumes, counts = [], []
    for group in range(6):
        where = np.sort(rng.choice(len(labels), size=int(rng.integers(1, 12)), replace=False))
        values = rng.integers(1, 400, size=len(where)).astype(np.float64)
        if group == 2:
            values[0] *= 50  # a dominant council
        keys = {"group": str(group)}
        volumes.append(system.magnitude("volume", keys, where.astype(np.int32), values, labels))
        counts.append(system.frequency("count", keys, where.astype(np.int32), labels=labels))
    system.total("volume", {"group": "all"}, volumes)
    system.total("count", {"group": "all"}, counts)
    return system


def _compiled(system) -> tuple:
    store = system.store
    leaves = {i: tuple(a.tolist() for a in store.get(i)) for i in store.leaf}
    return (
        system.ids,
        system.values.tolist(),
        system.frequency.tolist(),
        system.upper.tolist(),
        leaves,
        store.derive_from,
        store.labels,
    )


def test_handed_over_cells_are_freed_once_compiled_and_compile_the_same():
    reference = build_system(_system().cells, _system().relations)
    system = _system()
    arrays = [
        weakref.ref(cell.contributions.values)
        for cell in system.cells
        if cell.contributions is not None
    ]
    given = [weakref.ref(cell) for cell in system.cells]
    assert len(arrays) == 6
    compiled = build_system(system.hand_over(), system.relations)
    gc.collect()
    # Nothing holds the given cells or their figures any more: only the compiled copies.
    assert [ref() for ref in given] == [None] * len(given)
    assert [ref() for ref in arrays] == [None] * len(arrays)
    assert _compiled(compiled) == _compiled(reference)


def test_the_engine_lets_each_cell_go_before_reading_the_next():
    system = _system()
    relations = system.relations
    seen: list[weakref.ref] = []
    held = []

    def watched():
        for cell in system.hand_over():
            # Every cell read before the one just read is gone already (refcounting).
            held.append(sum(ref() is not None for ref in seen[:-1]))
            seen.append(weakref.ref(cell))
            yield cell
            del cell

    build_system(watched(), relations)
    assert len(seen) == 14
    assert held == [0] * 14


def test_the_system_keeps_each_cell_without_its_contributions():
    system = _system()
    before = list(system.cells)
    cells = list(system.hand_over())
    assert cells == before
    kept = system.cells
    assert [c.id for c in kept] == [c.id for c in before]
    assert [c.value for c in kept] == [system.values[c.id] for c in before]
    assert [(c.upper, c.public) for c in kept] == [(c.upper, c.public) for c in before]
    assert all(c.contributions is None and c.contributors is None for c in kept)


def test_protection_of_handed_over_cells_equals_protection_of_the_list():
    from_list = protect(_system().cells, _system().relations, rules=RULES)
    system = _system()
    handed = protect(system.hand_over(), system.relations, rules=RULES)
    assert handed == from_list
    assert any(outcome.status == "primary" for outcome in handed.cells)
