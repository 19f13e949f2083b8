"""A council's comparison, under the respondent journey's /survey/ (survey_site.urls)."""

from django.urls import path

from publishing import views_comparison

app_name = "comparison"

urlpatterns = [
    path("survey/compare/", views_comparison.compare, name="compare"),
]
