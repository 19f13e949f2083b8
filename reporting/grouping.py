"""Grouping a release's answers in PostgreSQL: figures, offered channels and costs into cells.

``release_load`` on SQLite reads every figure, transaction answer and answer into pandas, one
Python object per row; at 35,000 councils that held millions of objects at once. On
PostgreSQL the database groups everything by identifiers only (transaction, channel,
answer): a few thousand rows of arrays of response ids, fetched as text and parsed by numpy.
Which figures count (the council provides the transaction and offers the channel) is read
from the groups of transaction answers, each distinct offered list decoded once. Python
then splits each array by council type and region with numpy (``_Councils``) and keeps only
each cell's contributions (``tables.Grouped``), as positions (int32) into one array of GSS
codes, the disclosure engine's compact form. The
biggest query is read through a server-side cursor, a few groups at a time.
The frames ``build_system`` still reads (transaction answers without the offered channels,
closed answers) are rebuilt from the groups: each distinct answer is decoded once.

Each cell's contributions come in the order the pandas path gives them (response order;
own costs in GSS order), so the disclosure engine's input is the same
(``reporting/tests/test_grouping.py`` compares them). SQLite (the demo) keeps the pandas path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from django.db import connection, transaction

from authorities.models import Authority
from reporting.tables import REPORTING_KIND, Catalogue, Grouped, own_unit_costs
from surveys.models import (
    Answer,
    Channel,
    Figure,
    KeyTransaction,
    Question,
    Response,
    TransactionAnswer,
)


def _names() -> dict[str, str]:
    return {
        "figure": Figure._meta.db_table,
        "answer": TransactionAnswer._meta.db_table,
        "closed": Answer._meta.db_table,
        "question": Question._meta.db_table,
        "response": Response._meta.db_table,
        "authority": Authority._meta.db_table,
        "transaction": KeyTransaction._meta.db_table,
        "channel": Channel._meta.db_table,
    }


# The submitted responses, computed once per query: as a subquery in IN (...), PostgreSQL
# estimated a handful of rows and chose nested loops over millions of figures.
SUBMITTED = "WITH s(id) AS MATERIALIZED ({submitted})"

# Response ids are looked up in a table (``_Councils.where``) when they span at most this many
# times as many values as there are responses.
DENSE = 16

# Groups of counted figures fetched at a time from the server-side cursor.
STREAM_ROWS = 10


def _ints(column: str) -> str:
    """The group's integers as one text "1,2,3" (``_parse``): fetched as arrays, each would
    be a list of Python ints (36 bytes each, in memory Python keeps once it has grown)."""
    return f"array_to_string(array_agg({column}), ',')"


def _parse(text: str, count: int) -> np.ndarray:
    """The int64 array of an ``_ints`` text (parsed in C), of ``count`` integers."""
    parsed = np.fromstring(text, dtype=np.int64, sep=",")
    if len(parsed) != count:
        raise ValueError(f"expected {count} integers, parsed {len(parsed)}")
    return parsed


class _Councils:
    """The submitted councils as arrays, to split response ids by type and region."""

    def __init__(self, councils: pd.DataFrame) -> None:
        order = np.argsort(councils.index.to_numpy(dtype=np.int64), kind="stable")
        self.ids = councils.index.to_numpy(dtype=np.int64)[order]
        self.gss = councils["gss"].to_numpy(dtype=object)[order]
        kinds = councils["kind"].map(lambda k: REPORTING_KIND.get(k, k)).to_numpy(dtype=object)
        self.kinds, self.kind = np.unique(kinds[order], return_inverse=True)
        regions = councils["region"].to_numpy(dtype=object)[order]
        self.regions, self.region = np.unique(regions, return_inverse=True)
        # Each id's position by lookup when the ids are dense enough (a round's responses
        # are, in practice): a binary search per figure took most of the splitting time.
        self.first = int(self.ids[0]) if len(self.ids) else 0
        span = int(self.ids[-1]) - self.first + 1 if len(self.ids) else 0
        self.lookup = None
        if span <= DENSE * len(self.ids):
            self.lookup = np.zeros(span, dtype=np.int64)
            self.lookup[self.ids - self.first] = np.arange(len(self.ids))

    def where(self, ids: np.ndarray) -> np.ndarray:
        """Positions of response ids in the arrays (every id is a submitted response)."""
        if self.lookup is None:
            return np.searchsorted(self.ids, ids)
        return self.lookup[np.asarray(ids, dtype=np.int64) - self.first]

    def split(self, ids: Sequence[int], *values: Sequence, regions: bool = False):
        """{(kind,) or (kind, region): (positions, *values)} with each part's rows in
        response order (stable: a repeated response keeps its rows' order)."""
        return self.split_at(self.where(np.asarray(ids, dtype=np.int64)), *values, regions=regions)

    def split_at(self, where: np.ndarray, *values: Sequence, regions: bool = False):
        """``split`` of the responses at positions ``where``: in one stable sort by part,
        then position (positions are in response order)."""
        codes = (
            self.kind[where] * len(self.regions) + self.region[where]
            if regions
            else (self.kind[where])
        )
        by = np.argsort(codes.astype(np.int64) * len(self.ids) + where, kind="stable")
        codes, where = codes[by], where[by]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else []
        ends = [*starts[1:], len(codes)]
        columns = [np.asarray(v)[by] for v in values]
        result = {}
        for start, end in zip(starts, ends, strict=True):
            code = int(codes[start])
            key = (
                (
                    str(self.kinds[code // len(self.regions)]),
                    str(self.regions[code % len(self.regions)]),
                )
                if regions
                else (str(self.kinds[code]),)
            )
            result[key] = (where[start:end], *(c[start:end] for c in columns))
        return result


def grouped_load(
    submitted, councils: pd.DataFrame, catalogue: Catalogue, answers: Callable[[], pd.DataFrame]
) -> tuple[Grouped, pd.DataFrame]:
    """The big tables grouped by PostgreSQL, and the transaction answers frame (without the
    offered channels). ``submitted``: a queryset of the responses' pks; ``councils``: as
    ``Inputs.councils``; ``answers``: gives ``Inputs.answers`` (for councils' own unit
    costs), asked for only after the transaction answers are read (it may be read on
    another connection meanwhile)."""
    sub_sql, params = submitted.query.sql_with_params()
    params = tuple(params)
    head = SUBMITTED.format(submitted=sub_sql)
    places = _Councils(councils)
    slugs = dict(KeyTransaction.objects.values_list("pk", "slug"))
    codes = dict(Channel.objects.values_list("pk", "code"))
    volumes = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # The big queries are streamed through server-side cursors, a few groups at a time:
        # the whole result (every counted figure, every transaction answer's ids as text) was
        # held at once by the client library as well as the arrays made from it. Planned for
        # all of their rows (cursor_tuple_fraction), as the plain queries were.
        cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        transactions, offered, providers, standing = _transaction_answers(
            cursor, head, params, slugs, places
        )
        own_costs = _OwnCosts(places, catalogue, answers())
        with cursor.connection.cursor(name="release_counted_figures") as stream:
            stream.itersize = STREAM_ROWS
            # Every figure given, by transaction and channel; which of them count (the
            # council provides the transaction and offers the channel) is read from the
            # transaction answers' groups (``standing``): joined to each figure in the
            # database, the transaction answers and their offered lists took most of the
            # query's time (2.7 million jsonb lookups, the figures hashed to disk).
            stream.execute(
                f"""{head} SELECT f.transaction_id, f.channel_id, count(*),
                           {_ints("f.response_id")}, {_ints("f.value")}
                    FROM {_names()["figure"]} f JOIN s ON s.id = f.response_id
                    WHERE f.value IS NOT NULL GROUP BY 1, 2""",  # noqa: S608 (model tables)
                params,
            )
            for transaction_id, channel_id, count, id_text, value_text in stream:
                key = (slugs[transaction_id], codes[channel_id])
                where = places.where(_parse(id_text, count))
                # Whole numbers as the database holds them, int32 (figures are at most
                # MAX_FIGURE): half the memory of float64 (108 MB of 27 million counted
                # figures at 353,000 councils). The engine makes each cell's float64 values
                # when it compiles the cell (int to float8: a C cast, as PostgreSQL's).
                values = _narrow(_parse(value_text, count))
                del id_text, value_text
                if key not in standing:
                    continue
                counts = np.zeros(len(places.ids), dtype=bool)
                for at in standing[key]:
                    counts[at] = True
                kept = counts[where]
                where, values = where[kept], values[kept]
                own_costs.add(key[1], where, values)
                for part, (at, value) in places.split_at(where, values, regions=True).items():
                    volumes[key + part] = (at.astype(np.int32), value)
    costs, at_default = own_costs.cells()
    grouped = Grouped(volumes, offered, providers, costs, at_default, labels=places.gss)
    return grouped, transactions


def _transaction_answers(cursor, head: str, params: tuple, slugs: dict, places: _Councils):
    """``Inputs.transactions`` without the offered channels (in the order of the pandas
    path), the providers offering each channel and all providers (``tables.offered_groups``),
    and whether each council's figures of (transaction, channel) count, from one row per
    distinct (transaction, provision, end to end, offered) answer: each offered list is
    decoded once."""
    with cursor.connection.cursor(name="release_transaction_answers") as stream:
        stream.itersize = STREAM_ROWS
        stream.execute(
            f"""{head} SELECT ta.transaction_id, ta.provision, ta.end_to_end,
                       ta.channels_offered::text, count(*), {_ints("ta.response_id")},
                       {_ints("ta.id")}
                FROM {_names()["answer"]} ta JOIN s ON s.id = ta.response_id
                GROUP BY 1, 2, 3, 4""",  # noqa: S608 (table names from the models)
            params,
        )
        # The two arrays of a group hold its rows in the same order (one input to both).
        # The answers' own ids only order the rows (int32 when they fit).
        parts = [
            (slugs[t], provision, end, text, _parse(ids, count), _narrow(_parse(pks, count)))
            for t, provision, end, text, count, ids, pks in stream
        ]
    offering: dict[tuple[str, str], list[np.ndarray]] = {}
    providing: dict[str, list[np.ndarray]] = {}
    for slug, provision, _end, text, ids, _pks in parts:
        if provision != "yes":
            continue
        providing.setdefault(slug, []).append(ids)
        chosen = json.loads(text)
        for code in chosen if isinstance(chosen, list) else []:
            if isinstance(code, str):
                offering.setdefault((slug, code), []).append(ids)
    standing = {}
    offered = {}
    for (slug, code), lists in offering.items():
        # The councils whose figures for (transaction, channel) count: those offering it, the
        # same position arrays as ``offered`` (a mask of every council per transaction and
        # channel was 78 MB at 353,000 councils: one is made per group of figures as it arrives).
        standing[slug, code] = []
        for (kind,), (where,) in places.split(np.concatenate(lists)).items():
            offered[slug, code, kind] = where.astype(np.int32)
            standing[slug, code].append(offered[slug, code, kind])
    providers = {}
    for slug, lists in providing.items():
        for (kind,), (where,) in places.split(np.concatenate(lists)).items():
            providers[slug, kind] = where.astype(np.int32)
    sizes = [len(p[4]) for p in parts]
    response = _concatenate([p[4] for p in parts])
    pks = _concatenate([p[5] for p in parts])
    order = np.lexsort((pks, response))

    def column(index: int) -> pd.Categorical:
        return _repeated([p[index] for p in parts], sizes, order)

    frame = pd.DataFrame(
        {
            "response": _narrow(response[order]),
            "transaction": column(0),
            "provision": column(1),
            # Unused on this path (the offered channels are grouped above): all missing.
            "offered": pd.Categorical.from_codes(
                np.full(len(order), -1, dtype=np.int8), categories=pd.Index([], dtype=object)
            ),
            "end_to_end": column(2),
        }
    )
    return frame, offered, providers, standing


def _repeated(values: list, sizes: list[int], order: np.ndarray | None = None) -> pd.Categorical:
    """Each group's value repeated for its rows (then put in ``order``), as a category: a byte
    or two per row where a column of objects held a pointer each (8 bytes: at 353,000
    councils, 62 MB per column of the transaction answers). A missing value (None) is NaN."""
    codes, uniques = pd.factorize(np.array(values, dtype=object))
    rows = np.repeat(codes.astype(np.int32), sizes)
    if order is not None:
        rows = rows[order]
    return pd.Categorical.from_codes(rows, categories=uniques)


def grouped_answers(submitted, wanted: list[str]) -> pd.DataFrame:
    """``Inputs.answers`` (response, question, value) from one row per distinct answer: each
    value is decoded once (as the JSON field decodes it) and shared by its councils."""
    sub_sql, params = submitted.query.sql_with_params()
    n = _names()
    # Streamed a few groups at a time (see ``grouped_load``), in a transaction of its own
    # where the caller has none (a server-side cursor lives in one).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        with cursor.connection.cursor(name="release_closed_answers") as stream:
            stream.itersize = STREAM_ROWS
            stream.execute(
                f"""{SUBMITTED.format(submitted=sub_sql)}
                    SELECT q.slug, a.value::text, count(*), {_ints("a.response_id")}
                    FROM {n["closed"]} a JOIN s ON s.id = a.response_id
                    JOIN {n["question"]} q ON q.id = a.question_id
                    WHERE q.slug = ANY(%s) AND NOT q.free_text AND NOT q.personal_data
                    GROUP BY 1, 2""",  # noqa: S608 (table names from the models)
                (*params, list(wanted)),
            )
            parts = [
                (slug, None if text is None else json.loads(text), _parse(ids, count))
                for slug, text, count, ids in stream
            ]
    sizes = [len(p[2]) for p in parts]
    return pd.DataFrame(
        {
            "response": _narrow(_concatenate([p[2] for p in parts])),
            "question": _repeated([p[0] for p in parts], sizes),
            "value": _decoded([p[1] for p in parts], sizes),
        }
    )


def _decoded(values: list, sizes: list[int]):
    """Each group's decoded answer repeated for its rows: as a category where every value
    can be one (text and numbers; a missing value is NaN), else as shared objects (a list,
    or values a category would merge, such as 1 and true)."""
    shared = np.empty(len(values), dtype=object)
    for number, value in enumerate(values):
        shared[number] = value
    codes = np.full(len(values), -1, dtype=np.int32)
    distinct: dict[tuple[type, object], int] = {}
    for number, value in enumerate(values):
        if value is None:
            continue
        # (NaN, which JSON allows, is not equal to itself and cannot be a category.)
        if not isinstance(value, str | int | float) or value != value:
            return np.repeat(shared, sizes)
        codes[number] = distinct.setdefault((type(value), value), len(distinct))
    categories = pd.Index([value for _type, value in distinct], dtype=object)
    if not categories.is_unique:
        return np.repeat(shared, sizes)
    return pd.Categorical.from_codes(np.repeat(codes, sizes), categories=categories)


def _narrow(ids: np.ndarray) -> np.ndarray:
    """Response ids (or figures) as int32 when they fit (they do, in practice): half the
    memory of a column of a row per answer."""
    if not len(ids) or (ids.min() >= 0 and ids.max() <= np.iinfo(np.int32).max):
        return ids.astype(np.int32)
    return ids


def _concatenate(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, np.int64)


class _OwnCosts:
    """Own-cost cells (``tables.own_cost_cells``) summed as the counted figures' groups
    arrive (the figures were kept for this, ids and values: 43 MB at 35,000 councils): each
    figure at the council's own unit cost for its channel, else the published default,
    rounded to whole pence (numpy's ``rint``, as the pandas path), summed exactly (integer
    pence: in any order)."""

    def __init__(self, places: _Councils, catalogue: Catalogue, answers: pd.DataFrame) -> None:
        own = own_unit_costs(catalogue, answers)
        self.places = places
        self.channels = catalogue.channels
        self.price: dict[str, np.ndarray] = {}
        self.total: dict[str, np.ndarray] = {}
        self.present: dict[str, np.ndarray] = {}
        self.moving: dict[str, np.ndarray] = {}
        size = len(places.ids)
        for channel in catalogue.channels:
            default = np.nan if channel.default_cost is None else channel.default_cost
            price = np.full(size, default, dtype=np.float64)
            mine = own[own["channel"] == channel.code]
            price[places.where(mine["response"].to_numpy(dtype=np.int64))] = mine["cost"]
            self.price[channel.code] = price
            self.total[channel.code] = np.zeros(size, dtype=np.int64)
            self.present[channel.code] = np.zeros(size, dtype=bool)
            self.moving[channel.code] = np.zeros(size, dtype=bool)

    def add(self, code: str, where: np.ndarray, values: np.ndarray) -> None:
        """Counted figures of channel ``code``: the councils' positions and the values."""
        if code not in self.price:
            return
        cost = self.price[code][where]
        priced = ~np.isnan(cost)
        where, values, cost = where[priced], values[priced], cost[priced]
        pence = np.rint(values * cost * 100).astype(np.int64)
        np.add.at(self.total[code], where, pence)
        self.present[code][where] = True
        self.moving[code][where[values > 0]] = True

    def cells(self) -> tuple[dict, dict]:
        """(costs, at_default) as ``tables.own_cost_cells`` returns them."""
        places = self.places
        costs = {}
        at_default = {}
        for channel in self.channels:
            default = np.nan if channel.default_cost is None else channel.default_cost
            price, total = self.price[channel.code], self.total[channel.code]
            present, moving = self.present[channel.code], self.moving[channel.code]
            for kind_code, kind in enumerate(places.kinds):
                chosen = np.flatnonzero(present & (places.kind == kind_code))
                if not len(chosen):
                    continue
                gss = places.gss[chosen]
                order = np.argsort(gss, kind="stable")
                costs[channel.code, str(kind)] = (
                    chosen[order].astype(np.int32),
                    total[chosen[order]] / 100,
                )
                decided = chosen[moving[chosen]]
                if len(decided):
                    at_default[channel.code, str(kind)] = bool((price[decided] == default).all())
        return costs, at_default
