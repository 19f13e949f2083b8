"""The respondent's session: which response it may touch, as whom, until when.

Opening a link is exchanged for a session (a CSRF-protected POST, new session key);
every later request checks that the link is still live, so revoking a link ends its
sessions at once, server-side. The session holds ids only: answers live in the database.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache

from authorities.models import AccessLink
from surveys.models import Response
from surveys.services import response_deadline, response_is_editable, response_is_open

SESSION_KEY = "respondent"
COUNCIL_ACTOR = "Council link holder"


@dataclass
class Respondent:
    link: AccessLink
    response: Response
    actor: str
    editable: bool
    open: bool
    deadline: datetime.datetime
    session_expires_at: datetime.datetime


def respondent_login(request: HttpRequest, link: AccessLink, now: datetime.datetime) -> None:
    """Start a fresh session for this link (a new key: no fixation)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "link": link.pk,
        "response": link.response_id,
        "since": now.timestamp(),
    }


def respondent_logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def respondent_from_request(request: HttpRequest) -> Respondent | None:
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return None
    now = timezone.now()
    since = datetime.datetime.fromtimestamp(state.get("since", 0), tz=datetime.UTC)
    if now - since > datetime.timedelta(hours=settings.RESPONDENT_SESSION_MAX_HOURS):
        respondent_logout(request)
        return None
    link = (
        AccessLink.objects.select_related("response__survey__questionnaire", "response__authority")
        .filter(pk=state.get("link"), response_id=state.get("response"))
        .first()
    )
    if link is None or link.is_revoked:
        respondent_logout(request)
        return None
    response = link.response
    return Respondent(
        link=link,
        response=response,
        actor=COUNCIL_ACTOR,
        editable=response_is_editable(response, now),
        open=response_is_open(response, now),
        deadline=response_deadline(response),
        session_expires_at=now + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE),
    )


def respondent_required(view: Callable) -> Callable:
    """Views of the journey: need a live respondent session; never cached."""

    @never_cache
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        respondent = respondent_from_request(request)
        if respondent is None:
            return redirect("surveys:session-ended")
        request.respondent = respondent
        return view(request, *args, **kwargs)

    return wrapper
