"""Grouping a release's big tables in PostgreSQL: figures and offered channels into cells.

``release_load`` reads every figure into pandas and groups it there, which at 35,000 councils
held millions of Python objects at once. On PostgreSQL the database does the joins (which
figures count: the council provides the transaction and offers the channel) and the GROUP BY
into cells, and Python keeps only each cell's contributions (``tables.Grouped``). The
frames ``build_system`` still reads (councils, transaction answers without the offered
channels, closed answers) are one row per council or per council and transaction.

Each cell's contributions come in response order, as ``release_load`` reads them, so the
disclosure engine's input is the same (``reporting/tests/test_grouping.py`` compares them).
SQLite (the demo) keeps the pandas path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection

from authorities.models import Authority
from reporting.tables import REPORTING_KIND, Grouped
from surveys.models import Channel, Figure, KeyTransaction, Response, TransactionAnswer

FETCH = 20_000


def _names() -> dict[str, str]:
    return {
        "figure": Figure._meta.db_table,
        "answer": TransactionAnswer._meta.db_table,
        "response": Response._meta.db_table,
        "authority": Authority._meta.db_table,
        "transaction": KeyTransaction._meta.db_table,
        "channel": Channel._meta.db_table,
    }


def _kind_sql() -> str:
    """The council type as reported (single-council types with their peers)."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in REPORTING_KIND.items())
    return f"(CASE a.kind {cases} ELSE a.kind END)"


def _counted_sql(submitted: str) -> str:
    """FROM/WHERE of the figures that count (``tables.counted_figures``)."""
    n = _names()
    return f"""
        FROM {n["figure"]} f
        JOIN {n["answer"]} ta
          ON ta.response_id = f.response_id AND ta.transaction_id = f.transaction_id
        JOIN {n["channel"]} c ON c.id = f.channel_id
        JOIN {n["transaction"]} t ON t.id = f.transaction_id
        JOIN {n["response"]} r ON r.id = f.response_id
        JOIN {n["authority"]} a ON a.id = r.authority_id
        WHERE f.value IS NOT NULL
          AND ta.provision = 'yes'
          AND jsonb_typeof(ta.channels_offered) = 'array'
          AND ta.channels_offered @> to_jsonb(c.code::text)
          AND f.response_id IN ({submitted})
    """


# Each channel a provider offers, one row each (``DataFrame.explode`` of the offered lists).
OFFERED_CHANNELS = """
        CROSS JOIN LATERAL jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(ta.channels_offered) = 'array'
            THEN ta.channels_offered ELSE '[]'::jsonb END
        ) AS o(code)"""


def _providers_sql(submitted: str, join: str = "") -> str:
    n = _names()
    return f"""
        FROM {n["answer"]} ta
        JOIN {n["transaction"]} t ON t.id = ta.transaction_id
        JOIN {n["response"]} r ON r.id = ta.response_id
        JOIN {n["authority"]} a ON a.id = r.authority_id {join}
        WHERE ta.provision = 'yes' AND ta.response_id IN ({submitted})
    """


def grouped_load(submitted, gss_of: dict[int, str]) -> Grouped:
    """The big tables grouped by PostgreSQL. ``submitted``: a queryset of the responses'
    pks; ``gss_of``: each submitted response's council GSS code."""
    sub_sql, params = submitted.query.sql_with_params()
    params = tuple(params)
    kind = _kind_sql()
    volumes = {}
    offered = {}
    providers = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t.slug, c.code, {kind}, a.region,
                       array_agg(f.response_id ORDER BY f.response_id, f.id),
                       array_agg(f.value ORDER BY f.response_id, f.id)
                {_counted_sql(sub_sql)} GROUP BY 1, 2, 3, 4""",
            params,
        )
        for slug, code, council_kind, region, ids, values in cursor:
            gss = np.array([gss_of[i] for i in ids], dtype=object)
            volumes[slug, code, council_kind, region] = (gss, np.array(values, dtype=np.float64))
        cursor.execute(
            f"""SELECT t.slug, o.code, {kind}, array_agg(ta.response_id ORDER BY ta.response_id)
                {_providers_sql(sub_sql, OFFERED_CHANNELS)} GROUP BY 1, 2, 3""",
            params,
        )
        for slug, code, council_kind, ids in cursor:
            offered[slug, code, council_kind] = [gss_of[i] for i in ids]
        cursor.execute(
            f"""SELECT t.slug, {kind}, array_agg(ta.response_id ORDER BY ta.response_id)
                {_providers_sql(sub_sql)} GROUP BY 1, 2""",
            params,
        )
        for slug, council_kind, ids in cursor:
            providers[slug, council_kind] = [gss_of[i] for i in ids]
    return Grouped(volumes, offered, providers, _counted(sub_sql, params))


def _counted(sub_sql: str, params: tuple) -> pd.DataFrame:
    """Counted figures' response, channel and value, streamed in chunks (server-side cursor)
    into compact arrays: own costs price each council's figures one by one."""
    codes = dict(Channel.objects.values_list("pk", "code"))
    chunks = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"""SELECT f.response_id, f.channel_id, f.value::float8 {_counted_sql(sub_sql)}
                ORDER BY f.response_id, f.id""",
            params,
        )
        while rows := cursor.fetchmany(FETCH):
            chunks.append(np.array(rows, dtype=np.float64).reshape(-1, 3))
    data = np.concatenate(chunks) if chunks else np.empty((0, 3))
    channel = pd.Series(data[:, 1].astype(np.int64)).map(codes).astype(object)
    return pd.DataFrame(
        {"response": data[:, 0].astype(np.int64), "channel": channel, "value": data[:, 2]}
    )
