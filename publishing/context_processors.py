"""The respondent pages' pointer to a round's published results (a template hook).

The survey's own templates (task list, confirmation) show ``round_results`` when it is set
(``templates/includes/round_results.html``), without the survey knowing about public
releases. Asked only once a council's round is no longer open: a release is built after it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from publishing.comparison import NOT_READY, NOT_RESPONDED, state_of


def round_results(request: HttpRequest) -> dict[str, object]:
    respondent = getattr(request, "respondent", None)
    if respondent is None or respondent.open:
        return {}
    state = state_of(respondent.response)
    if state.status == NOT_READY:
        return {}
    if state.status == NOT_RESPONDED:
        text = "This round's results are published. See them, and how to take part next round."
    else:
        text = "This round's results are published. See how your council compares."
    return {"round_results": {"url": reverse("comparison:compare"), "text": text}}
