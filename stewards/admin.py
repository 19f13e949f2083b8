from django.contrib import admin

from stewards.models import ResponseAccess
from survey_site.admin import ReadOnlyAdmin


@admin.register(ResponseAccess)
class ResponseAccessAdmin(ReadOnlyAdmin):
    """Read-only: the record of who read individual answers is never edited."""

    list_display = ["at", "user", "kind", "survey", "response"]
    list_filter = ["kind", "survey"]
    list_select_related = ["user", "survey", "response__authority"]
    date_hierarchy = "at"
