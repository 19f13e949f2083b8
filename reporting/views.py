"""Analysts' dashboards and downloads: only the cells of a round's published release.

Each view reads a ``reporting.publication.Publication`` and gives its templates that and
the round's public name and dates: never a release, a round or a response, so that no page
can print a number that is not a cell of the release (see that module).

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

from reporting import charts, selectors
from reporting.exports import release_csv, release_json, release_xlsx
from reporting.publication import Progress, Publication, Round
from survey_site.roles import holds, role_required
from surveys.models import Survey

VIEW = "reporting.view_dashboards"
INTERNALS = "reporting.view_suppression_internals"


def analysts_only(view):
    # Private, no-store: no shared or browser cache keeps an analyst's page or download.
    return role_required(VIEW)(cache_control(private=True, no_store=True)(require_GET(view)))


def _ready(slug: str) -> Publication:
    publication = Publication.of(get_object_or_404(Survey, slug=slug))
    if publication is None:
        raise Http404("No published release for this round")
    return publication


def _context(
    request: HttpRequest, publication: Publication | None, page: str, survey: Survey | None = None
) -> dict:
    """What every page of a round gets: its publication (as ``release``) and its round."""
    return {
        "survey": Round.of(survey) if publication is None else publication.round,
        "release": publication,
        "page": page,
        "can_see_internals": holds(request.user, INTERNALS),
    }


@analysts_only
def release_index(request: HttpRequest) -> HttpResponse:
    rounds = [
        (Round.of(survey), release.number if release else None)
        for survey, release in selectors.surveys_with_releases()
    ]
    return render(request, "reporting/release_index.html", {"rounds": rounds})


@analysts_only
def release_overview(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    publication = Publication.of(survey)
    context = _context(request, publication, "overview", survey)
    if publication is not None:
        table = publication.response_rates()
        context["summary"] = publication.summary()
        context["rates"] = table
        context["hidden"] = publication.hidden_shares()
        context["chart"] = charts.response_rate_chart(table)
    context["latest"] = Progress.of(selectors.release_latest(survey=survey))
    return render(request, "reporting/release_overview.html", context)


@analysts_only
def channel_mix(request: HttpRequest, slug: str) -> HttpResponse:
    publication = _ready(slug)
    transactions = publication.transactions
    transaction = request.GET.get("transaction") or next(iter(transactions), "")
    if transaction not in transactions:
        raise Http404("Unknown transaction")
    table = publication.channel_mix(transaction)
    context = _context(request, publication, "channels")
    context.update(
        {
            "table": table,
            "transactions": transactions,
            "transaction": transaction,
            "chart": charts.channel_mix_chart(table, publication.labels.transaction(transaction)),
        }
    )
    return render(request, "reporting/channel_mix.html", context)


@analysts_only
def take_up(request: HttpRequest, slug: str) -> HttpResponse:
    publication = _ready(slug)
    table = publication.take_up()
    context = _context(request, publication, "take-up")
    context.update(
        {
            "table": table,
            "matrix": publication.take_up_matrix(),
            "chart": charts.take_up_chart(table),
        }
    )
    return render(request, "reporting/take_up.html", context)


@analysts_only
def costs(request: HttpRequest, slug: str) -> HttpResponse:
    publication = _ready(slug)
    own = publication.own_costs()
    context = _context(request, publication, "costs")
    context.update(
        {
            "table": publication.costs(),
            "own": own,
            "chart": charts.own_costs_chart(own),
        }
    )
    return render(request, "reporting/costs.html", context)


@analysts_only
def answers(request: HttpRequest, slug: str) -> HttpResponse:
    """How many councils gave each answer: provision, end to end online, channels
    offered, and the questions of the other sections (frequency tables)."""
    publication = _ready(slug)
    labels = publication.labels
    # One transaction at a time (all of them made a 37,000 px page), chosen from the list.
    transaction = request.GET.get("transaction") or next(iter(labels.transactions), "")
    if transaction not in labels.transactions:
        raise Http404("Unknown transaction")
    name = labels.transaction(transaction)
    *per_transaction, answers_table = publication.answer_tables()
    context = _context(request, publication, "answers")
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
                for table in per_transaction
            ],
            "tables": [answers_table],
        }
    )
    return render(request, "reporting/answers.html", context)


@analysts_only
def suppression(request: HttpRequest, slug: str) -> HttpResponse:
    if not holds(request.user, INTERNALS):
        raise PermissionDenied
    publication = _ready(slug)
    context = _context(request, publication, "suppression")
    context["internals"] = publication.internals()
    return render(request, "reporting/suppression.html", context)


@analysts_only
def download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    publication = _ready(slug)
    name = f"{publication.round.slug}-release-{publication.number}"
    if fmt == "xlsx":
        response = HttpResponse(
            release_xlsx(publication=publication),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "csv":
        stream = io.StringIO()
        release_csv(publication=publication, stream=stream)
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = HttpResponse(
            json.dumps(release_json(publication=publication)), content_type="application/json"
        )
    else:
        raise Http404("Unknown format")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
