from django.contrib import admin
from django.http import HttpRequest

from surveys.models import Channel, KeyTransaction, Question, Questionnaire, Section, Survey


class LockedWhenAnsweredInline(admin.TabularInline):
    """Questionnaire content is read-only once any council has responded."""

    extra = 0

    def _locked(self, obj) -> bool:
        return obj is not None and obj.has_responses

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


class ChannelInline(LockedWhenAnsweredInline):
    model = Channel
    fields = ["order", "code", "name", "is_digital", "is_assisted", "default_unit_cost"]


class TransactionInline(LockedWhenAnsweredInline):
    model = KeyTransaction
    fields = ["number", "slug", "name", "lgsl_code", "tiers"]


class SectionInline(LockedWhenAnsweredInline):
    model = Section
    fields = ["order", "slug", "title", "kind", "optional"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "copied_from", "created_at"]
    search_fields = ["version", "title"]
    inlines = [SectionInline, TransactionInline, ChannelInline]
    readonly_fields = ["copied_from", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.has_responses:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.has_responses:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["slug", "text", "kind", "section", "required", "free_text"]
    list_filter = ["section__questionnaire", "kind", "free_text", "required"]
    search_fields = ["slug", "text"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.section.questionnaire.has_responses:
            return False
        return super().has_change_permission(request, obj)


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "population", "opens_at", "closes_at"]
    list_filter = ["status", "population", "questionnaire"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["chosen_authorities"]
    readonly_fields = ["created_at"]
