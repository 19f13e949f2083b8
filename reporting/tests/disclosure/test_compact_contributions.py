"""The compact form of contributions (int32 positions into one array of council ids:
``Contributions.labels`` and ``Members``) gives the engine exactly what the named form gives
(arrays of ids, lists of ids): the same contributor codes, primary rules and protection."""

from __future__ import annotations

import numpy as np
import pytest

from reporting.disclosure import (
    Cell,
    Contributions,
    DeferredMembers,
    DisclosureInputError,
    Members,
    Relation,
    Rules,
    protect,
)
from reporting.disclosure.model import CountedBits, build_system
from reporting.disclosure.rules import find_primaries

RULES = Rules(min_contributors=3, p=10.0, nk=(2, 85.0), group_min_size=10)


def _tables(seed: int, compact: bool) -> tuple[list[Cell], list[Relation]]:
    """Magnitudes (some dominated, some with a repeated council) and counts of councils by
    group, with totals; councils named out of order, as GSS codes listed by response."""
    rng = np.random.default_rng(seed)
    labels = np.array([f"E{n:08d}" for n in rng.permutation(60)], dtype=object)
    cells, relations = [], []
    for table in range(4):
        parts = []
        for group in range(5):
            size = int(rng.integers(0, 9))
            where = rng.choice(len(labels), size=size, replace=False).astype(np.int32)
            if size > 3 and group % 2:
                where = np.append(where, where[0])  # one council twice (summed)
            values = rng.integers(1, 50, size=len(where)).astype(np.float64)
            if size and group == 3:
                values[0] *= 40  # a dominant council
            contributions = (
                Contributions(where, values, labels)
                if compact
                else Contributions(labels[where], values)
            )
            parts.append(Cell(f"m{table}|{group}", contributions=contributions))
        cells += parts
        total = float(sum(c.contributions.values.sum() for c in parts))
        cells.append(Cell(f"m{table}|total", value=total))
        relations.append(Relation(f"m{table}|total", tuple(c.id for c in parts)))
        counts = []
        for group in range(3):
            size = int(rng.integers(0, 12)) if group else 0
            where = rng.choice(len(labels), size=size, replace=False).astype(np.int32)
            members = Members(where, labels) if compact else list(labels[where])
            counts.append(Cell(f"f{table}|{group}", contributors=members))
        cells += counts
        size = float(sum(len(c.contributors) for c in counts))
        cells.append(Cell(f"f{table}|total", value=size, frequency=True))
        relations.append(Relation(f"f{table}|total", tuple(c.id for c in counts)))
    return cells, relations


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_compact_contributions_give_the_same_codes_and_primary_rules(seed: int) -> None:
    named = build_system(*_tables(seed, compact=False))
    compact = build_system(*_tables(seed, compact=True))
    assert compact.store.labels == named.store.labels
    assert compact.store.leaf.keys() == named.store.leaf.keys()
    for cell in named.store.leaf:
        codes, values = named.store.get(cell)
        assert compact.store.get(cell)[0].tolist() == codes.tolist()
        assert compact.store.get(cell)[1].tolist() == values.tolist()
    assert compact.values.tolist() == named.values.tolist()
    assert compact.frequency.tolist() == named.frequency.tolist()
    before, after = find_primaries(named, RULES), find_primaries(compact, RULES)
    assert after.requirements == before.requirements
    assert after.groups == before.groups
    assert after.empty.tolist() == before.empty.tolist()
    # Some cells are primary and some are not: the comparison says something.
    assert 0 < len(before.requirements) < named.size


@pytest.mark.parametrize("seed", [1, 2])
def test_compact_contributions_are_protected_alike(seed: int) -> None:
    named = protect(*_tables(seed, compact=False), rules=RULES)
    compact = protect(*_tables(seed, compact=True), rules=RULES)
    assert compact.cells == named.cells
    assert compact.audit == named.audit


def test_a_council_counted_twice_is_refused_in_the_compact_form() -> None:
    labels = np.array(["E1", "E2"], dtype=object)
    twice = Cell("f", contributors=Members(np.array([0, 1, 0], np.int32), labels))
    with pytest.raises(DisclosureInputError, match="counted twice"):
        build_system([twice], [])


def test_a_position_outside_the_labels_is_refused() -> None:
    labels = np.array(["E1", "E2"], dtype=object)
    outside = Contributions(np.array([0, 2], np.int32), np.array([1.0, 2.0]), labels)
    with pytest.raises(DisclosureInputError, match="outside its labels"):
        build_system([Cell("m", contributions=outside)], [])


def test_an_empty_council_id_is_refused_in_the_compact_form() -> None:
    labels = np.array(["E1", ""], dtype=object)
    with pytest.raises(DisclosureInputError, match="non-empty strings"):
        build_system([Cell("f", contributors=Members(np.array([0], np.int32), labels))], [])


