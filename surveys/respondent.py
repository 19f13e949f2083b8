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
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache

from authorities.models import AccessLink
from surveys import compiled
from surveys.models import Contributor, Response, Section
from surveys.services import (
    response_deadline,
    response_grace_deadline,
    response_is_editable,
    response_is_open,
)

SESSION_KEY = "respondent"
COUNCIL_ACTOR = "Council link holder"
AUTOSAVE = "autosave"  # the `action` of a page's background save


def is_autosave(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("action") == AUTOSAVE


@dataclass
class Respondent:
    link: AccessLink
    response: Response
    actor: str
    editable: bool
    open: bool
    deadline: datetime.datetime
    # The absolute end of this session (RESPONDENT_SESSION_MAX_HOURS after opening the link),
    # whatever the activity: the page warns before it, as before the idle timeout.
    session_ends_at: datetime.datetime
    contributor: Contributor | None = None
    section_ids: frozenset[int] | None = None  # None: every section
    # The council's deadline (and any grace) has passed: not merely submitted or paused.
    deadline_passed: bool = False
    # A session opened from the link after the round closed (surveys.after_close): the
    # one page it may open; it reaches no page of the journey. Empty: the whole journey.
    after_close: str = ""

    @property
    def is_link_holder(self) -> bool:
        """The council's own link: the chief executive's office."""
        return self.contributor is None

    @property
    def can_submit(self) -> bool:
        return self.contributor is None or self.contributor.can_submit

    def may_answer(self, section: Section) -> bool:
        return self.section_ids is None or section.pk in self.section_ids


def respondent_login(
    request: HttpRequest, link: AccessLink, now: datetime.datetime, *, after_close: str = ""
) -> None:
    """Start a fresh session for this link (a new key: no fixation). ``after_close``: the
    one page a link opened after its round closed may reach (see surveys.after_close)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "link": link.pk,
        "response": link.response_id,
        "since": now.timestamp(),
        **({"after_close": after_close} if after_close else {}),
    }


ENDED_KEY = "respondent_ended"  # why a signed-in session was ended: shown once, then gone
REMOVED, REPLACED, WITHDRAWN = "removed", "replaced", "withdrawn"


def _why_ended(link: AccessLink) -> dict[str, str]:
    """A removed contributor; a link replaced by a new one; or one withdrawn outright."""
    from surveys.selectors import link_current

    if link.contributor is not None and link.contributor.is_revoked:
        reason = REMOVED
    elif link_current(link=link) is not None:
        reason = REPLACED
    else:
        reason = WITHDRAWN
    return {
        "reason": reason,
        "council": link.response.authority.official_name,
        "holder": "contributor" if link.contributor is not None else "council",
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
    max_session = datetime.timedelta(hours=settings.RESPONDENT_SESSION_MAX_HOURS)
    if now - since > max_session:
        respondent_logout(request)
        return None
    link_id, response_id = state.get("link"), state.get("response")
    found = (
        compiled.RESPONDENT_LINK(link=link_id, response=response_id)
        if isinstance(link_id, int) and isinstance(response_id, int)
        else []
    )
    link = found[0] if found else None
    if link is None or link.is_revoked or (link.contributor and link.contributor.is_revoked):
        respondent_logout(request)
        if link is not None:
            # Say why on the next page, to this session only (it was signed in).
            request.session[ENDED_KEY] = _why_ended(link)
        return None
    response = link.response
    contributor = link.contributor
    section_ids = None
    if contributor is not None and not contributor.all_sections:
        section_ids = frozenset(contributor.sections.values_list("pk", flat=True))
    return Respondent(
        contributor=contributor,
        section_ids=section_ids,
        link=link,
        response=response,
        actor=contributor.label if contributor else COUNCIL_ACTOR,
        editable=response_is_editable(response, now),
        open=response_is_open(response, now),
        deadline=response_deadline(response),
        session_ends_at=since + max_session,
        deadline_passed=now >= response_grace_deadline(response),
        after_close=str(state.get("after_close") or ""),
    )


def respondent_context(request: HttpRequest) -> dict[str, object]:
    """What every page of a respondent session shows (base_respondent.html): the council,
    the round, the deadline and the session's timeouts for the warning."""
    respondent: Respondent = request.respondent
    return {
        "respondent": respondent,
        "response": respondent.response,
        "authority": respondent.response.authority,
        "survey": respondent.response.survey,
        "deadline": respondent.deadline,
        # The expiry slides at most once a minute (SlidingSessionMiddleware), so the
        # browser counts from up to a minute earlier than the server.
        "respondent_timeout_seconds": settings.SESSION_COOKIE_AGE
        - min(60, settings.SESSION_COOKIE_AGE // 4),
        # Seconds until the session ends whatever the activity (the absolute limit).
        "respondent_session_left_seconds": max(
            0, int((respondent.session_ends_at - timezone.now()).total_seconds())
        ),
        "respondent_session_max_hours": settings.RESPONDENT_SESSION_MAX_HOURS,
    }


def respondent_required(view: Callable) -> Callable:
    """Views of the journey: need a live respondent session; never cached."""

    @never_cache
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        respondent = respondent_from_request(request)
        if respondent is None:
            if is_autosave(request):
                # A background save cannot follow a redirect to a page: it says so itself.
                return JsonResponse({"saved": False, "reason": "session ended"}, status=401)
            return redirect("surveys:session-ended")
        if respondent.after_close and not getattr(view, "open_after_close", False):
            # Opened after the round closed: no page of the journey, only the one it came for.
            if is_autosave(request):
                return JsonResponse({"saved": False, "reason": "round closed"}, status=409)
            return redirect(respondent.after_close)
        request.respondent = respondent
        return view(request, *args, **kwargs)

    return wrapper
