"""Aggregation: from submitted answers (pandas frames) to the cells and relations of a release.

Pure Python (pandas and numpy, no Django), so the benchmark can feed it synthetic frames.
Every table of a release is one part of a single linked system handed to
``reporting.disclosure.protect``: margins are relations, and tables share cells (the number of
responding councils of a type is the total of every answer table of that type; councils
providing a transaction are the total of its end-to-end answers). Contributors are council GSS
codes, so the audit can play each council as an insider.

Cell ids read ``table|key|key|...``; ``keys`` name the dimensions (``TOTAL`` for a margin).
"""

from __future__ import annotations

import functools
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from reporting.disclosure import Cell, Contributions, DeferredMembers, Members, Relation

TOTAL = "total"
NOT_ANSWERED = "not_answered"
PROVISION_ANSWERS = ("yes", "not_responsible", "other_organisation", NOT_ANSWERED)
END_TO_END_ANSWERS = ("yes", "partly", "no", NOT_ANSWERED)

# Tables in the protected system.
RESPONDED = "responded"
VOLUME = "volume"
OFFERED = "offered"
# Providers of a transaction that do not offer a channel (the complement of OFFERED).
NOT_OFFERED = "not_offered"
PROVISION = "provision"
END_TO_END = "end_to_end"
ANSWERS = "answers"
COST_OWN = "cost_own"
PROTECTED_TABLES = (
    RESPONDED,
    VOLUME,
    OFFERED,
    NOT_OFFERED,
    PROVISION,
    END_TO_END,
    ANSWERS,
    COST_OWN,
)


@dataclass(frozen=True)
class ChannelInfo:
    code: str
    name: str
    is_digital: bool
    default_cost: float | None


@dataclass(frozen=True)
class QuestionInfo:
    """A closed question whose answers are published as a frequency table."""

    slug: str
    section: str
    text: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """What a round asks and who it invites: all public, structural knowledge."""

    transactions: tuple[tuple[str, str], ...]  # (slug, name)
    channels: tuple[ChannelInfo, ...]
    kinds: tuple[str, ...]
    regions: tuple[str, ...]
    # (council type, region) groups that exist in the population, and how many were invited.
    invited: dict[tuple[str, str], int]
    questions: tuple[QuestionInfo, ...] = ()

    @property
    def groups(self) -> list[tuple[str, str]]:
        return [(k, r) for k in self.kinds for r in self.regions if (k, r) in self.invited]

    def regions_of(self, kind: str) -> list[str]:
        return [r for r in self.regions if (kind, r) in self.invited]

    def kinds_in(self, region: str) -> list[str]:
        return [k for k in self.kinds if (k, region) in self.invited]


@dataclass
class Inputs:
    """Submitted answers as frames.

    councils: gss, kind, region (one row per submitted response, index = response id).
    transactions: response, transaction, provision, offered (list), end_to_end.
    figures: response, transaction, channel, value (not-recorded figures left out).
    answers: response, question, value (closed questions and unit costs only).
    """

    councils: pd.DataFrame
    transactions: pd.DataFrame
    figures: pd.DataFrame
    answers: pd.DataFrame
    # Figures and offered channels already grouped into cells (by the database, see
    # reporting.grouping); None: grouped here from ``figures`` and ``transactions``.
    grouped: Grouped | None = None


Split = dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]]


@dataclass
class Grouped:
    """What the big tables need, grouped into cells: the same as grouping the frames here.

    volumes: (transaction, channel, kind, region) -> (gss, values) of counted figures, each
    cell's rows in response order (values: int32 whole numbers, as the database holds
    them). offered: (transaction, channel, kind) -> gss of providers offering the channel;
    providers: (transaction, kind) -> gss of providers, both in response order. Each "gss"
    is an int32 array of positions into ``labels`` when given. costs and at_default: as
    ``own_cost_cells`` returns them. Kinds are reporting kinds (``REPORTING_KIND``).
    """

    volumes: Split
    offered: dict[tuple[str, str, str], list[str]]
    providers: dict[tuple[str, str], list[str]]
    costs: Split
    at_default: dict[tuple[str, str], bool]
    # When given, councils are positions (int32 arrays) into these GSS codes, not the codes
    # themselves: the disclosure engine's compact form (``Contributions.labels``, ``Members``).
    labels: np.ndarray | None = None


@dataclass
class CellMeta:
    table: str
    keys: dict[str, str]
    order: int


Term = tuple[str, float]