def test_counted_councils_contribute_ones_that_take_no_memory():
    """A frequency cell's contributions are ones by council code, as ``aggregate`` gives
    them, held as a read-only view of one number (not 8 bytes per council counted)."""
    labels = np.array(["E3", "E1", "E2"], dtype=object)
    system = build_system([Cell("f", contributors=Members(np.array([2, 0], np.int32), labels))], [])
    codes, values = system.store.get(0)
    assert codes.dtype == np.int32 and codes.tolist() == sorted(codes.tolist())
    assert [system.store.labels[c] for c in codes] == ["E2", "E3"]
    assert values.tolist() == [1.0, 1.0] and values.strides == (0,)
    assert not values.flags.writeable


def test_deferred_members_are_made_when_compiled_and_give_what_members_give():
    """``DeferredMembers``: the positions are made only when the engine compiles the cell
    (once), and the engine reads exactly what the same ``Members`` give it."""
    labels = np.array(["E3", "E1", "E2", "E4"], dtype=object)
    made = []

    def make():
        made.append(True)
        return np.array([3, 0, 2], np.int32)

    deferred = Cell("f", contributors=DeferredMembers(make, 3, labels))
    given = Cell("f", contributors=Members(np.array([3, 0, 2], np.int32), labels))
    assert not made
    later, now = build_system([deferred], []), build_system([given], [])
    assert made == [True]
    assert later.values.tolist() == now.values.tolist() == [3.0]
    assert later.store.get(0)[0].tolist() == now.store.get(0)[0].tolist()
    assert later.store.labels == now.store.labels


def test_deferred_members_that_are_not_as_many_as_said_are_refused():
    labels = np.array(["E1", "E2"], dtype=object)
    fewer = DeferredMembers(lambda: np.array([1], np.int32), 2, labels)
    with pytest.raises(DisclosureInputError, match="count must equal"):
        build_system([Cell("f", contributors=fewer)], [])


def test_a_count_s_councils_are_kept_as_bits_where_smaller_and_read_back_the_same():
    """A count cell's councils are kept as a bit per code over their range where that takes
    less room than int32 codes, and read back as the same sorted codes and ones; a few
    councils spread over many codes stay codes."""
    labels = np.array([f"E{n:04d}" for n in range(2000)], dtype=object)
    dense = np.arange(100, 1100, 3, dtype=np.int32)
    sparse_ = np.array([0, 1999], np.int32)
    system = build_system(
        [
            Cell("all", contributors=Members(np.arange(2000, dtype=np.int32), labels)),
            Cell("dense", contributors=Members(dense, labels)),
            Cell("sparse", contributors=Members(sparse_, labels)),
            Cell("m", contributions=Contributions(dense, np.full(len(dense), 2.0), labels)),
        ],
        [],
    )
    store = system.store
    assert isinstance(store.leaf[1], CountedBits)
    assert store.leaf[1].bits.nbytes * 8 < len(dense) * 32
    assert not isinstance(store.leaf[2], CountedBits)  # two councils: codes are smaller
    assert not isinstance(store.leaf[3], CountedBits)  # a magnitude keeps its values
    for cell, members in ((1, dense), (2, sparse_)):
        codes, values = store.get(cell)
        assert codes.dtype == np.int32
        assert [store.labels[c] for c in codes] == sorted(labels[members].tolist())
        assert values.tolist() == [1.0] * len(members)
    assert system.values.tolist() == [2000.0, len(dense), 2.0, 2.0 * len(dense)]


def test_counts_held_as_bits_are_judged_by_how_many_they_count_without_making_codes(
    monkeypatch,
):
    """The primary rules take a count held as bits by its number of councils alone: two
    neighbouring councils are too few and three are enough, as with named councils, and no
    codes are made."""
    labels = np.array([f"E{n:04d}" for n in range(40)], dtype=object)
    counts = {"two": [4, 5], "three": [7, 8, 9], "many": list(range(10, 30))}
    cells = [
        Cell(k, contributors=Members(np.array(v, np.int32), labels)) for k, v in counts.items()
    ]
    system = build_system(cells, [])
    store = system.store
    assert all(isinstance(store.leaf[i], CountedBits) for i in range(3))
    made = []
    real = CountedBits.contributions
    monkeypatch.setattr(
        CountedBits, "contributions", lambda self: made.append(self.count) or real(self)
    )
    primaries = find_primaries(system, RULES)
    assert made == []
    assert sorted(primaries.requirements) == [0]
    named = [Cell(k, contributors=[labels[c] for c in v]) for k, v in counts.items()]
    assert sorted(find_primaries(build_system(named, []), RULES).requirements) == [0]
