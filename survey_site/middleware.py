"""CSRF for the access-link landing page, which must send no Referer.

The landing page's URL holds the access token, so it is served with
`Referrer-Policy: no-referrer` (OWASP ASVS 3.4.5). Browsers then send its Continue POST
with `Origin: null` and no Referer, which Django's origin and Referer checks refuse. For
views marked `csrf_token_only`, and only when the browser sent exactly that (a null
Origin), the token check alone applies: the CSRF cookie and form token must still match.
A man in the middle cannot plant the cookie, since in production it is a Secure
`__Host-` cookie on an HSTS domain.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware


def csrf_token_only(view: Callable) -> Callable:
    view.csrf_token_only = True
    return view


class CsrfViewMiddleware(DjangoCsrfViewMiddleware):
    def process_view(self, request: HttpRequest, callback, callback_args, callback_kwargs):
        if (
            getattr(callback, "csrf_token_only", False)
            and request.method == "POST"
            and request.META.get("HTTP_ORIGIN") == "null"
            and not request.META.get("HTTP_REFERER")
        ):
            del request.META["HTTP_ORIGIN"]
            request._csrf_token_only = True
        return super().process_view(request, callback, callback_args, callback_kwargs)

    def _check_referer(self, request: HttpRequest) -> None:
        if getattr(request, "_csrf_token_only", False):
            return
        super()._check_referer(request)
