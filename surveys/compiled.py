"""Frequent queries compiled to SQL once per process, then run with new values.

Issue 13: on the transaction page, compiling the respondent's lookup (six tables joined)
and the page's small queries cost more CPU than running them. A CompiledQuery builds its
queryset once, with marker values standing for the parameters, keeps the SQL and what
Django's ModelIterable needs to turn rows into objects (the select list, the related
populators), and from then on only substitutes the values, runs the SQL and builds the
objects the same way.

It relies on Django internals (SQLCompiler.as_sql/select/klass_info/results_iter,
get_related_populators): surveys/tests/test_compiled.py fails if the Django version
changes, and checks that every compiled query returns the same objects as the plain ORM.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

# The internals used here were read in this version; a test fails when it changes.
DJANGO_VERSION = (5, 2)
_MARKER = -7_300_000_000  # far below any id: a marker for an integer parameter


@dataclass(frozen=True)
class _Prepared:
    db: str
    sql: str
    params: tuple[Any, ...]
    # (position in params, name of the value, the LIKE pattern it is escaped into or "")
    slots: tuple[tuple[int, str, str], ...]
    compiler: Any
    model: type[Model]
    init_list: tuple[str, ...]
    start: int
    end: int
    populators: tuple[Any, ...]
    for_update: bool


class CompiledQuery:
    """build(**values) returns the queryset; values are passed by name: integers (ids),
    or strings for the names in texts (compared as they are or in a LIKE pattern)."""

    def __init__(
        self, build: Callable[..., QuerySet], *names: str, texts: tuple[str, ...] = ()
    ) -> None:
        self._build = build
        self._names = names
        self._texts = texts  # the names whose values are strings, not integers
        self._prepared: _Prepared | None = None

    def queryset(self, **values: Any) -> QuerySet:
        """The plain ORM queryset for these values (what the compiled SQL stands for)."""
        return self._build(**values)

    def _prepare(self) -> _Prepared:
        if django.VERSION[:2] != DJANGO_VERSION:
            raise RuntimeError(f"surveys.compiled was written for Django {DJANGO_VERSION}")
        markers = {
            name: f"\x1f{i}\x1f" if name in self._texts else _MARKER - i
            for i, name in enumerate(self._names)
        }
        queryset = self._build(**markers)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = []
        for name, marker in markers.items():
            found = [i for i, value in enumerate(params) if value == marker]
            pattern = [
                i for i, v in enumerate(params) if isinstance(marker, str) and marker in str(v)
            ]
            if len(found) == 1 and len(pattern) <= 1:
                slots.append((found[0], name, ""))
            elif not found and len(pattern) == 1:  # in a LIKE pattern (startswith, contains)
                slots.append((pattern[0], name, params[pattern[0]]))
            else:
                raise ValueError(f"{name!r} is not one parameter of the query: {sql}")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        if compiler.annotation_col_map or queryset._known_related_objects:
            raise ValueError("annotations and known related objects are not supported")
        compiler.connection = None  # each run uses its own thread's connection
        self._prepared = _Prepared(
            db=queryset.db,
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            model=klass_info["model"],
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            start=start,
            end=end,
            populators=tuple(get_related_populators(klass_info, select, queryset.db)),
            for_update=queryset.query.select_for_update,
        )
        return self._prepared

    def __call__(self, **values: Any) -> list[Model]:
        prepared = self._prepared or self._prepare()
        connection = connections[prepared.db]
        if prepared.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update outside of a transaction")
        params = list(prepared.params)
        for position, name, pattern in prepared.slots:
            value = values[name]
            if pattern:  # the value escaped as the lookup escaped the marker
                marker = f"\x1f{self._names.index(name)}\x1f"
                value = pattern.replace(marker, connection.ops.prep_for_like_query(value))
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(prepared.sql, params)
            rows = cursor.fetchall()
        compiler = copy.copy(prepared.compiler)
        compiler.connection = connection
        objects = []
        for row in compiler.results_iter([rows]):
            obj = prepared.model.from_db(
                prepared.db, prepared.init_list, row[prepared.start : prepared.end]
            )
            for populator in prepared.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects


def _respondent_link(link: int, response: int) -> QuerySet:
    from authorities.models import AccessLink

    return (
        AccessLink.objects.select_related(
            "response__survey__questionnaire", "response__authority", "contributor"
        )
        .filter(pk=link, response_id=response)
        .order_by("pk")[:1]
    )


def _answers(response: int, transaction: int) -> QuerySet:
    from surveys.models import TransactionAnswer

    return TransactionAnswer.objects.filter(response_id=response, transaction_id=transaction)


def _figures(response: int, transaction: int) -> QuerySet:
    from surveys.models import Figure

    return Figure.objects.filter(response_id=response, transaction_id=transaction)


# The respondent's link with its response, round, questionnaire, council and contributor.
RESPONDENT_LINK = CompiledQuery(_respondent_link, "link", "response")
# One transaction page's answer and figures; locked (a save) or not (a page view).
TRANSACTION_ANSWERS = CompiledQuery(_answers, "response", "transaction")
TRANSACTION_FIGURES = CompiledQuery(_figures, "response", "transaction")
LOCKED_ANSWERS = CompiledQuery(
    lambda **values: _answers(**values).select_for_update(), "response", "transaction"
)
LOCKED_FIGURES = CompiledQuery(
    lambda **values: _figures(**values).select_for_update(), "response", "transaction"
)


def _locked_response(response: int) -> QuerySet:
    from surveys.models import Response

    return (
        Response.objects.select_for_update(of=("self",))
        .select_related("survey__questionnaire")
        .filter(pk=response)
    )


# A save's first step: the response locked (its status, deadline and round read afresh).
LOCKED_RESPONSE = CompiledQuery(_locked_response, "response")


def _history(response: int, prefix: str) -> QuerySet:
    from surveys.models import ChangeRecord
    from surveys.selectors import HISTORY_SHOWN

    return ChangeRecord.objects.filter(response_id=response, key__startswith=prefix).order_by(
        "-changed_at", "-id"
    )[: HISTORY_SHOWN + 1]


# The latest changes to one transaction page (keys "<slug>/<field>"), newest first.
HISTORY = CompiledQuery(_history, "response", "prefix", texts=("prefix",))
ALL = (
    RESPONDENT_LINK,
    TRANSACTION_ANSWERS,
    TRANSACTION_FIGURES,
    LOCKED_ANSWERS,
    LOCKED_FIGURES,
    HISTORY,
    LOCKED_RESPONSE,
)
