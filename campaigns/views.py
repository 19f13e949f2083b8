"""Administrators' campaign pages: the tracker, sending, previews and extensions.

Every page needs ``surveys.view_tracker`` (analysts get 403; anonymous users go to the
sign-in page); sending and extending also need ``surveys.change_survey``. The tracker
shows who has responded, never what they answered.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from authorities.choices import AuthorityKind, Region
from authorities.models import GSS_CODE_PATTERN, Authority
from campaigns.choices import TemplateKind, TrackerStatus
from campaigns.exports import tracker_csv, tracker_xlsx
from campaigns.forms import ExtensionForm, PreviewForm, TrackerFilterForm
from campaigns.health import email_health
from campaigns.models import Campaign
from campaigns.progress import batch_latest, batch_progress
from campaigns.selectors import (
    CANCELLED_EMAILS,
    FAILED,
    KIND_LABELS,
    QUEUED,
    REGION_LABELS,
    SENT,
    contact_problem,
    percentage,
    tracker_filter,
    tracker_get,
    tracker_table,
)
from campaigns.services import (
    ALREADY_EMAILED,
    deadline_extend,
    email_resend,
    invitations_plan,
    invitations_send,
    message_preview,
    reminders_plan,
    reminders_send_now,
)
from outbox.models import OutboundEmail
from survey_site.formatting import deadline_text
from survey_site.roles import holds, role_required
from surveys.models import Response, Survey
from surveys.selectors import survey_population
from surveys.services import response_deadline

VIEW = "surveys.view_tracker"
CHANGE = "surveys.change_survey"


def administrators_only(view):
    return role_required(VIEW)(never_cache(view))


def _require_change(request: HttpRequest) -> None:
    if not holds(request.user, CHANGE):
        raise PermissionDenied


def _actor(request: HttpRequest) -> str:
    return f"Administrator {request.user.get_username()}"


# Values that only a tampered form sends get the 400 page, never a 500: a database id
# that is not a number, or a council code with characters PostgreSQL refuses (NUL).
ID = re.compile(r"[0-9]{1,18}", re.ASCII)


def _posted_id(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    if not ID.fullmatch(value):
        raise BadRequest(f"{name} is not an id")
    return int(value)


def _posted_gss_codes(request: HttpRequest) -> list[str]:
    codes = request.POST.getlist("council")
    if not all(re.fullmatch(GSS_CODE_PATTERN, code) for code in codes):
        raise BadRequest("council is not a GSS code")
    return codes


@administrators_only
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    rounds = Survey.objects.order_by("-opens_at")
    return render(request, "campaigns/campaign_index.html", {"rounds": rounds})


def _filtered(request: HttpRequest, survey: Survey):
    form = TrackerFilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    tracker = tracker_get(survey=survey)
    rows = tracker_filter(
        tracker.rows,
        statuses=data.get("status"),
        kinds=data.get("kind"),
        regions=data.get("region"),
        outstanding_only=not data.get("everyone"),
        query=data.get("q", ""),
    )
    return form, tracker, rows


TRACKER_PAGE_SIZE = 100
EMAIL_STATES = [
    (SENT, "Sent"),
    (QUEUED, "Queued, not sent yet"),
    (FAILED, "Failed or bounced"),
    (CANCELLED_EMAILS, "Cancelled (no longer needed)"),
]


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@administrators_only
@require_GET
def tracker(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    form, tracker, rows = _filtered(request, survey)
    page = Paginator(rows, TRACKER_PAGE_SIZE).get_page(request.GET.get("page"))
    statuses = list(TrackerStatus)
    kind_head, kind_rows = tracker_table(tracker.by_kind, KIND_LABELS)
    region_head, region_rows = tracker_table(tracker.by_region, REGION_LABELS)
    numeric = list(range(1, len(statuses) + 3))
    batch = batch_latest(survey=survey)
    return render(
        request,
        "campaigns/tracker.html",
        {
            "survey": survey,
            "form": form,
            "tracker": tracker,
            "rows": page.object_list,
            "page": page,
            "listed": len(rows),
            "page_query": _without_page(request),
            "total": len(tracker.rows),
            "status_counts": [
                (s.label, tracker.by_status[s], percentage(tracker.by_status[s], len(tracker.rows)))
                for s in statuses
            ],
            "status_head": ["Status", "Councils", "Share of councils"],
            "email_head": ["Emails", "Number"],
            "batch": batch,
            "health": email_health(),
            "batch_progress": batch_progress(batch) if batch else None,
            "submitted": tracker.by_status[TrackerStatus.SUBMITTED],
            "status_numeric": [1, 2],
            "email_counts": [
                (label, tracker.emails[state])
                for state, label in EMAIL_STATES
                if tracker.emails[state] or state in (QUEUED, SENT)
            ],
            "kind_head": kind_head,
            "kind_rows": kind_rows,
            "region_head": region_head,
            "region_rows": region_rows,
            "numeric_columns": numeric,
            "query": request.GET.urlencode(),
            "can_send": holds(request.user, CHANGE),
            "status_choices": TrackerStatus.choices,
            "kind_choices": AuthorityKind.choices,
            "region_choices": Region.choices,
        },
    )


@administrators_only
@require_GET
def tracker_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    _, _, rows = _filtered(request, survey)
    stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
    if fmt == "csv":
        response = HttpResponse(tracker_csv(rows), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            tracker_xlsx(rows, f"Outstanding councils: {survey.name}"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    filename = f"outstanding-{survey.slug}-{stamp}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


ACTIONS = {
    "invite": (invitations_plan, invitations_send, "Invitations"),
    "remind": (reminders_plan, reminders_send_now, "Reminders"),
}


def _sent_message(request: HttpRequest, what: str, report) -> None:
    """Say what was queued; a send that queued nothing is not a success."""
    text = f"{what}: {report}"
    reasons = report.skipped_by_reason()
    if reasons:
        text += " (" + "; ".join(f"{reason}: {count}" for reason, count in reasons) + ")"
    (messages.success if report.queued else messages.info)(request, text)


@administrators_only
@require_POST
def tracker_action(request: HttpRequest, slug: str) -> HttpResponse:
    """Invite or remind all or selected councils, or resend a failed email.

    Invitations and reminders are confirmed first: without `confirmed`, the page says
    how many councils would get which email, and how many would not and why.
    """
    _require_change(request)
    survey = get_object_or_404(Survey, slug=slug)
    back = reverse("campaigns:tracker", args=[survey.slug])
    codes = _posted_gss_codes(request)
    selection = None
    if request.POST.get("scope") == "selected":
        selection = list(survey_population(survey=survey).filter(gss_code__in=codes))
    action = request.POST.get("action", "")
    try:
        if action in ACTIONS and selection == []:
            messages.error(request, "Select at least one council")
        elif request.POST.get("resend"):
            email = get_object_or_404(
                OutboundEmail, pk=_posted_id(request, "resend"), response__survey=survey
            )
            email_resend(email=email, actor=_actor(request))
            messages.success(request, f"The email to {email.response.authority} will be sent again")
        elif action in ACTIONS and request.POST.get("confirmed") != "yes":
            plan_for, _, what = ACTIONS[action]
            plan = plan_for(survey=survey, authorities=selection)
            return render(
                request,
                "campaigns/send_confirm.html",
                {
                    "survey": survey,
                    "plan": plan,
                    "what": what,
                    "action": action,
                    "selected": [a.gss_code for a in selection] if selection else [],
                    "scope": "selected" if selection else "all",
                    "sent_head": ["Email", "Councils"],
                    "skipped_head": ["Why not", "Councils"],
                    "numeric": [1],
                },
            )
        elif action in ACTIONS:
            _, send, what = ACTIONS[action]
            report = send(survey=survey, authorities=selection, actor=_actor(request))
            _sent_message(request, what, report)
        else:
            messages.info(request, "Choose what to send")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    response = redirect(back)
    response.status_code = 303
    return response


@administrators_only
@require_GET
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    # Previewing writes nothing: a round without a campaign yet shows the default emails.
    campaign = Campaign.objects.filter(survey=survey).first() or Campaign(survey=survey)
    councils = survey_population(survey=survey).order_by("official_name")
    form = PreviewForm(request.GET or None)
    rendered = None
    authority = None
    if form.is_bound and form.is_valid():
        authority = councils.filter(gss_code=form.cleaned_data["council"]).first()
        if authority is None:
            form.add_error("council", "Select a council of this round")
        else:
            rendered = message_preview(
                campaign=campaign,
                kind=form.cleaned_data["kind"],
                authority=authority,
                now=timezone.now(),
            )
    return render(
        request,
        "campaigns/email_preview.html",
        {
            "survey": survey,
            "form": form,
            "councils": councils,
            "kinds": TemplateKind.choices,
            "rendered": rendered,
            "authority": authority,
            "preview_errors": [
                (f"preview-{name}", message)
                for name, errors in form.errors.items()
                for message in errors
            ],
        },
    )


@administrators_only
@require_http_methods(["GET", "POST"])
def extension(request: HttpRequest, slug: str, gss_code: str) -> HttpResponse:
    survey = get_object_or_404(Survey, slug=slug)
    if not re.fullmatch(GSS_CODE_PATTERN, gss_code):
        raise Http404
    authority = get_object_or_404(Authority, gss_code=gss_code)
    response = get_object_or_404(Response, survey=survey, authority=authority)
    errors = []
    if request.method == "POST":
        _require_change(request)
        form = ExtensionForm(request.POST)
        if form.is_valid():
            until = form.cleaned_data["until"]
            try:
                extension = deadline_extend(response=response, until=until, actor=_actor(request))
            except ValidationError as error:
                errors = [("extension-day", m) for m in error.messages]
            else:
                messages.success(
                    request, f"{authority}'s deadline is extended to {deadline_text(until)}"
                )
                if extension.email:
                    messages.info(
                        request,
                        f"An email telling {authority.chief_executive_name} "
                        f"({extension.email.to_address}) the new deadline is queued: "
                        "the tracker shows when it has been sent",
                    )
                else:
                    messages.warning(
                        request,
                        f"No email was sent to {authority}: {extension.not_emailed}. "
                        "Tell the council yourself"
                        + (
                            ", or set its contact and give the same deadline again"
                            if extension.not_emailed != ALREADY_EMAILED
                            else ""
                        ),
                    )
                page = redirect("campaigns:tracker", survey.slug)
                page.status_code = 303
                return page
        else:
            errors = [("extension-day", m) for m in form.non_field_errors()]
    else:
        form = ExtensionForm()
    return render(
        request,
        "campaigns/extension_form.html",
        {
            "survey": survey,
            "authority": authority,
            "response": response,
            "deadline": response_deadline(response),
            "contact_problem": contact_problem(authority),
            "form": form,
            "errors": errors,
        },
    )


@never_cache
@require_GET
def healthz_email(request: HttpRequest) -> HttpResponse:
    """For an operator's monitor: 200 while emails move, 503 with a short reason when
    they are stuck (campaigns.health). Counts and ages only, no personal data."""
    health = email_health()
    return JsonResponse(health.as_json(), status=503 if health.stuck else 200)