@dataclass(frozen=True)
class LinearCell:
    """A published figure computed from protected cells, not protected itself.

    ``ways``: alternative sums ``sum(factor * cell)`` with the same value; the first whose cells
    are all published gives the figure, else it is withheld (``reporting.derived``).
    """

    table: str
    keys: dict[str, str]
    ways: tuple[tuple[Term, ...], ...]
    value: float


@dataclass
class System:
    """The cells and relations handed to ``protect``, with each cell's table and keys."""

    cells: list[Cell] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, CellMeta] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    # Figures of protected tables derived from protected cells (see _own_costs).
    linear: list[LinearCell] = field(default_factory=list)

    def hand_over(self) -> Iterator[Cell]:
        """The cells for ``protect``, given one at a time and let go of: ``protect`` compiles
        their contributions into its own compact store, and once it has, nothing holds the
        given ones. The system keeps each cell without them: its id, value, public upper
        bound and whether it is public are all that is read afterwards (the kept cells cannot
        be protected again). Both copies at once were a big release's peak while protecting.
        A list would not do: the caller's call holds its arguments until the call returns."""
        given = deque(self.cells)
        self.cells = [
            replace(cell, value=self.values[cell.id], contributions=None, contributors=None)
            for cell in given
        ]

        def one_at_a_time() -> Iterator[Cell]:
            while given:
                yield given.popleft()

        return one_at_a_time()

    def _add(self, cell: Cell, table: str, keys: dict[str, str], value: float) -> str:
        self.cells.append(cell)
        self.meta[cell.id] = CellMeta(table, keys, len(self.meta))
        self.values[cell.id] = value
        return cell.id

    def magnitude(
        self,
        table: str,
        keys: dict[str, str],
        gss: np.ndarray,
        values: np.ndarray,
        labels: np.ndarray | None = None,
    ) -> str:
        """``labels``: when given, ``gss`` are positions into it (``Grouped.labels``)."""
        cell_id = cell_key(table, keys)
        if labels is not None:
            gss = np.asarray(gss, dtype=np.int32)
        # The grouped values as they are (no copy: 21 MB of volumes at 35,000 councils);
        # whole numbers stay integers (summed exactly), made float64 by the engine.
        values = np.asarray(values)
        if values.dtype.kind not in "iu":
            values = values.astype(np.float64, copy=False)
        cell = Cell(cell_id, contributions=Contributions(gss, values, labels))
        return self._add(cell, table, keys, float(values.sum()))

    def frequency(
        self,
        table: str,
        keys: dict[str, str],
        gss: Sequence[str] | DeferredMembers,
        *,
        upper: float | None = None,
        labels: np.ndarray | None = None,
    ) -> str:
        """A count of councils; ``upper``: a public bound on it (e.g. the councils invited);
        ``labels``: when given, ``gss`` are positions into it (``Grouped.labels``); or the
        councils as ``DeferredMembers``, made when the engine compiles the cell."""
        cell_id = cell_key(table, keys)
        if isinstance(gss, DeferredMembers):
            counted = gss
        elif labels is None:
            counted = list(gss)
        else:
            counted = Members(np.asarray(gss, np.int32), labels)
        cell = Cell(cell_id, contributors=counted, upper=upper)
        return self._add(cell, table, keys, float(len(gss)))

    def total(
        self,
        table: str,
        keys: dict[str, str],
        parts: Sequence[str],
        *,
        group_check: bool = False,
        upper: float | None = None,
    ) -> str:
        """A margin: its value is the sum of its parts, and the relation says so."""
        cell_id = cell_key(table, keys)
        value = float(sum(self.values[p] for p in parts))
        self._add(Cell(cell_id, value=value, upper=upper), table, keys, value)
        self.relations.append(Relation(cell_id, tuple(parts), group_check=group_check))
        return cell_id

    def relate(self, total: str, parts: Sequence[str], *, group_check: bool = False) -> None:
        """A relation between cells that exist already."""
        self.relations.append(Relation(total, tuple(parts), group_check=group_check))


def cell_key(table: str, keys: dict[str, str]) -> str:
    return "|".join((table, *keys.values()))


