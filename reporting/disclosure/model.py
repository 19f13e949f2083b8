"""Input model: cells, additive relations and rules, validated and compiled into one system.

Everything that the rules, the chooser and the audit need is compiled here once: a dense vector
of cell values, a sparse relation matrix (one row per ``total = sum(parts)``) and a store of
per-cell contributions aggregated by contributor. Nothing in this package imports Django.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Relations and contributions must add up to within this relative tolerance.
ADD_UP_RTOL = 1e-9


class DisclosureInputError(ValueError):
    """Invalid or inconsistent input: refused before any figure is computed."""


@dataclass(frozen=True)
class Rules:
    """Primary-rule parameters (confidential: never printed on public outputs)."""

    min_contributors: int = 3
    p: float | None = 10.0
    nk: tuple[int, float] | None = None
    # A frequency group (a total with all of its councils in one answer category) smaller than
    # this is treated as disclosive; 0 switches the group check off.
    group_min_size: int = 10

    def __post_init__(self) -> None:
        _check_int("min_contributors", self.min_contributors, minimum=1)
        if self.p is not None:
            _check_number("p", self.p)
            if not 0 < self.p < 100:
                raise DisclosureInputError(f"p must be between 0 and 100 exclusive, got {self.p}")
        if self.nk is not None:
            if isinstance(self.nk, str | bytes) or len(self.nk) != 2:
                raise DisclosureInputError("nk must be a pair [n, k]")
            n, k = self.nk
            _check_int("nk n", n, minimum=1)
            _check_number("nk k", k)
            if not 0 < k <= 100:
                raise DisclosureInputError(f"nk k must be in (0, 100], got {k}")
            object.__setattr__(self, "nk", (int(n), float(k)))
        _check_int("group_min_size", self.group_min_size, minimum=0)


@dataclass(frozen=True)
class Contributions:
    """Named contributions held as two parallel arrays (the efficient form for big releases).

    ``labels``: when given, ``contributors`` are positions (int32) into it, an array of
    contributor ids shared by many cells (the compact form: 4 bytes per contribution, and
    each id is looked up once per array of labels, not once per cell). ``values`` may be
    integers (half the memory of float64 for whole numbers): made float64 when compiled."""

    contributors: npt.NDArray[Any]
    values: FloatArray | IntArray
    labels: npt.NDArray[Any] | None = None


@dataclass(frozen=True)
class Members:
    """The councils a frequency cell counts, compactly: ``positions`` (int32) into ``labels``,
    an array of contributor ids shared by many cells. The same as ``contributors`` given as
    the list ``[labels[i] for i in positions]``."""

    positions: npt.NDArray[np.int32]
    labels: npt.NDArray[Any]

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class DeferredMembers:
    """:class:`Members` whose positions are made only when the engine compiles the cell
    (``make()``), so that the caller does not hold them until then: a big release's
    councils not offering each channel, made from the providers and those offering it.
    ``count``: how many positions ``make`` gives, the cell's value (the engine checks it)."""

    make: Callable[[], npt.NDArray[np.int32]]
    count: int
    labels: npt.NDArray[Any]

    def __len__(self) -> int:
        return self.count

    def made(self) -> Members:
        return Members(np.asarray(self.make(), dtype=np.int32), self.labels)


ContributionInput = Sequence[float] | Sequence[tuple[str, float]] | Mapping[str, float]


@dataclass(frozen=True)
class Cell:
    """One published-or-hidden figure and, where known, who contributed to it.

    ``contributions``: anonymous values (each a distinct contributor), ``(contributor, value)``
    pairs, a mapping, or :class:`Contributions`. ``contributors``: for a frequency cell the
    number (or the ids) of councils counted; for a magnitude cell without values, their number.
    ``upper``: a public upper bound on the cell (e.g. responding councils of a group can be no
    more than the councils invited, which is published). The attacker knows it, so the audit
    and the chooser both bound the hidden cell by it; None: no bound beyond the relations.
    """

    id: str
    value: float | None = None
    contributions: ContributionInput | Contributions | None = None
    contributors: int | Sequence[str] | Members | DeferredMembers | None = None
    frequency: bool = False
    forced_primary: bool = False
    upper: float | None = None
    # A public fact (e.g. the number of councils invited in a group, a published response
    # count): the world knows it already, so it is always published, is never primary, and
    # every attacker (outsider and insider) uses it as a fixed value of the linked system.
    public: bool = False


