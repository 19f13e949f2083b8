"""Public statistics releases (no sign-in) and the pages that prepare them."""

from django.urls import path  # noqa: F401 (patterns follow)

app_name = "publishing"

urlpatterns: list = []
