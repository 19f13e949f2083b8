"""Public statistics pages: every round's live public release, without sign-in.

The pages read a round's live ``PublicRelease`` (its words) and the ``Publication`` of its
release (every figure, a ``Shown`` with a cell id): nothing else, so the public can see no
number that is not a published cell, a label or a constant (the census in
``publishing/tests/test_pages.py`` checks it).

They are the same for everyone: no session is read, no message shown, so shared caches may
keep them (``Cache-Control: public``). They must ask again each time (``no-cache``), with
``If-Modified-Since``: a page unchanged since the round's public release last changed is
answered 304 with no body, and a withdrawal is seen at once, never a stale copy.

A superseded version's address (``/statistics/<round>/version-<n>/``) redirects to the round's
page: every version reads the same cells, so the latest page holds every figure, and its
change notes say what each version changed; earlier wording that was corrected is not kept
online.
"""

from __future__ import annotations

import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_GET

from publishing import services
from publishing.downloads import file_url
from publishing.models import PublicRelease, PublicReleaseStatus
from publishing.since import since_previous
from reporting import charts
from reporting.publication import Publication
from reporting.selectors import SYMBOL_MEANINGS
from surveys.models import Survey

# The files of a version, as publishing.downloads serves them: (name, format, downloads fmt).
FILES = [
    ("Every table of the release", "ODS spreadsheet", "ods"),
    ("Every table of the release", "XLSX spreadsheet", "xlsx"),
    ("Every published cell", "CSV", "csv"),
    ("Description of the published cells (CSV on the Web)", "JSON", "csv-metadata"),
]


def downloads(public: PublicRelease) -> list[dict]:
    return [
        {"name": name, "format": label, "href": file_url(public, fmt)} for name, label, fmt in FILES
    ]


def chosen_transaction(request: HttpRequest, publication: Publication) -> str:
    """The transaction whose channel mix is shown: ?transaction=<slug>, one of the release's."""
    transactions = publication.transactions
    transaction = request.GET.get("transaction") or next(iter(transactions), "")
    if transaction not in transactions:
        raise Http404("Unknown transaction")
    return transaction


def release_context(public: PublicRelease, publication: Publication, transaction: str) -> dict:
    """What the public page of a version shows (the preview renders a draft with it too)."""
    rates = publication.response_rates()
    mix = publication.channel_mix(transaction)
    take_up = publication.take_up()
    own = publication.own_costs()
    earlier = [v for v in services.versions(public.survey) if v.version < public.version]
    history = [*earlier, public]
    return {
        "public": public,
        "round": publication.round,
        "first_published": history[0].published_at,
        "history": history,
        "summary": publication.summary(),
        "rates": rates,
        "rates_chart": charts.response_rate_chart(rates),
        "transactions": publication.transactions,
        "transaction": transaction,
        "mix": mix,
        "mix_chart": charts.channel_mix_chart(mix, publication.labels.transaction(transaction)),
        "take_up": take_up,
        "take_up_chart": charts.take_up_chart(take_up),
        "costs": publication.costs(),
        "own_costs": own,
        "costs_chart": charts.own_costs_chart(own),
        "symbols": SYMBOL_MEANINGS,
        "downloads": downloads(public),
        "since": since_previous(public.survey, publication),
    }


def _last_changed(request: HttpRequest, slug: str | None = None, **kwargs) -> datetime.datetime:
    """When any public release (of the round, given one) last changed: for Last-Modified."""
    moments = PublicRelease.objects.exclude(status=PublicReleaseStatus.DRAFT)
    if slug is not None:
        moments = moments.filter(survey__slug=slug)
    changes = [
        moment
        for row in moments.values_list("published_at", "superseded_at", "withdrawn_at")
        for moment in row
        if moment is not None
    ]
    return max(changes, default=None)


def public_page(view):
    """GET only, the same for everyone: kept by shared caches, revalidated every time."""
    view = condition(last_modified_func=_last_changed)(view)
    return cache_control(public=True, no_cache=True)(require_GET(view))


@public_page
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/index.html", {"rounds": services.public_rounds()})


@public_page
def release(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    public = services.latest_public(survey)
    if public is None:
        raise Http404("No public release of this round")
    if public.status == PublicReleaseStatus.WITHDRAWN:
        context = {"public": public, "round": public.survey, "history": services.versions(survey)}
        return render(request, "publishing/withdrawn.html", context)
    publication = Publication(public.release)
    context = release_context(public, publication, chosen_transaction(request, publication))
    return render(request, "publishing/release.html", context)


@public_page
def version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """A version's own address: the round's page shows it (or what replaced it)."""
    get_object_or_404(
        PublicRelease.objects.exclude(status=PublicReleaseStatus.DRAFT),
        survey__slug=slug,
        version=number,
    )
    return redirect(reverse("publishing:release", args=[slug]))
