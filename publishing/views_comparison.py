"""How your council compares: a council's own page, through its link (surveys.respondent).

Reached from the task list while the council's session lasts, or from the council's link
after the round has closed (``surveys.after_close``: a session that opens this page only).
Read-only: nothing here changes an answer.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from publishing.comparison import (
    NOT_READY,
    NOT_RESPONDED,
    READY,
    WITHDRAWN,
    comparison,
    public_release_url,
    state_of,
)
from reporting.publication import Publication
from surveys.after_close import open_after_close
from surveys.respondent import respondent_context, respondent_required


@respondent_required
@open_after_close
def compare(request: HttpRequest) -> HttpResponse:
    response = request.respondent.response
    state = state_of(response)
    context = {
        **respondent_context(request),
        "state": state.status,
        "public": state.public,
        "READY": READY,
        "NOT_RESPONDED": NOT_RESPONDED,
        "WITHDRAWN": WITHDRAWN,
        "NOT_READY": NOT_READY,
    }
    if state.public is not None:
        context["release_url"] = public_release_url(state.public)
    if state.status == READY:
        context["comparison"] = comparison(response, Publication(state.public.release))
    return render(request, "publishing/comparison.html", context)
