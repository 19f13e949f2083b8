"""Analysts' dashboards and downloads: only the cells of a round's published release.

Every view needs ``reporting.view_dashboards`` (others get 403; anonymous users go to the
sign-in page). No parameter reaches raw responses: the only choice a page offers is which
precomputed transaction to show, checked against the questionnaire.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from reporting import selectors
from reporting.charts import bar_chart
from reporting.exports import release_csv, release_json, release_xlsx
from reporting.models import Release
from reporting.tables import TOTAL
from survey_site.roles import holds, role_required
from surveys.models import Survey

VIEW = "reporting.view_dashboards"
INTERNALS = "reporting.view_suppression_internals"


def analysts_only(view):
    # Private, no-store: no shared or browser cache keeps an analyst's page or download.
    return role_required(VIEW)(cache_control(private=True, no_store=True)(require_GET(view)))


def _ready(slug: str) -> tuple[Survey, Release]:
    survey = get_object_or_404(Survey, slug=slug)
    release = selectors.release_published(survey=survey)
    if release is None:
        raise Http404("No published release for this round")
    return survey, release


def _context(request: HttpRequest, survey: Survey, release: Release | None, page: str) -> dict:
    return {
        "survey": survey,
        "release": release,
        "page": page,
        "can_see_internals": holds(request.user, INTERNALS),
    }


@analysts_only
def release_index(request: HttpRequest) -> HttpResponse:
    rounds = selectors.surveys_with_releases()
    return render(request, "reporting/release_index.html", {"rounds": rounds})


@analysts_only
def release_overview(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    latest = selectors.release_latest(survey=survey)
    release = selectors.release_published(survey=survey)
    context = _context(request, survey, release, "overview")
    context["latest"] = latest
    if release is not None:
        view = selectors.release_view(
            release=release, tables=["invited", "responded", "response_rate"]
        )
        table = selectors.table_response_rates(view)
        context["rates"] = table
        context["chart"] = bar_chart(
            "Response rate by council type",
            "Percentage of invited councils that submitted a response, by council type.",
            [(row[0], row[4]) for row in table.rows if row[1] == "England"],
        )
    return render(request, "reporting/release_overview.html", context)


@analysts_only
def channel_mix(request: HttpRequest, slug: str) -> HttpResponse:
    survey, release = _ready(slug)
    labels = selectors.release_labels(release=release)
    transaction = request.GET.get("transaction") or next(iter(labels.transactions), "")
    if transaction not in labels.transactions:
        raise Http404("Unknown transaction")
    view = selectors.release_view(release=release, tables=["volume", "share", "responded"])
    table = selectors.table_channel_mix(view, labels, transaction)
    context = _context(request, survey, release, "channels")
    context.update(
        {
            "table": table,
            "transactions": labels.transactions,
            "transaction": transaction,
            "chart": bar_chart(
                f"Share of transactions by channel, England: {labels.transaction(transaction)}",
                "Percentage of all recorded transactions made through each channel.",
                [(row[1], row[3]) for row in table.rows if row[1] != "All channels"],
            ),
        }
    )
    return render(request, "reporting/channel_mix.html", context)


@analysts_only
def take_up(request: HttpRequest, slug: str) -> HttpResponse:
    survey, release = _ready(slug)
    labels = selectors.release_labels(release=release)
    view = selectors.release_view(release=release, tables=["take_up", "responded"])
    table = selectors.table_take_up(view, labels)
    matrix = selectors.table_take_up_matrix(view, labels, TOTAL)
    context = _context(request, survey, release, "take-up")
    context.update(
        {
            "table": table,
            "matrix": matrix,
            "chart": bar_chart(
                "Digital take-up by transaction, England",
                "Online self-service and app transactions as a percentage of all recorded "
                "transactions, for each transaction.",
                [(row[0], row[1]) for row in table.rows],
            ),
        }
    )
    return render(request, "reporting/take_up.html", context)


@analysts_only
def costs(request: HttpRequest, slug: str) -> HttpResponse:
    survey, release = _ready(slug)
    labels = selectors.release_labels(release=release)
    view = selectors.release_view(
        release=release, tables=["cost_default", "scenario", "cost_own", "responded"]
    )
    table = selectors.table_costs(view, labels)
    own = selectors.table_own_costs(view, labels)
    context = _context(request, survey, release, "costs")
    context.update(
        {
            "table": table,
            "own": own,
            "chart": bar_chart(
                "Estimated cost by channel at councils' own unit costs, England",
                "Estimated cost in pounds of each channel's transactions.",
                [(row[0], row[1]) for row in own.rows if row[0] != "All channels"],
            ),
        }
    )
    return render(request, "reporting/costs.html", context)


@analysts_only
def answers(request: HttpRequest, slug: str) -> HttpResponse:
    """How many councils gave each answer: provision, end to end online, channels
    offered, and the questions of the other sections (frequency tables)."""
    survey, release = _ready(slug)
    labels = selectors.release_labels(release=release)
    # One transaction at a time (all of them made a 37,000 px page), chosen from the list.
    transaction = request.GET.get("transaction") or next(iter(labels.transactions), "")
    if transaction not in labels.transactions:
        raise Http404("Unknown transaction")
    view = selectors.release_view(release=release)
    name = labels.transaction(transaction)
    context = _context(request, survey, release, "answers")
    context.update(
        {
            "transactions": labels.transactions,
            "transaction": transaction,
            "transaction_name": name,
            "transaction_tables": [
                # The chosen transaction's rows, without the column naming it.
                replace(
                    table,
                    title=f"{table.title} ({name})",
                    head=table.head[1:],
                    rows=[row[1:] for row in table.rows if row[0] == name],
                    label_columns=table.label_columns - 1,
                )
                for table in (
                    selectors.table_provision(view, labels),
                    selectors.table_end_to_end(view, labels),
                    selectors.table_offered(view, labels),
                )
            ],
            "tables": [selectors.table_answers(view, labels)],
        }
    )
    return render(request, "reporting/answers.html", context)


@analysts_only
def suppression(request: HttpRequest, slug: str) -> HttpResponse:
    if not holds(request.user, INTERNALS):
        raise PermissionDenied
    survey, release = _ready(slug)
    context = _context(request, survey, release, "suppression")
    context["counts"] = release.counts
    return render(request, "reporting/suppression.html", context)


@analysts_only
def download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    survey, release = _ready(slug)
    name = f"{survey.slug}-release-{release.number}"
    if fmt == "xlsx":
        response = HttpResponse(
            release_xlsx(release=release),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "csv":
        stream = io.StringIO()
        release_csv(release=release, stream=stream)
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = HttpResponse(
            json.dumps(release_json(release=release)), content_type="application/json"
        )
    else:
        raise Http404("Unknown format")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