@dataclass(frozen=True)
class Relation:
    """An additive relation ``total = sum(parts)``; ``group_check`` opts out of group disclosure."""

    total: str
    parts: tuple[str, ...]
    group_check: bool = True


@dataclass(frozen=True)
class CountedBits:
    """The councils a count cell counts, as a bit per contributor code from its first code to
    its last (``ContributionStore``): each counts one, and councils of one type and region
    get consecutive codes (the first cells compiled count them by group), so a cell's codes
    lie close together. As int32 codes, the counts of a big release took 338 MB at 353,000
    councils; a bit per code takes a few per cent of that. Made only where it is smaller."""

    start: int
    size: int
    count: int
    bits: npt.NDArray[np.uint8]

    @classmethod
    def of(cls, codes: IntArray) -> CountedBits | None:
        """``codes`` (sorted, unique) as bits, or None where int32 codes take less room."""
        if not len(codes):
            return None
        start = int(codes[0])
        size = int(codes[-1]) - start + 1
        if (size + 7) // 8 >= 4 * len(codes):
            return None
        mask = np.zeros(size, dtype=bool)
        mask[codes - start] = True
        return cls(start, size, len(codes), np.packbits(mask))

    def contributions(self) -> tuple[IntArray, FloatArray]:
        """As ``aggregate`` gives a count's contributions: sorted codes (int32) and ones."""
        at = np.flatnonzero(np.unpackbits(self.bits, count=self.size))
        return (at + self.start).astype(np.int32), _ones(self.count)


@dataclass
class ContributionStore:
    """Per-cell contributions aggregated by contributor code, derived for totals on demand.
    A count cell's may be held as :class:`CountedBits`, made into arrays when read."""

    leaf: dict[int, tuple[IntArray, FloatArray] | CountedBits]
    derive_from: dict[int, tuple[int, ...]]
    labels: list[str]
    _memo: dict[int, tuple[IntArray, FloatArray]] = field(default_factory=dict)

    def has(self, cell: int) -> bool:
        """Whether the contributions of ``cell`` are known or derivable."""
        return cell in self.leaf or cell in self.derive_from

    def counted_values(self, cell: int) -> FloatArray | None:
        """The values (ones) of a count held as :class:`CountedBits`, without making its
        codes; None for any other cell."""
        found = self.leaf.get(cell)
        return _ones(found.count) if isinstance(found, CountedBits) else None

    def get(self, cell: int) -> tuple[IntArray, FloatArray] | None:
        """Contributor codes (sorted, unique) and summed values of ``cell``, or None if unknown."""
        found = self.leaf.get(cell)
        if isinstance(found, CountedBits):
            return found.contributions()
        if found is not None:
            return found
        if cell in self._memo:
            return self._memo[cell]
        parts = self.derive_from.get(cell)
        if parts is None:
            return None
        pieces = [self.get(part) for part in parts]
        codes = np.concatenate([p[0] for p in pieces if p is not None])
        values = np.concatenate([p[1] for p in pieces if p is not None])
        # A council reaching a total through several parts counts once, with its values summed.
        result = aggregate(codes, values)
        self._memo[cell] = result
        return result

    def value_of(self, cell: int, contributor: int) -> float:
        """Value that ``contributor`` puts into ``cell`` (0 when none or unknown)."""
        found = self.get(cell)
        if found is None:
            return 0.0
        codes, values = found
        pos = int(np.searchsorted(codes, contributor))
        if pos < len(codes) and codes[pos] == contributor:
            return float(values[pos])
        return 0.0

    def forget(self, cell: int) -> None:
        """Drop one memoised total (rebuilt on demand if read again)."""
        self._memo.pop(cell, None)

    def clear_derived(self) -> None:
        """Drop memoised totals (they are rebuilt on demand) to bound memory."""
        self._memo.clear()


