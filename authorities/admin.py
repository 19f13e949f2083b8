from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from authorities.models import ENGLAND_2015_DATE, Authority


class PopulationFilter(admin.SimpleListFilter):
    title = "population"
    parameter_name = "population"

    def lookups(self, request, model_admin):
        return [("2015", "Existing on 1 July 2015"), ("current", "Current")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "2015":
            return queryset.existing_on(ENGLAND_2015_DATE)
        if self.value() == "current":
            return queryset.current()
        return queryset


class HasContactFilter(admin.SimpleListFilter):
    title = "chief executive contact"
    parameter_name = "contact"

    def lookups(self, request, model_admin):
        return [("yes", "Has an email address"), ("no", "No email address")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.exclude(chief_executive_email="")
        if self.value() == "no":
            return queryset.filter(chief_executive_email="")
        return queryset


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["official_name", "gss_code", "code", "kind", "region", "end_date"]
    list_filter = [PopulationFilter, "kind", "region", HasContactFilter]
    search_fields = ["official_name", "short_name", "gss_code", "code", "former_gss_codes"]
    # Successions come from the register (import_authorities reads its replaced_by column).
    readonly_fields = ["created_at", "updated_at", "replaced_by", "replaced"]
    autocomplete_fields = ["county"]
    fieldsets = [
        (None, {"fields": ["official_name", "short_name", "name_2015", "kind", "region"]}),
        ("Codes", {"fields": ["gss_code", "former_gss_codes", "code"]}),
        ("Existence", {"fields": ["start_date", "end_date", "county", "website"]}),
        ("Reorganisations", {"fields": ["replaced_by", "replaced"]}),
        ("Chief executive", {"fields": ["chief_executive_name", "chief_executive_email"]}),
        ("Chasing by phone", {"fields": ["switchboard_phone"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="replaced by")
    def replaced_by(self, obj: Authority) -> str:
        return _councils(obj.successors.all()) if obj.pk else "-"

    @admin.display(description="replaced")
    def replaced(self, obj: Authority) -> str:
        return _councils(obj.predecessors.all()) if obj.pk else "-"


def _councils(councils: QuerySet) -> str:
    names = [f"{a.official_name} ({a.code})" for a in councils.order_by("official_name")]
    return ", ".join(names) or "-"
