"""Data stewards' pages: the councils' own answers, read one at a time, and every reading
recorded (stewards.models.ResponseAccess).

Every page needs ``surveys.view_individual_responses`` (others get 403; anonymous users go
to the sign-in page); the raw figures download also needs ``surveys.export_responses``.
Nothing here changes an answer, and nothing is cached by the browser.
"""

from __future__ import annotations

import io
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reporting.selectors_raw import RAW_HEADER, raw_figure_rows
from stewards.models import AccessKind, ResponseAccess
from stewards.selectors import rounds_with_counts, submitted_responses
from survey_site.exports import write_csv
from survey_site.roles import holds, role_required
from surveys.choices import ResponseStatus
from surveys.models import Response, Survey
from surveys.pages import answers_summary
from surveys.selectors import response_data

logger = logging.getLogger(__name__)

VIEW = "surveys.view_individual_responses"
EXPORT = "surveys.export_responses"


def stewards_only(view):
    return role_required(VIEW)(never_cache(require_GET(view)))


def _record(request: HttpRequest, survey: Survey, kind: str, response=None) -> None:
    ResponseAccess.objects.create(user=request.user, survey=survey, response=response, kind=kind)
    # Ids only: the log carries no council name, answer or username.
    logger.info(
        "individual answers %s: user %s, round %s, response %s",
        kind,
        request.user.pk,
        survey.pk,
        response.pk if response else "-",
    )


@stewards_only
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "stewards/index.html", {"rounds": rounds_with_counts()})


@stewards_only
def responses(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    return render(
        request,
        "stewards/responses.html",
        {
            "survey": survey,
            "responses": submitted_responses(survey=survey),
            "can_export": holds(request.user, EXPORT),
        },
    )


@stewards_only
def response_detail(request: HttpRequest, slug: str, gss_code: str) -> HttpResponse:
    response = (
        Response.objects.select_related("survey__questionnaire", "authority")
        .filter(survey__slug=slug, authority__gss_code=gss_code)
        .first()
    )
    # Only submitted answers: a draft or a response being corrected is the council's own.
    if response is None or response.status != ResponseStatus.SUBMITTED:
        raise Http404("No submitted response")
    _record(request, response.survey, AccessKind.VIEWED, response)
    data = response_data(response=response)
    return render(
        request,
        "stewards/response.html",
        {
            "survey": response.survey,
            "response": response,
            "summary": answers_summary(data, editable=False),
        },
    )


@stewards_only
def figures_csv(request: HttpRequest, slug: str) -> HttpResponse:
    if not holds(request.user, EXPORT):
        raise PermissionDenied
    survey = get_object_or_404(Survey, slug=slug)
    _record(request, survey, AccessKind.EXPORTED)
    stream = io.StringIO()
    write_csv(stream, RAW_HEADER, raw_figure_rows(survey=survey))
    download = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
    download["Content-Disposition"] = f'attachment; filename="{survey.slug}-figures.csv"'
    return download