def parse_pounds(value: object) -> float | None:
    """A money answer ("2.50", "£2.50") as pounds, or None when it is not a usable amount."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lstrip("£").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return float(amount)


def _split(keys: pd.DataFrame, gss: np.ndarray, values: np.ndarray):
    """Group rows by key tuple: {key tuple: (gss array, value array)} in one sort."""
    if keys.empty:
        return {}
    frame = keys.copy()
    frame["_gss"] = gss
    frame["_value"] = values
    result = {}
    for key, group in frame.groupby(list(keys.columns), sort=False, observed=True):
        result[key if isinstance(key, tuple) else (key,)] = (
            group["_gss"].to_numpy(),
            group["_value"].to_numpy(dtype=np.float64),
        )
    return result


# Council types of a single council are reported with their nearest peers, as official
# statistics do: a breakdown by type would otherwise show that one council's answers
# (every council of the group in one category: group disclosure).
REPORTING_KIND = {"city_of_london": "london_borough", "isles_of_scilly": "unitary"}


def merge_small_kinds(catalogue: Catalogue) -> Catalogue:
    """The catalogue with single-council types merged into their peers (idempotent)."""
    kinds = tuple(dict.fromkeys(REPORTING_KIND.get(k, k) for k in catalogue.kinds))
    invited: Counter[tuple[str, str]] = Counter()
    for (kind, region), count in catalogue.invited.items():
        invited[REPORTING_KIND.get(kind, kind), region] += count
    return replace(catalogue, kinds=kinds, invited=dict(invited))


def build_system(catalogue: Catalogue, inputs: Inputs, *, spend: bool = False) -> System:
    """All protected tables of a release as one linked system.

    ``spend``: the caller is done with ``inputs`` (a release build): each frame is dropped
    from them once its tables are built, so that it is not held while the rest are.
    """
    given = inputs
    catalogue = merge_small_kinds(catalogue)
    councils = inputs.councils.assign(kind=inputs.councils["kind"].replace(REPORTING_KIND))
    inputs = replace(inputs, councils=councils)
    system = System()
    councils = inputs.councils
    # The counts of councils name them as positions into one array of GSS codes (the
    # disclosure engine's compact form, ``Members``): as lists of codes they held a pointer
    # per council and cell, and the engine looked each code up one by one.
    labels = councils["gss"].to_numpy(dtype=object)
    responded = _responded(system, catalogue, councils, labels)
    provided = _provision(system, catalogue, inputs, responded, labels)
    _end_to_end(system, catalogue, inputs, provided, labels)
    _offered(system, catalogue, inputs, provided)
    _volumes(system, catalogue, inputs)
    if spend and inputs.grouped is not None:
        # The transaction answers are read (the own costs come grouped): not held while the
        # closed answers' tables are built, a big build's peak.
        given.transactions = inputs.transactions = None
    _answers(system, catalogue, inputs, responded, labels)
    _own_costs(system, catalogue, inputs)
    return system


def _responded(
    system: System, cat: Catalogue, councils: pd.DataFrame, labels: np.ndarray
) -> dict[str, str]:
    """Responding councils by type x region with margins; returns the type totals' ids.

    The councils invited to each group are public (the "invited" table), and no more of them
    can respond: every cell and margin carries that number as its upper bound, so that the
    audit sees, e.g., that a hidden "2 responded of 2 invited" can only fall.
    """
    # Each group's councils as positions into ``labels`` (the rows of ``councils``), in order.
    by_group = councils.groupby(["kind", "region"]).indices
    invited = cat.invited
    inner = {}
    for kind, region in cat.groups:
        keys = {"council_type": kind, "region": region}
        at = by_group.get((kind, region), [])
        inner[kind, region] = system.frequency(
            RESPONDED, keys, at, upper=float(invited[kind, region]), labels=labels
        )
    by_kind = {}
    for kind in cat.kinds:
        regions = cat.regions_of(kind)
        by_kind[kind] = system.total(
            RESPONDED,
            {"council_type": kind, "region": TOTAL},
            [inner[kind, r] for r in regions],
            upper=float(sum(invited[kind, r] for r in regions)),
        )
    for region in cat.regions:
        kinds = cat.kinds_in(region)
        system.total(
            RESPONDED,
            {"council_type": TOTAL, "region": region},
            [inner[k, region] for k in kinds],
            upper=float(sum(invited[k, region] for k in kinds)),
        )
    by_kind[TOTAL] = system.total(
        RESPONDED,
        {"council_type": TOTAL, "region": TOTAL},
        [by_kind[k] for k in cat.kinds],
        upper=float(sum(invited[g] for g in cat.groups)),
    )
    return by_kind


def _categorical(
    system: System,
    cat: Catalogue,
    table: str,
    base: dict[str, str],
    answers: pd.DataFrame,
    categories: Iterable[str],
    totals: dict[str, str],
    labels: np.ndarray,
) -> dict[str, str]:
    """Councils by answer category and type; each type's categories add up to ``totals``.

    ``answers`` has columns at (the council's position in ``labels``), kind, answer (one
    row per council in the group's total). Returns the ids of the type cells of the first
    category (used for linked tables).
    """
    categories = list(categories)
    at = answers["at"].to_numpy()
    grouped = {key: at[rows] for key, rows in answers.groupby(["answer", "kind"]).indices.items()}
    first = {}
    by_category: dict[str, list[str]] = {c: [] for c in categories}
    for kind in cat.kinds:
        parts = []
        for category in categories:
            keys = {**base, "answer": category, "council_type": kind}
            cell = system.frequency(table, keys, grouped.get((category, kind), []), labels=labels)
            parts.append(cell)
            by_category[category].append(cell)
        # Everyone of this type in one answer category would disclose each council's answer.
        system.relate(totals[kind], parts, group_check=True)
        first[kind] = parts[0]
    england = []
    for category in categories:
        keys = {**base, "answer": category, "council_type": TOTAL}
        england.append(system.total(table, keys, by_category[category]))
    system.relate(totals[TOTAL], england, group_check=True)
    first[TOTAL] = england[0]
    return first


def _provision(
    system: System, cat: Catalogue, inputs: Inputs, responded: dict[str, str], labels: np.ndarray
) -> dict[str, dict[str, str]]:
    """Provision answers per transaction; returns the "yes" cells by transaction and type."""
    councils = inputs.councils
    # One column per transaction, one row per responding council (vectorised: a lookup
    # per council and transaction took most of the time at 35,000 councils).
    answered = _Columns(inputs.transactions, councils, "transaction", "provision")
    at = np.arange(len(councils))
    provided = {}
    for slug, _name in cat.transactions:
        answer = answered[slug].fillna("").replace("", NOT_ANSWERED)
        frame = pd.DataFrame({"at": at, "kind": councils["kind"], "answer": answer})
        provided[slug] = _categorical(
            system,
            cat,
            PROVISION,
            {"transaction": slug},
            frame,
            PROVISION_ANSWERS,
            responded,
            labels,
        )
    return provided


class _Columns:
    """``rows.pivot(index="response", columns=column, values=value).reindex(councils.index)``
    read one column at a time (``columns[key]``; NaN where a council has no row, as in the
    pivot; all NaN for a key no row has): the pivot of every transaction answer or answer
    held copies of all the rows at once (at 35,000 councils, +60 MB each)."""

    def __init__(self, rows: pd.DataFrame, councils: pd.DataFrame, column: str, value: str):
        where = _positions(councils.index, rows["response"])
        kept = where >= 0
        if kept.all():
            # Every row is a council's (as loaded): views, not copies of every row's columns.
            kept = slice(None)
        self.numbers, keys = _factorize(rows[column].array[kept])
        self.number = {key: number for number, key in enumerate(keys)}
        # The rows' own arrays (a category stays a byte per row): objects only when read.
        self.where, self.values = where[kept], rows[value].array[kept]
        self.index = councils.index

    def __contains__(self, key: str) -> bool:
        return key in self.number

    def __getitem__(self, key: str) -> pd.Series:
        chosen = np.flatnonzero(self.numbers == self.number.get(key, -2))
        at = self.where[chosen]
        if len(np.unique(at)) != len(at):
            raise ValueError(f"{key}: a council has two rows (the pivot refuses them too)")
        column = np.full(len(self.index), np.nan, dtype=object)
        column[at] = np.asarray(self.values[chosen], dtype=object)
        return pd.Series(column, index=self.index)


def _positions(index: pd.Index, ids: pd.Series) -> np.ndarray:
    """``index.get_indexer(ids)`` as int32 (positions of at most a few hundred thousand
    councils), a slice at a time: in one go, the int64 copy of the ids and the positions
    were the peak of a big build (13 MB at 35,300 councils)."""
    values = ids.to_numpy()
    where = np.empty(len(values), dtype=np.int32)
    for start in range(0, len(values), POSITION_SLICE):
        stop = start + POSITION_SLICE
        where[start:stop] = index.get_indexer(values[start:stop])
    return where


# Rows looked up at a time by ``_positions``.
POSITION_SLICE = 65536


def _factorize(values: pd.api.extensions.ExtensionArray) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize`` of a column's values; a category's own codes (no objects made)."""
    if isinstance(values, pd.Categorical):
        return values.codes, values.categories
    return pd.factorize(np.asarray(values, dtype=object))


def _providers(inputs: Inputs) -> pd.DataFrame:
    """Transaction answers of councils that provide the transaction, with type and region."""
    rows = inputs.transactions[inputs.transactions["provision"] == "yes"]
    # Joined on an empty frame, pandas names the index "response" too, which makes the
    # later merges on the "response" column ambiguous: keep the index unnamed.
    return rows.join(inputs.councils, on="response", how="inner").rename_axis(index=None)


def _end_to_end(
    system: System,
    cat: Catalogue,
    inputs: Inputs,
    provided: dict[str, dict[str, str]],
    labels: np.ndarray,
) -> None:
    """End-to-end answers of each transaction's providers (``_providers``, in their order),
    read by positions: joining the councils onto every provider's row held one more copy of
    the transaction answers with the councils' columns (at 35,000 councils, +120 MB)."""
    transactions, councils = inputs.transactions, inputs.councils
    where = _positions(councils.index, transactions["response"])
    rows = np.flatnonzero((transactions["provision"] == "yes").to_numpy() & (where >= 0))
    numbers, slugs = _factorize(transactions["transaction"].array[rows])
    number = {slug: n for n, slug in enumerate(slugs)}
    kinds = councils["kind"].to_numpy()
    answers = transactions["end_to_end"].array[rows]
    for slug, _name in cat.transactions:
        chosen = np.flatnonzero(numbers == number.get(slug, -2))
        at = where[rows[chosen]]
        frame = pd.DataFrame(
            {
                "at": at,
                "kind": kinds[at],
                "answer": pd.Series(np.asarray(answers[chosen], dtype=object), dtype=object)
                .replace("", NOT_ANSWERED)
                .fillna(NOT_ANSWERED),
            }
        )
        _categorical(
            system,
            cat,
            END_TO_END,
            {"transaction": slug},
            frame,
            END_TO_END_ANSWERS,
            provided[slug],
            labels,
        )


def _offered(
    system: System, cat: Catalogue, inputs: Inputs, provided: dict[str, dict[str, str]]
) -> None:
    """Councils offering each channel, per transaction and type (several channels each).

    A council answers "offered" or not for every channel of a transaction it provides, and the
    providers of each type are published (provision "yes"). So each channel splits the
    providers in two: those offering it and those not (``NOT_OFFERED``), and the relation
    ``providers = offered + not offered`` is group-checked like every categorical table: when
    all providers of a type offer a channel, or none does, each one's answer is known, and the
    engine hides cells until a "not offered" (or an "offered") council could exist. The
    complement is a real figure (providers minus offered), so publishing it shows nothing new.
    """
    labels = None if inputs.grouped is None else inputs.grouped.labels
    if inputs.grouped is not None:
        grouped, by_provider = inputs.grouped.offered, inputs.grouped.providers
    else:
        grouped, by_provider = offered_groups(inputs)
    for slug, _name in cat.transactions:
        for channel in cat.channels:
            base = {"transaction": slug, "channel": channel.code}
            parts, others = [], []
            for kind in cat.kinds:
                keys = {**base, "council_type": kind}
                offering = grouped.get((slug, channel.code, kind), [])
                providing = by_provider.get((slug, kind), [])
                if labels is not None:
                    # Made when the engine compiles the cell, not held until then (135 MB at
                    # 353,000 councils): those offering it are among the providers.
                    rest = DeferredMembers(
                        functools.partial(_not_in, providing, offering),
                        len(providing) - len(offering),
                        labels,
                    )
                else:
                    chosen = set(offering)
                    rest = [g for g in providing if g not in chosen]
                parts.append(system.frequency(OFFERED, keys, offering, labels=labels))
                others.append(system.frequency(NOT_OFFERED, keys, rest, labels=labels))
                system.relate(provided[slug][kind], [parts[-1], others[-1]], group_check=True)
            england = {**base, "council_type": TOTAL}
            offered = system.total(OFFERED, england, parts)
            not_offered = system.total(NOT_OFFERED, england, others)
            system.relate(provided[slug][TOTAL], [offered, not_offered], group_check=True)


def _not_in(every: np.ndarray, some: np.ndarray) -> np.ndarray:
    """The positions of ``every`` not in ``some``, in order."""
    every = np.asarray(every, dtype=np.int32)
    return every[~np.isin(every, some)]


def offered_groups(inputs: Inputs) -> tuple[dict, dict]:
    """Providers offering each channel, by (transaction, channel, kind), and all providers,
    by (transaction, kind): GSS codes in the order of the transaction answers."""
    providers = _providers(inputs)[["transaction", "offered", "gss", "kind"]]
    exploded = providers.explode("offered")
    grouped = {
        key: list(g["gss"]) for key, g in exploded.groupby(["transaction", "offered", "kind"])
    }
    by_provider = {key: list(g["gss"]) for key, g in providers.groupby(["transaction", "kind"])}
    return grouped, by_provider


def standing_channels(transactions: pd.DataFrame) -> pd.DataFrame:
    """The figures a council's answer stands behind now: each channel it offers for a
    transaction it provides. A figure saved before the council said it does not provide the
    transaction, or took the channel off, is kept (answering "yes" again restores it) but
    does not stand: releases do not count it and raw exports leave it out.

    ``transactions``: response, transaction, provision, offered (list), as in ``Inputs``.
    Columns: response, transaction, channel.
    """
    providers = transactions[transactions["provision"] == "yes"]
    offered = providers[["response", "transaction", "offered"]].explode("offered")
    return offered.rename(columns={"offered": "channel"}).dropna()


def counted_figures(inputs: Inputs) -> pd.DataFrame:
    """Figures that count: the council provides the transaction, offers the channel, gave a
    number. Columns: response, transaction, channel, value, gss, kind, region."""
    figures = inputs.figures[inputs.figures["value"].notna()]
    standing = standing_channels(inputs.transactions)
    counted = figures.merge(standing, on=["response", "transaction", "channel"], how="inner")
    return counted.join(inputs.councils, on="response", how="inner").rename_axis(index=None)


def _volumes(system: System, cat: Catalogue, inputs: Inputs) -> None:
    """Transactions by transaction x channel x type x region, with every margin, and the
    all-channels total of each (the denominator of shares and take-up)."""
    labels = None if inputs.grouped is None else inputs.grouped.labels
    if inputs.grouped is not None:
        split = inputs.grouped.volumes
    else:
        counted = counted_figures(inputs)
        split = _split(
            counted[["transaction", "channel", "kind", "region"]],
            counted["gss"].to_numpy(),
            counted["value"].to_numpy(dtype=np.float64),
        )
    empty = (np.array([], dtype=object), np.array([], dtype=np.float64))
    channels = [c.code for c in cat.channels]
    for slug, _name in cat.transactions:
        layers: dict[str, dict[tuple[str, str], str]] = {}
        for code in channels:
            inner = {}
            for kind, region in cat.groups:
                gss, values = split.get((slug, code, kind, region), empty)
                keys = _vkeys(slug, code, kind, region)
                inner[kind, region] = system.magnitude(VOLUME, keys, gss, values, labels)
            layers[code] = _margins(system, cat, VOLUME, slug, code, inner)
        # All channels: one cell per (type, region) including the margins.
        inner_all = {}
        for (kind, region), _ in layers[channels[0]].items():
            parts = [layers[code][kind, region] for code in channels]
            keys = _vkeys(slug, TOTAL, kind, region)
            inner_all[kind, region] = system.total(VOLUME, keys, parts)
        _margin_relations(system, cat, inner_all)


def _vkeys(slug: str, channel: str, kind: str, region: str) -> dict[str, str]:
    return {"transaction": slug, "channel": channel, "council_type": kind, "region": region}


def _margins(
    system: System,
    cat: Catalogue,
    table: str,
    slug: str,
    code: str,
    inner: dict[tuple[str, str], str],
) -> dict[tuple[str, str], str]:
    """Type, region and England margins of one type x region table."""
    cells = dict(inner)
    for kind in cat.kinds:
        parts = [inner[kind, r] for r in cat.regions_of(kind)]
        cells[kind, TOTAL] = system.total(table, _vkeys(slug, code, kind, TOTAL), parts)
    for region in cat.regions:
        parts = [inner[k, region] for k in cat.kinds_in(region)]
        cells[TOTAL, region] = system.total(table, _vkeys(slug, code, TOTAL, region), parts)
    parts = [cells[k, TOTAL] for k in cat.kinds]
    cells[TOTAL, TOTAL] = system.total(table, _vkeys(slug, code, TOTAL, TOTAL), parts)
    return cells


def _margin_relations(system: System, cat: Catalogue, cells: dict[tuple[str, str], str]) -> None:
    """The margins of a table whose cells were all created as totals of another dimension."""
    for kind in cat.kinds:
        system.relate(cells[kind, TOTAL], [cells[kind, r] for r in cat.regions_of(kind)])
    for region in cat.regions:
        system.relate(cells[TOTAL, region], [cells[k, region] for k in cat.kinds_in(region)])
    system.relate(cells[TOTAL, TOTAL], [cells[k, TOTAL] for k in cat.kinds])


def _answers(
    system: System, cat: Catalogue, inputs: Inputs, responded: dict[str, str], labels: np.ndarray
) -> None:
    """Closed questions (platforms, capability, complex services) by answer and type."""
    councils = inputs.councils
    at = np.arange(len(councils))
    given = _Columns(inputs.answers, councils, "question", "value")
    for question in cat.questions:
        column = (
            given[question.slug]
            if question.slug in given
            else pd.Series(None, index=councils.index, dtype=object)
        )
        answer = column.map(lambda value, q=question: _category(value, q))
        frame = pd.DataFrame({"at": at, "kind": councils["kind"], "answer": answer})
        base = {"section": question.section, "question": question.slug}
        categories = (*question.categories, NOT_ANSWERED)
        _categorical(system, cat, ANSWERS, base, frame, categories, responded, labels)


def _category(value: object, question: QuestionInfo) -> str:
    text = "" if value is None else str(value)
    return text if text in question.categories else NOT_ANSWERED


UNIT_COST = "unit-cost-"


def own_unit_costs(cat: Catalogue, answers: pd.DataFrame) -> pd.DataFrame:
    """Councils' own unit costs that are usable amounts (``parse_pounds``), for the channels
    of the catalogue. Columns: response, channel, cost. Each distinct answer is parsed once.
    """
    rows = answers[answers["question"].str.startswith(UNIT_COST)]
    parsed: dict[tuple[type, object], float | None] = {}
    costs = []
    for value in rows["value"]:
        if isinstance(value, str | int | float):
            key = (type(value), value)
            if key not in parsed:
                parsed[key] = parse_pounds(value)
            costs.append(parsed[key])
        else:
            costs.append(parse_pounds(value))
    frame = pd.DataFrame(
        {
            "response": rows["response"].to_numpy(dtype=np.int64),
            "channel": rows["question"].str[len(UNIT_COST) :].str.upper().to_numpy(dtype=object),
            "cost": np.array([np.nan if c is None else c for c in costs], dtype=np.float64),
        }
    )
    codes = [c.code for c in cat.channels]
    frame = frame[frame["channel"].isin(codes) & frame["cost"].notna()]
    # One answer per council and question; were there two, the last would be the one read.
    return frame.drop_duplicates(["response", "channel"], keep="last").reset_index(drop=True)


def unit_costs(cat: Catalogue, inputs: Inputs) -> pd.DataFrame:
    """Each council's unit cost per channel: its own answer, else the published default.

    Columns: response, channel, cost, own (bool), by council then channel (catalogue order).
    Channels with neither are left out.
    """
    codes = [c.code for c in cat.channels]
    responses = inputs.councils.index.to_numpy()
    frame = pd.DataFrame(
        {
            "response": np.repeat(responses, len(codes)),
            "channel": np.tile(np.array(codes, dtype=object), len(responses)),
        }
    )
    own = own_unit_costs(cat, inputs.answers)
    frame = frame.merge(own, on=["response", "channel"], how="left")
    frame["own"] = frame["cost"].notna()
    defaults = {c.code: c.default_cost for c in cat.channels}
    frame["cost"] = frame["cost"].fillna(frame["channel"].map(defaults).astype("float64"))
    frame = frame[frame["cost"].notna()].reset_index(drop=True)
    return frame.astype({"response": "int64", "cost": "float64", "own": "bool"})


def own_cost_cells(cat: Catalogue, inputs: Inputs) -> tuple[Split, dict[tuple[str, str], bool]]:
    """Each (channel, type) cost cell's councils (GSS order) and their cost in pounds, and
    whether every moving figure of the cell (value > 0) was priced at the default.

    Each counted figure costs its value times the council's unit cost, rounded to whole
    pence; a council's cost is its pence summed exactly, then in pounds.
    """
    counted = counted_figures(inputs)[["response", "channel", "value", "gss", "kind"]]
    costs = unit_costs(cat, inputs)
    priced = counted.merge(costs, on=["response", "channel"], how="inner")
    priced["pence"] = np.rint(priced["value"] * priced["cost"] * 100).astype(np.int64)
    defaults = {c.code: c.default_cost for c in cat.channels}
    priced["default"] = priced["channel"].map(defaults)
    moving = priced[priced["value"] > 0]
    at_default = moving["cost"] == moving["default"]
    by_cell = at_default.groupby([moving["channel"], moving["kind"]]).all().to_dict()
    per_council = priced.groupby(["channel", "kind", "gss"], as_index=False)["pence"].sum()
    split = _split(
        per_council[["channel", "kind"]],
        per_council["gss"].to_numpy(),
        per_council["pence"].to_numpy(dtype=np.int64) / 100,
    )
    return split, by_cell


def _own_costs(system: System, cat: Catalogue, inputs: Inputs) -> None:
    """Estimated cost (pounds) at councils' own unit costs, by channel and type.

    The default unit costs are public. Where every council counted in a (channel, type) cell
    priced that channel at the default, the cell is ``default x`` the sum over transactions
    of the volume cells (transaction, channel, type, all regions): published as a protected
    cell of its own, it would give anyone who guesses as much a relation the audit never
    saw, and so could reveal a hidden volume cell. Such a cell is therefore no protected
    cell: it is derived from those volume cells (``LinearCell``, see ``reporting.derived``),
    published only when every one of them is, exactly as the cost at default unit costs is.
    A margin holding such a cell is derived from its parts in the same way; every other
    cell and margin stays protected as before.

    Why not a protected "all transactions" volume cell with a relation to the volume margins
    (so that the cost could be published while a transaction's cell is hidden)? Equally
    sound, but that relation joins the volume tables of all transactions into one block of
    the suppression problem: on the 353-council benchmark, protection took four times as
    long for two such cells. Derivation from published cells adds nothing to protect.

    A cell where some council priced at its own cost has no such relation: own costs are
    confidential and unbounded, so for any volumes some own costs give the published
    figure. (A council whose own cost equals the default counts as default-priced: the
    figure is the same.) Derived and protected cells look alike on every output.
    """
    labels = None if inputs.grouped is None else inputs.grouped.labels
    if inputs.grouped is not None:
        split, by_cell = inputs.grouped.costs, inputs.grouped.at_default
    else:
        split, by_cell = own_cost_cells(cat, inputs)
    empty = (np.array([], dtype=object), np.array([], dtype=np.float64))
    # Each inner cell as terms over protected cells: itself, or default x its volumes.
    terms: dict[tuple[str, str], tuple[Term, ...]] = {}
    values: dict[tuple[str, str], float] = {}
    for channel in cat.channels:
        for kind in cat.kinds:
            keys = {"channel": channel.code, "council_type": kind}
            gss, pounds = split.get((channel.code, kind), empty)
            values[channel.code, kind] = float(pounds.sum())
            default = channel.default_cost
            if default is not None and by_cell.get((channel.code, kind), False):
                terms[channel.code, kind] = tuple(
                    (cell_key(VOLUME, _vkeys(slug, channel.code, kind, TOTAL)), default)
                    for slug, _name in cat.transactions
                )
                value = round(values[channel.code, kind], 2)
                system.linear.append(
                    LinearCell(COST_OWN, keys, (terms[channel.code, kind],), value)
                )
            else:
                cell = system.magnitude(COST_OWN, keys, gss, pounds, labels)
                terms[channel.code, kind] = ((cell, 1.0),)
    codes = [c.code for c in cat.channels]
    by_channel = {
        code: _cost_margin(system, terms, values, [(code, k) for k in cat.kinds], code, TOTAL)
        for code in codes
    }
    by_kind = {
        kind: _cost_margin(system, terms, values, [(c, kind) for c in codes], TOTAL, kind)
        for kind in cat.kinds
    }
    inner = [(c, k) for c in codes for k in cat.kinds]
    keys = {"channel": TOTAL, "council_type": TOTAL}
    if all(_is_cost(terms[g][0][0]) for g in inner):
        england = system.total(COST_OWN, keys, [by_kind[k][0][0] for k in cat.kinds])
        system.relate(england, [by_channel[c][0][0] for c in codes])
        return
    value = sum(values[g] for g in inner)
    ways = (
        tuple(t for c in codes for t in by_channel[c]),
        tuple(t for k in cat.kinds for t in by_kind[k]),
        tuple(t for g in inner for t in terms[g]),
    )
    system.linear.append(LinearCell(COST_OWN, keys, ways, round(value, 2)))


def _cost_margin(
    system: System,
    terms: dict[tuple[str, str], tuple[Term, ...]],
    values: dict[tuple[str, str], float],
    parts: list[tuple[str, str]],
    channel: str,
    kind: str,
) -> tuple[Term, ...]:
    """A cost_own margin: protected when all its parts are, else derived; returns its terms."""
    keys = {"channel": channel, "council_type": kind}
    if all(_is_cost(terms[p][0][0]) for p in parts):
        return ((system.total(COST_OWN, keys, [terms[p][0][0] for p in parts]), 1.0),)
    flat = tuple(t for p in parts for t in terms[p])
    value = round(sum(values[p] for p in parts), 2)
    system.linear.append(LinearCell(COST_OWN, keys, (flat,), value))
    return flat


def _is_cost(cell_id: str) -> bool:
    return cell_id.startswith(COST_OWN + "|")