@dataclass
class System:
    """All cells and relations of a release as one linear system."""

    ids: list[str]
    index: dict[str, int]
    values: FloatArray
    frequency: BoolArray
    forced: BoolArray
    # Public facts: always published (see Cell.public).
    public: BoolArray
    count_only: dict[int, int]
    relations: list[tuple[int, tuple[int, ...], bool]]
    matrix: sparse.csr_array
    costs: FloatArray
    store: ContributionStore
    # Public upper bound of each cell (inf where none): known to every attacker.
    upper: FloatArray

    @property
    def size(self) -> int:
        """Number of cells."""
        return len(self.ids)


def aggregate(codes: IntArray, values: FloatArray) -> tuple[IntArray, FloatArray]:
    """Sum values per contributor code; return sorted unique codes and their totals."""
    # Codes are int32 (4 bytes per contribution: millions of them in a big release).
    if len(codes) == 0:
        return codes.astype(np.int32), values.astype(np.float64)
    # One stable sort serves both cases (np.unique would sort again).
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    first = np.empty(len(codes), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    if first.all():
        return ordered.astype(np.int32), values[order].astype(np.float64)
    # Summed in the input order per code, as np.bincount over np.unique's inverse does.
    inverse = np.empty(len(codes), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first].astype(np.int32), np.bincount(inverse, weights=values).astype(np.float64)


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DisclosureInputError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DisclosureInputError(f"{name} must be finite, got {value!r}")
    return number


def _check_int(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DisclosureInputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise DisclosureInputError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= ADD_UP_RTOL * max(1.0, abs(a), abs(b))


class _Interner:
    """Maps contributor ids to integer codes; anonymous contributors get fresh codes."""

    def __init__(self) -> None:
        self.codes: dict[object, int] = {}
        self.labels: list[str] = []
        # Arrays of labels of compact contributions, by id: (the array, its distinct labels,
        # each position's rank, each rank's code).
        self._universes: dict[int, tuple] = {}
        self._checked: dict[int, object] = {}

    def named(self, key: object) -> int:
        code = self.codes.get(key)
        if code is None:
            code = len(self.labels)
            self.codes[key] = code
            self.labels.append(str(key))
        return code

    def many(self, keys: npt.NDArray[Any]) -> IntArray:
        # Vectorised interning for array input: one dict lookup per distinct id, not per entry.
        unique, inverse = np.unique(keys, return_inverse=True)
        mapped = np.fromiter((self.named(_plain(k)) for k in unique), np.int64, len(unique))
        return mapped[inverse]

    def _ranks(self, labels: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray, IntArray]:
        """For an array of labels (kept while the interner lives): its distinct labels
        sorted, each position's rank among them and each rank's code (-1: none yet)."""
        found = self._universes.get(id(labels))
        if found is None or found[0] is not labels:
            unique, rank = np.unique(np.asarray(labels), return_inverse=True)
            found = (labels, unique, rank.reshape(-1), np.full(len(unique), -1, np.int64))
            self._universes[id(labels)] = found
        return found[1:]

    def _code_ranks(self, unique: npt.NDArray[Any], code: IntArray, ranks: IntArray) -> None:
        for r in ranks[code[ranks] < 0].tolist():
            code[r] = self.named(_plain(unique[r]))

    def positions(self, labels: npt.NDArray[Any], positions: npt.NDArray[Any]) -> IntArray:
        """Codes of ``labels[positions]``, as ``many`` gives them (new ids coded in sorted
        order) without comparing a string per contribution."""
        unique, rank, code = self._ranks(labels)
        ranks = rank[positions]
        self._code_ranks(unique, code, np.unique(ranks))
        return code[ranks]

    def in_order(self, labels: npt.NDArray[Any], positions: npt.NDArray[Any]) -> IntArray:
        """Codes of ``labels[positions]``, as ``named`` one by one gives them (new ids coded
        in the order they first appear)."""
        unique, rank, code = self._ranks(labels)
        ranks = rank[positions]
        distinct, first = np.unique(ranks, return_index=True)
        self._code_ranks(unique, code, distinct[np.argsort(first, kind="stable")])
        return code[ranks]

    def check_ids(self, cell_id: str, labels: npt.NDArray[Any]) -> None:
        """Councils' ids must be non-empty strings: each array of labels checked once."""
        if id(labels) in self._checked and self._checked[id(labels)] is labels:
            return
        for key in self._ranks(labels)[0]:
            _contributor_id(cell_id, key)
        self._checked[id(labels)] = labels

    def anonymous(self, cell_id: str, count: int) -> IntArray:
        start = len(self.labels)
        self.labels.extend(f"{cell_id}[{i}]" for i in range(count))
        return np.arange(start, start + count, dtype=np.int64)


def _plain(key: object) -> object:
    # numpy scalars become Python ones so that 5 from an array equals 5 from a list.
    return key.item() if isinstance(key, np.generic) else key


def _cell_contributions(
    cell: Cell, interner: _Interner, *, is_count: bool
) -> tuple[IntArray, FloatArray] | None:
    """Contributor codes and values of one input cell, validated (None if not given)."""
    given = cell.contributions
    if given is None:
        if is_count:
            return _frequency_contributions(cell, interner)
        return None
    if isinstance(given, Contributions):
        values = np.asarray(given.values, dtype=np.float64)
        keys = np.asarray(given.contributors)
        if values.ndim != 1 or keys.shape != values.shape:
            raise DisclosureInputError(f"cell {cell.id}: contributors and values differ in length")
        if not len(keys):
            codes = np.zeros(0, np.int64)
        elif given.labels is not None:
            codes = interner.positions(given.labels, _positions(cell.id, keys, given.labels))
        else:
            codes = interner.many(keys)
    elif isinstance(given, Mapping):
        codes = np.array([interner.named(k) for k in given], dtype=np.int64)
        values = np.array([_value(cell.id, v) for v in given.values()], dtype=np.float64)
    elif isinstance(given, Sequence) and not isinstance(given, str | bytes):
        return _sequence_contributions(cell, given, interner)
    else:
        raise DisclosureInputError(f"cell {cell.id}: contributions must be a list or mapping")
    _check_values(cell.id, values)
    return aggregate(codes, values)


def _sequence_contributions(
    cell: Cell, given: Sequence[Any], interner: _Interner
) -> tuple[IntArray, FloatArray]:
    if all(not isinstance(item, tuple | list) for item in given):
        values = np.array([_value(cell.id, v) for v in given], dtype=np.float64)
        codes = interner.anonymous(cell.id, len(values))
    else:
        pairs = []
        for item in given:
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise DisclosureInputError(
                    f"cell {cell.id}: mix of anonymous and named contributions"
                )
            pairs.append((interner.named(_contributor_id(cell.id, item[0])), item[1]))
        codes = np.array([c for c, _ in pairs], dtype=np.int64)
        values = np.array([_value(cell.id, v) for _, v in pairs], dtype=np.float64)
    _check_values(cell.id, values)
    return aggregate(codes, values)


def _frequency_contributions(cell: Cell, interner: _Interner) -> tuple[IntArray, FloatArray]:
    """A count of councils: each counted council contributes 1."""
    named = cell.contributors
    if isinstance(named, DeferredMembers):
        count, named = named.count, named.made()
        if len(named) != count:
            raise DisclosureInputError(
                f"cell {cell.id}: a count must equal its contributors ({count} said,"
                f" {len(named)} made)"
            )
    if isinstance(named, Members):
        where = _positions(cell.id, np.asarray(named.positions), named.labels)
        interner.check_ids(cell.id, named.labels)
        codes = interner.in_order(named.labels, where) if len(where) else np.zeros(0, np.int64)
        codes = np.sort(codes).astype(np.int32)
        if len(codes) > 1 and bool((codes[1:] == codes[:-1]).any()):
            raise DisclosureInputError(f"cell {cell.id}: a council is counted twice")
        # As ``aggregate`` of distinct codes and ones gives them, the ones without memory.
        return codes, _ones(len(codes))
    if isinstance(named, list | tuple):
        codes = np.array(
            [interner.named(_contributor_id(cell.id, k)) for k in named], dtype=np.int64
        )
        if len(set(codes.tolist())) != len(codes):
            raise DisclosureInputError(f"cell {cell.id}: a council is counted twice")
        return aggregate(codes, np.ones(len(codes)))
    count = cell.value if named is None else named
    if count is None:
        raise DisclosureInputError(f"cell {cell.id}: a frequency cell needs a value")
    number = _value(cell.id, count)
    if number != int(number):
        raise DisclosureInputError(f"cell {cell.id}: a count must be a whole number")
    return interner.anonymous(cell.id, int(number)), np.ones(int(number))


def _ones(count: int) -> FloatArray:
    """``count`` ones as a read-only view of one number: a frequency cell's contributions
    (8 bytes per council counted as a real array: 65 MB in a release of 35,000 councils)."""
    return np.broadcast_to(np.float64(1.0), (count,))


def _positions(cell_id: str, positions: npt.NDArray[Any], labels: npt.NDArray[Any]) -> IntArray:
    """Positions of compact contributions, checked to fall within their labels."""
    if positions.ndim != 1 or (len(positions) and positions.dtype.kind not in "iu"):
        raise DisclosureInputError(f"cell {cell_id}: positions must be a list of integers")
    if len(positions) and (positions.min() < 0 or positions.max() >= len(labels)):
        raise DisclosureInputError(f"cell {cell_id}: a position falls outside its labels")
    return positions.astype(np.int64)


def _contributor_id(cell_id: str, key: object) -> str:
    if not isinstance(key, str) or not key:
        raise DisclosureInputError(f"cell {cell_id}: contributor ids must be non-empty strings")
    return key


def _value(cell_id: str, value: object) -> float:
    number = _check_number(f"cell {cell_id} value", value)
    if number < 0:
        raise DisclosureInputError(f"cell {cell_id}: negative value {number}")
    return number


def _check_values(cell_id: str, values: FloatArray) -> None:
    if not np.all(np.isfinite(values)):
        raise DisclosureInputError(f"cell {cell_id}: contributions must be finite numbers")
    if np.any(values < 0):
        raise DisclosureInputError(f"cell {cell_id}: negative contribution")


def _cell_value(cell: Cell, found: tuple[IntArray, FloatArray] | None) -> float:
    """The cell's value, checked against its contributions and contributor count."""
    summed = float(found[1].sum()) if found is not None else None
    if cell.value is None:
        if summed is None:
            raise DisclosureInputError(f"cell {cell.id}: needs a value or contributions")
        return summed
    value = _value(cell.id, cell.value)
    if summed is not None and not _close(value, summed):
        raise DisclosureInputError(
            f"cell {cell.id}: value {value:g} disagrees with its contributions ({summed:g})"
        )
    return value


def build_system(
    cells: Iterable[Cell],
    relations: Iterable[Relation],
    costs: Mapping[str, float] | None = None,
) -> System:
    """Validate cells, relations and costs and compile them into one :class:`System`.

    The cells are read once, in order: given as an iterator that lets each go, a cell's own
    contributions are freed as soon as they are compiled (``reporting.tables.System.hand_over``).
    """
    interner = _Interner()
    index: dict[str, int] = {}
    ids: list[str] = []
    # Per cell: value, counts councils, forced primary, public, public upper bound, and whether
    # it names its contributors (``_derivations``).
    values, frequency, forced, public, upper, named = [], [], [], [], [], []
    count_only: dict[int, int] = {}
    leaf: dict[int, tuple[IntArray, FloatArray] | CountedBits] = {}
    for i, cell in enumerate(cells):
        if not isinstance(cell.id, str) or not cell.id:
            raise DisclosureInputError("every cell needs a non-empty string id")
        if cell.id in index:
            raise DisclosureInputError(f"duplicate cell id {cell.id}")
        index[cell.id] = i
        ids.append(cell.id)
        is_count, count = _cell_kind(cell)
        found = _cell_contributions(cell, interner, is_count=bool(is_count))
        value = _cell_value(cell, found)
        if cell.forced_primary and cell.public:
            raise DisclosureInputError(f"cell {cell.id}: a public cell cannot be primary")
        values.append(value)
        frequency.append(bool(is_count))
        forced.append(bool(cell.forced_primary))
        public.append(bool(cell.public))
        upper.append(_upper(cell, value))
        named.append(bool(cell.contributors))
        if found is not None:
            # A count's contributions are ones: its codes alone, as bits where smaller.
            ones = is_count and bool((found[1] == 1.0).all())
            leaf[i] = (CountedBits.of(found[0]) if ones else None) or found
        elif count is not None:
            if count == 0 and value > 0:
                raise DisclosureInputError(f"cell {cell.id}: positive value but no contributors")
            count_only[i] = count
        if is_count and found is not None and not _close(value, len(found[0])):
            raise DisclosureInputError(f"cell {cell.id}: a count must equal its contributors")
    size = len(ids)
    value_array = np.array(values, dtype=np.float64)
    counts = np.array(frequency, dtype=bool)
    relation_list = _compile_relations(relations, index, value_array)
    derive_from = _derivations(relation_list, leaf, counts, np.array(named, dtype=bool))
    return System(
        ids=ids,
        index=index,
        values=value_array,
        frequency=counts,
        forced=np.array(forced, dtype=bool),
        public=np.array(public, dtype=bool),
        count_only=count_only,
        relations=relation_list,
        matrix=_relation_matrix(relation_list, size),
        costs=_costs(costs, index, value_array),
        store=ContributionStore(leaf=leaf, derive_from=derive_from, labels=interner.labels),
        upper=np.array(upper, dtype=np.float64),
    )


def _upper(cell: Cell, value: float) -> float:
    """The cell's public upper bound (inf when none), checked against its value."""
    if cell.upper is None:
        return np.inf
    bound = _check_number(f"cell {cell.id} upper", cell.upper)
    if bound < 0:
        raise DisclosureInputError(f"cell {cell.id}: negative upper bound {bound:g}")
    if value > bound and not _close(value, bound):
        raise DisclosureInputError(
            f"cell {cell.id}: value {value:g} is above its upper bound {bound:g}"
        )
    return max(bound, value)


def _cell_kind(cell: Cell) -> tuple[bool, int | None]:
    """Whether the cell counts councils, and its contributor count when only that is given."""
    named = cell.contributors
    if named is None:
        return bool(cell.frequency), None
    if isinstance(named, list | tuple | Members | DeferredMembers):
        if cell.contributions is not None:
            raise DisclosureInputError(f"cell {cell.id}: give contributions or contributors")
        return True, None
    count = _check_int(f"cell {cell.id} contributors", named, minimum=0)
    if cell.contributions is not None:
        raise DisclosureInputError(f"cell {cell.id}: give contributions or contributors")
    # {"value": v, "contributors": v} is a count of councils; a different value is a magnitude
    # whose individual contributions are unknown (only the minimum-frequency rule applies).
    is_count = cell.frequency or (cell.value is not None and _close(float(cell.value), count))
    if cell.frequency and cell.value is not None and not _close(float(cell.value), count):
        raise DisclosureInputError(f"cell {cell.id}: a count must equal its contributors")
    return bool(is_count), count


def _compile_relations(
    relations: Iterable[Relation], index: Mapping[str, int], values: FloatArray
) -> list[tuple[int, tuple[int, ...], bool]]:
    compiled = []
    for relation in relations:
        if relation.total not in index:
            raise DisclosureInputError(f"relation refers to unknown cell {relation.total}")
        if isinstance(relation.parts, str) or len(relation.parts) == 0:
            raise DisclosureInputError(f"relation for {relation.total} needs a list of parts")
        for part in relation.parts:
            if part not in index:
                raise DisclosureInputError(f"relation refers to unknown cell {part}")
        if len(set(relation.parts)) != len(relation.parts) or relation.total in relation.parts:
            raise DisclosureInputError(f"relation for {relation.total} repeats a cell")
        total = index[relation.total]
        parts = tuple(index[p] for p in relation.parts)
        summed = float(values[list(parts)].sum())
        if not _close(values[total], summed):
            raise DisclosureInputError(
                f"relation for {relation.total} does not add up: "
                f"total {values[total]:g} != sum of parts {summed:g}"
            )
        compiled.append((total, parts, bool(relation.group_check)))
    return compiled


def _derivations(
    relations: list[tuple[int, tuple[int, ...], bool]],
    leaf: Mapping[int, object],
    frequency: BoolArray,
    named: BoolArray,
) -> dict[int, tuple[int, ...]]:
    """Which relation each total without its own contributions takes them from (fixpoint)."""
    derive_from: dict[int, tuple[int, ...]] = {}
    changed = True
    while changed:
        changed = False
        for total, parts, _ in relations:
            if total in leaf or total in derive_from:
                continue
            if all(p in leaf or p in derive_from for p in parts):
                derive_from[total] = parts
                # A total of council counts is itself a count.
                if all(frequency[p] for p in parts) and not named[total]:
                    frequency[total] = True
                changed = True
    return derive_from


def _relation_matrix(relations: list[tuple[int, tuple[int, ...], bool]], size: int) -> Any:
    """Sparse matrix with one row per relation: +1 for the total, -1 for each part."""
    rows: list[int] = []
    cols: list[int] = []
    data: list[float] = []
    for r, (total, parts, _) in enumerate(relations):
        rows.extend([r] * (len(parts) + 1))
        cols.append(total)
        cols.extend(parts)
        data.append(1.0)
        data.extend([-1.0] * len(parts))
    return sparse.csr_array((data, (rows, cols)), shape=(len(relations), size))


def _costs(costs: Mapping[str, float] | None, index: Mapping[str, int], values: FloatArray) -> Any:
    """Cost of hiding each cell: its value unless overridden."""
    result = values.copy()
    for key, cost in (costs or {}).items():
        if key not in index:
            raise DisclosureInputError(f"cost given for unknown cell {key}")
        number = _check_number(f"cost of {key}", cost)
        if number < 0:
            raise DisclosureInputError(f"cost of {key} must not be negative")
        result[index[key]] = number
    return result


def parse_document(data: object) -> tuple[list[Cell], list[Relation], Rules, dict[str, float]]:
    """Turn the JSON input document of the CLI into cells, relations, rules and costs."""
    if not isinstance(data, dict):
        raise DisclosureInputError("input must be a JSON object")
    unknown = set(data) - {"rules", "cells", "relations", "costs"}
    if unknown:
        raise DisclosureInputError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    rules = _parse_rules(data.get("rules") or {})
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list):
        raise DisclosureInputError("cells must be a list")
    cells = [_parse_cell(raw) for raw in raw_cells]
    raw_relations = data.get("relations") or []
    if not isinstance(raw_relations, list):
        raise DisclosureInputError("relations must be a list")
    relations = [_parse_relation(raw) for raw in raw_relations]
    costs = data.get("costs") or {}
    if not isinstance(costs, dict):
        raise DisclosureInputError("costs must be an object mapping cell ids to numbers")
    return cells, relations, rules, costs


def _parse_rules(raw: object) -> Rules:
    if not isinstance(raw, dict):
        raise DisclosureInputError("rules must be an object")
    unknown = set(raw) - {"min_contributors", "p", "nk", "group_min_size"}
    if unknown:
        raise DisclosureInputError(f"unknown rules: {', '.join(sorted(unknown))}")
    nk = raw.get("nk")
    if nk is not None and not isinstance(nk, list):
        raise DisclosureInputError("nk must be a pair [n, k] or null")
    return Rules(
        min_contributors=raw.get("min_contributors", 3),
        p=raw.get("p", 10.0),
        nk=tuple(nk) if nk is not None else None,  # type: ignore[arg-type]
        group_min_size=raw.get("group_min_size", 10),
    )


def _parse_cell(raw: object) -> Cell:
    if not isinstance(raw, dict):
        raise DisclosureInputError("each cell must be an object")
    unknown = set(raw) - {
        "id",
        "value",
        "contributions",
        "contributors",
        "frequency",
        "status",
        "upper",
        "public",
    }
    if unknown:
        raise DisclosureInputError(f"unknown cell keys: {', '.join(sorted(unknown))}")
    cell_id = raw.get("id")
    if not isinstance(cell_id, str) or not cell_id:
        raise DisclosureInputError("every cell needs a non-empty string id")
    status = raw.get("status")
    if status not in (None, "primary"):
        raise DisclosureInputError(f'cell {cell_id}: status may only be "primary"')
    contributions = raw.get("contributions")
    if contributions is not None:
        contributions = _parse_contributions(cell_id, contributions)
    frequency = raw.get("frequency", False)
    if not isinstance(frequency, bool):
        raise DisclosureInputError(f"cell {cell_id}: frequency must be true or false")
    public = raw.get("public", False)
    if not isinstance(public, bool):
        raise DisclosureInputError(f"cell {cell_id}: public must be true or false")
    return Cell(
        id=cell_id,
        value=raw.get("value"),
        contributions=contributions,
        contributors=raw.get("contributors"),
        frequency=frequency,
        forced_primary=status == "primary",
        upper=raw.get("upper"),
        public=public,
    )


def _parse_contributions(cell_id: str, raw: object) -> ContributionInput:
    if not isinstance(raw, list):
        raise DisclosureInputError(f"cell {cell_id}: contributions must be a list")
    if all(not isinstance(item, dict) for item in raw):
        return raw
    pairs = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"contributor", "value"}:
            raise DisclosureInputError(
                f"cell {cell_id}: named contributions need exactly contributor and value"
            )
        pairs.append((item["contributor"], item["value"]))
    return pairs


def _parse_relation(raw: object) -> Relation:
    if not isinstance(raw, dict) or not {"total", "parts"} <= set(raw):
        raise DisclosureInputError("each relation needs a total and parts")
    unknown = set(raw) - {"total", "parts", "group_check"}
    if unknown:
        raise DisclosureInputError(f"unknown relation keys: {', '.join(sorted(unknown))}")
    total, parts = raw["total"], raw["parts"]
    if not isinstance(total, str) or not isinstance(parts, list):
        raise DisclosureInputError("a relation's total is an id and its parts a list of ids")
    if not all(isinstance(p, str) for p in parts):
        raise DisclosureInputError(f"relation for {total}: parts must be cell ids")
    group_check = raw.get("group_check", True)
    if not isinstance(group_check, bool):
        raise DisclosureInputError(f"relation for {total}: group_check must be true or false")
    return Relation(total=total, parts=tuple(parts), group_check=group_check)
