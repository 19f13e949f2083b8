import io
import logging
from collections import defaultdict

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.utils import timezone

from survey_site.admin import ReadOnlyAdmin
from survey_site.exports import write_csv
from surveys.choices import RevokeContributors
from surveys.contributors import council_link_reissue
from surveys.models import (
    Channel,
    KeyTransaction,
    LinkDownload,
    LinkDownloadKind,
    Question,
    Questionnaire,
    Response,
    Section,
    Survey,
)
from surveys.selectors import survey_population
from surveys.services import link_url, links_issue_for_survey

logger = logging.getLogger(__name__)


def _links_csv(request: HttpRequest, kind: str, filename: str, issued) -> HttpResponse:
    """A CSV of live links from (survey, authority, link) triples; the download is
    recorded (LinkDownload) per round before the file is handed over."""
    issued = list(issued)
    councils: dict = defaultdict(list)
    for survey, authority, _link in issued:
        councils[survey].append(authority.gss_code)
    for survey, codes in councils.items():
        LinkDownload.objects.create(
            user=request.user, survey=survey, kind=kind, council_count=len(codes), gss_codes=codes
        )
        # Ids only: no council name or link in the log.
        logger.info(
            "council links downloaded: user %s, round %s, %d councils",
            request.user.pk,
            survey.pk,
            len(codes),
        )
    buffer = io.StringIO()
    write_csv(
        buffer,
        ["gss_code", "council_name", "link"],
        ((a.gss_code, a.official_name, link_url(link)) for _s, a, link in issued),
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


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
    actions = ["issue_links"]
    # Once a round's results are published (reporting.models), councils must not be able to
    # answer again: a second release is never published, so their answers would be lost.
    FIXED_ONCE_PUBLISHED = ["opens_at", "closes_at", "status", "population", "chosen_authorities"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.releases.filter(published_at__isnull=False).exists():
            fields += self.FIXED_ONCE_PUBLISHED
        return fields

    @admin.action(description="Create missing council links and download them (CSV)")
    def issue_links(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose one survey round.", messages.ERROR)
            return None
        survey = queryset.get()
        issued = links_issue_for_survey(
            survey=survey, authorities=survey_population(survey=survey).order_by("gss_code")
        )
        return _links_csv(
            request,
            LinkDownloadKind.ISSUED,
            f"links-{survey.slug}-{timezone.now():%Y%m%d-%H%M}.csv",
            ((survey, a, link) for a, link in issued),
        )


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    """Where each council stands; never what it answered (that needs its own permission)."""

    list_display = ["authority", "survey", "status", "submitted_at", "reference"]
    list_filter = ["survey", "status", "authority__kind", "authority__region"]
    search_fields = ["authority__official_name", "authority__gss_code", "reference"]
    fields = [
        "survey",
        "authority",
        "status",
        "reference",
        "started_at",
        "submitted_at",
        "submission_count",
        "deadline_extended_to",
    ]
    readonly_fields = [
        "survey",
        "authority",
        "status",
        "reference",
        "started_at",
        "submitted_at",
        "submission_count",
    ]
    actions = ["reissue_links", "reissue_links_revoking_all", "reissue_links_keeping_contributors"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _reissue(self, request: HttpRequest, queryset, revoke: str) -> HttpResponse:
        """Re-issue each council's link, say what happened to its contributors, and
        download the new links."""
        rows, done = [], []
        for response in queryset.select_related("authority", "survey"):
            reissued = council_link_reissue(
                response=response,
                reason="Re-issued in the admin",
                actor=f"Administrator {request.user.get_username()}",
                revoke=revoke,
            )
            authority = response.authority
            rows.append((response.survey, authority, reissued.link))
            done.append(f"{authority.official_name}: {reissued.describe(revoke)}")
        self.message_user(
            request,
            f"Re-issued {len(rows)} council link{pluralize(len(rows))}. "
            f"Contributors: {'; '.join(done)}.",
        )
        return _links_csv(
            request,
            LinkDownloadKind.REISSUED,
            f"reissued-links-{timezone.now():%Y%m%d-%H%M}.csv",
            rows,
        )

    @admin.action(
        description="Re-issue links, revoking contributors added since the last issue "
        "(old links stop working; drafts are kept)"
    )
    def reissue_links(self, request: HttpRequest, queryset) -> HttpResponse:
        return self._reissue(request, queryset, RevokeContributors.SINCE_ISSUE)

    @admin.action(description="Re-issue links, revoking every contributor")
    def reissue_links_revoking_all(self, request: HttpRequest, queryset) -> HttpResponse:
        return self._reissue(request, queryset, RevokeContributors.ALL)

    @admin.action(description="Re-issue links, keeping every contributor")
    def reissue_links_keeping_contributors(self, request: HttpRequest, queryset) -> HttpResponse:
        return self._reissue(request, queryset, RevokeContributors.NONE)


@admin.register(LinkDownload)
class LinkDownloadAdmin(ReadOnlyAdmin):
    """Read-only: the record of who downloaded live council links is never edited."""

    list_display = ["at", "user", "kind", "survey", "council_count"]
    list_filter = ["kind", "survey"]
    list_select_related = ["user", "survey"]
    fields = ["at", "user", "kind", "survey", "council_count", "gss_codes"]
    readonly_fields = fields
    date_hierarchy = "at"
