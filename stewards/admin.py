from django.contrib import admin

from stewards.models import ResponseAccess


@admin.register(ResponseAccess)
class ResponseAccessAdmin(admin.ModelAdmin):
    """Read-only: the record of who read individual answers is never edited."""

    list_display = ["at", "user", "kind", "survey", "response"]
    list_filter = ["kind", "survey"]
    list_select_related = ["user", "survey", "response__authority"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
