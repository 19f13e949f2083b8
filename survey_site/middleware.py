"""CSRF for the access-link landing page, which must send no Referer.

The landing page's URL holds the access token, so it is served with
`Referrer-Policy: no-referrer` (OWASP ASVS 3.4.5). Browsers then send its Continue POST
with `Origin: null` and no Referer, which Django's origin and Referer checks refuse. The
landing view is therefore exempt from the site-wide middleware and protected by this
decorator instead: when, and only when, the browser sent exactly that (a null Origin and
no Referer), the token check alone applies; the CSRF cookie and form token must still
match. A man in the middle cannot plant the cookie, since in production it is a Secure
`__Host-` cookie on an HSTS domain. Every other view keeps Django's full checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt


class NoReferrerCsrfViewMiddleware(CsrfViewMiddleware):
    def process_view(self, request: HttpRequest, callback, callback_args, callback_kwargs):
        if (
            request.method == "POST"
            and request.META.get("HTTP_ORIGIN") == "null"
            and not request.META.get("HTTP_REFERER")
        ):
            del request.META["HTTP_ORIGIN"]
            request._csrf_no_referrer = True
        return super().process_view(request, callback, callback_args, callback_kwargs)

    def _check_referer(self, request: HttpRequest) -> None:
        if getattr(request, "_csrf_no_referrer", False):
            return
        super()._check_referer(request)


_protect = decorator_from_middleware(NoReferrerCsrfViewMiddleware)


def csrf_token_only(view: Callable) -> Callable:
    """CSRF protection for a no-referrer page: see the module docstring."""
    return csrf_exempt(_protect(view))


class SlidingSessionMiddleware:
    """Keep an idle timeout without writing the session row on every request.

    SESSION_SAVE_EVERY_REQUEST would UPDATE the session on every page view and save.
    Refreshing the expiry once a minute keeps the idle timeout within a minute of exact
    and saves that write on most requests. Put it after SessionMiddleware.
    """

    REFRESH_SECONDS = 60
    KEY = "_refreshed"

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.is_empty():
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.REFRESH_SECONDS:
                session[self.KEY] = now  # marks it modified: saved with a new expiry
        return response


STAFF_SINCE = "_staff_since"


@receiver(user_logged_in, dispatch_uid="survey_site.staff_session_start")
def staff_session_start(sender, request: HttpRequest, user, **kwargs) -> None:
    """Note when a staff session began: /sign-in/, the admin's login, any login()."""
    if request is not None and hasattr(request, "session"):
        request.session[STAFF_SINCE] = int(time.time())


class StaffSessionLimitMiddleware:
    """Sign staff out STAFF_SESSION_MAX_HOURS after they signed in, however active they
    have been (OWASP ASVS 7.3.2), as respondents are after RESPONDENT_SESSION_MAX_HOURS.

    Enforced on the server at every request: the session is flushed, the request goes on
    signed out (to the sign-in page, for a staff page) and the sign-in page says why. A
    session with no start recorded is treated as too old. Put it after the
    authentication and message middleware.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Only requests with a session cookie can hold a staff session: the others (most
        # respondents' first requests, health checks) never load one here.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and SESSION_KEY in request.session:
            since = request.session.get(STAFF_SINCE, 0)
            if time.time() - since >= settings.STAFF_SESSION_MAX_HOURS * 3600:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out because you had been signed in for "
                    f"{settings.STAFF_SESSION_MAX_HOURS} hours. Sign in again to continue.",
                )
        return self.get_response(request)
