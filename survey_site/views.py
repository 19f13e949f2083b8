import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import defaults

from survey_site.forms import SignInForm
from survey_site.ratelimit import WINDOW_SECONDS
from survey_site.roles import holds

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """Start page: what the survey is, and where each kind of user goes."""
    return render(request, "home.html")


def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice (UK GDPR article 13): who holds what, why, for how long."""
    return render(
        request,
        "public/privacy.html",
        {
            "controller": settings.DATA_CONTROLLER,
            "retention_years": settings.CONTACT_DETAILS_RETENTION_YEARS,
            "idle_minutes": settings.RESPONDENT_SESSION_IDLE_MINUTES,
            "rate_limit_minutes": WINDOW_SECONDS // 60,
        },
    )


def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement, from the GOV.UK model statement."""
    return render(request, "public/accessibility.html")


def cookies(request: HttpRequest) -> HttpResponse:
    """The cookies the service sets: essential ones only, so no consent banner."""
    return render(
        request,
        "public/cookies.html",
        {
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "idle_minutes": settings.RESPONDENT_SESSION_IDLE_MINUTES,
        },
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A GOV.UK page instead of Django's CSRF debug page; nothing saved is lost."""
    return render(request, "403_csrf.html", status=403)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and the benchmark's baseline: no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


class SignInView(auth_views.LoginView):
    """Staff sign-in (analysts, survey administrators): no staff status needed.

    LoginView brings CSRF protection, no-store caching, a new session key on sign-in and
    a `next` honoured only for this site. django-axes limits failures here and on the
    admin's login alike (settings.AXES_*): a form with an empty field never reaches
    authentication, so it is not counted as a guess.
    """

    form_class = SignInForm
    template_name = "staff/sign_in.html"


def sign_in_refused(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout response, for /sign-in/ and the admin's login: a GOV.UK page
    (429), with nothing about the username or the client."""
    logger.warning("staff sign-in refused: too many failed attempts")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "staff/sign_in_refused.html", {"minutes": minutes}, status=429)


class SignOutView(auth_views.LogoutView):
    """POST only (Django refuses GET), then back to the sign-in page with a message."""

    next_page = "sign-in"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have signed out")
        return response


# Each role's start page, administrators first, and how a link to it reads.
ROLE_START_PAGES = [
    ("surveys.view_tracker", "campaigns:index", "Go to the survey rounds"),
    ("reporting.view_dashboards", "reporting:release-index", "Go to the protected releases"),
    ("surveys.view_individual_responses", "stewards:index", "Go to the councils' answers"),
]


def role_start(user) -> tuple[str, str]:
    """The start page of a signed-in user's role: (URL, link text)."""
    for permission, url_name, text in ROLE_START_PAGES:
        if holds(user, permission):
            return reverse(url_name), text
    if user.is_staff:
        return reverse("admin:index"), "Go to the administration site"
    return reverse("home"), "Go to the start page"


@login_required
def signed_in(request: HttpRequest) -> HttpResponse:
    """Where sign-in leads without a `next`: the pages the user's role may see."""
    return redirect(role_start(request.user)[0])


def _staff_error(request: HttpRequest, *, status: int) -> HttpResponse | None:
    """The error page for a signed-in member of staff, or None for anyone else (whose
    pages, the respondents', stay as they are)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    start_url, start_text = role_start(user)
    heading = "Page not found" if status == 404 else "You do not have permission to view this page"
    context = {
        "heading": heading,
        "not_found": status == 404,
        "start_url": start_url,
        "start_text": start_text,
    }
    return render(request, "staff/error.html", context, status=status)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: staff get a page for staff, respondents Django's, from 403.html."""
    return _staff_error(request, status=403) or defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: staff get a page for staff, respondents Django's, from 404.html."""
    return _staff_error(request, status=404) or defaults.page_not_found(request, exception)
