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
