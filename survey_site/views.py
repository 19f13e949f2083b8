from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """Start page: what the survey is, and where each kind of user goes."""
    return render(request, "home.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A GOV.UK page instead of Django's CSRF debug page; nothing saved is lost."""
    return render(request, "403_csrf.html", status=403)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and the benchmark's baseline: no database, no template."""
    return HttpResponse("ok", content_type="text/plain")
