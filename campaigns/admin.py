from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns.models import Campaign, EmailTemplate
from campaigns.services import invitations_send, reminders_send_now
from outbox.models import EmailAttempt
from survey_site.admin import ReadOnlyAdmin
from surveys.models import EmailKind


class EmailTemplateInline(admin.StackedInline):
    model = EmailTemplate
    extra = 0
    fields = ["kind", "subject", "body"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """A round's reminder cadence and emails; sending from here or from the tracker."""

    list_display = ["survey", "reminder_days", "reminder_time", "max_reminders", "tracker_link"]
    fields = ["survey", "reminder_days", "reminder_time", "min_gap_hours", "max_reminders"]
    inlines = [EmailTemplateInline]
    actions = ["send_invitations", "send_reminders"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["survey"] if obj else []

    @admin.display(description="Tracker")
    def tracker_link(self, obj: Campaign) -> str:
        url = reverse("campaigns:tracker", args=[obj.survey.slug])
        return format_html('<a href="{}">Tracker and preview</a>', url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from campaigns.services import campaign_get_or_create

        campaign_get_or_create(survey=form.instance.survey)  # fill in missing default emails

    def _each(self, request: HttpRequest, queryset, send, what: str) -> None:
        for campaign in queryset.select_related("survey"):
            try:
                report = send(
                    survey=campaign.survey, actor=f"Administrator {request.user.get_username()}"
                )
            except ValidationError as error:
                self.message_user(
                    request, f"{campaign.survey}: {' '.join(error.messages)}", messages.ERROR
                )
                continue
            self.message_user(request, f"{what} for {campaign.survey}: {report}")
            for reason, count in report.skipped_by_reason():
                self.message_user(request, f"Not sent, {reason.lower()}: {count}", messages.WARNING)

    @admin.action(description="Send invitations to every council not yet invited")
    def send_invitations(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, invitations_send, "Invitations")

    @admin.action(description="Send a reminder now to every outstanding council")
    def send_reminders(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, reminders_send_now, "Reminders")


@admin.register(EmailAttempt)
class EmailAttemptAdmin(ReadOnlyAdmin):
    """The record of every try to send an email: council, kind, time and outcome."""

    list_display = ["attempted_at", "council", "kind", "outcome", "error", "next_attempt_at"]
    list_filter = ["outcome", "email__kind", "email__response__survey"]
    search_fields = ["email__response__authority__official_name"]
    list_select_related = ["email__response__authority"]

    @admin.display(description="Council")
    def council(self, obj: EmailAttempt) -> str:
        return str(obj.email.response.authority)

    @admin.display(description="Email")
    def kind(self, obj: EmailAttempt) -> str:
        return EmailKind(obj.email.kind).label
