"""Writes for campaigns: invitations, reminders, deadline extensions and resending.

Each email is an `OutboundEmail` row whose unique key is (round, council, kind,
sequence): creating it twice is a no-op, so running a command twice, two beat processes
or a retried task never email a council the same thing twice. Rows are created here and
sent in rate-limited batches by outbox.sending.email_dispatch (see there for the claim).
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from authorities.models import Authority
from campaigns.choices import TemplateKind
from campaigns.content import DEFAULTS, Rendered, render
from campaigns.models import Campaign, EmailTemplate, SendBatch
from campaigns.schedule import days_left_text, reminder_times, schedule_errors
from campaigns.selectors import contact_problem, extension_key
from outbox.models import EmailStatus, OutboundEmail
from outbox.sending import CANCELLED, LINK_MARKER, dispatch_on_commit, emails_send_on_commit
from survey_site.formatting import deadline_text
from surveys.choices import ChangeKind, ResponseStatus, SurveyStatus
from surveys.models import ChangeRecord, EmailKind, Response, Survey
from surveys.selectors import survey_population
from surveys.services import (
    email_enqueue,
    email_link_check,
    link_issue,
    response_deadline,
    response_get_or_create,
    responses_with_links,
)

logger = logging.getLogger(__name__)
CHUNK = 500  # councils per transaction when inviting a whole round
OUTSTANDING = (ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS, ResponseStatus.REOPENED)


@dataclass
class SendReport:
    """What a send did: emails queued, councils already emailed, and councils skipped."""

    queued: int = 0
    already: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # council name -> why
    email_ids: list[int] = field(default_factory=list)
    # Where the time went: "preparing" rows, "queueing" them for the worker (the commit
    # and the hand-over to the broker).
    seconds: Counter = field(default_factory=Counter)
    batch: SendBatch | None = None

    def __str__(self) -> str:
        return (
            f"{self.queued} queued, {self.already} already sent or queued, "
            f"{len(self.skipped)} skipped"
        )

    def skipped_by_reason(self) -> list[tuple[str, int]]:
        """Each reason for skipping councils with how many, most frequent first."""
        return Counter(self.skipped.values()).most_common()


@dataclass
class SendPlan:
    """What a send would do now, for the administrator to confirm: nothing is written.

    `emails` counts the councils that would get each email (by its label); `skipped`
    counts the councils that would not, by reason.
    """

    action: str
    emails: Counter = field(default_factory=Counter)
    already: int = 0
    skipped: Counter = field(default_factory=Counter)

    @property
    def councils(self) -> int:
        return sum(self.emails.values())

    # Lists for templates: a Counter answers any key, so {{ plan.emails.items }} is 0.
    @property
    def email_rows(self) -> list[tuple[str, int]]:
        return sorted(self.emails.items())

    @property
    def skipped_rows(self) -> list[tuple[str, int]]:
        return self.skipped.most_common()


# --- Campaign and templates -------------------------------------------------------


@transaction.atomic
def campaign_get_or_create(*, survey: Survey) -> Campaign:
    """The round's campaign, with the default emails the first time."""
    campaign, _ = Campaign.objects.get_or_create(survey=survey)
    existing = set(campaign.templates.values_list("kind", flat=True))
    EmailTemplate.objects.bulk_create(
        EmailTemplate(campaign=campaign, kind=kind, subject=subject, body=body)
        for kind, (subject, body) in DEFAULTS.items()
        if kind not in existing
    )
    return campaign


def campaign_schedule_set(
    *,
    campaign: Campaign,
    days_before: list[int],
    at: datetime.time,
    min_gap_hours: int,
    max_reminders: int,
) -> Campaign:
    """Set the reminder cadence; a cadence that cannot fit before the deadline is refused."""
    errors = schedule_errors(
        survey=campaign.survey,
        days_before=days_before,
        at=at,
        min_gap=datetime.timedelta(hours=min_gap_hours),
        max_reminders=max_reminders,
    )
    if errors:
        raise ValidationError(errors)
    campaign.reminder_days = ", ".join(str(d) for d in sorted(set(days_before), reverse=True))
    campaign.reminder_time = at
    campaign.min_gap_hours = min_gap_hours
    campaign.max_reminders = max_reminders
    campaign.save()
    return campaign


def _values(
    *,
    survey: Survey,
    authority: Authority,
    deadline: datetime.datetime,
    link: str,
    now: datetime.datetime,
) -> dict[str, str]:
    return {
        "chief_executive_name": authority.chief_executive_name.strip(),
        "council_name": authority.official_name,
        "survey_name": survey.name,
        "link": link,
        "deadline": deadline_text(deadline),
        "days_left": days_left_text(deadline=deadline, now=now),
        "team_email": settings.SURVEY_TEAM_EMAIL,
    }


def _response_values(response: Response, now: datetime.datetime) -> dict[str, str]:
    # The link stays a marker: surveys.email_policy puts the council's URL in when it sends.
    return _values(
        survey=response.survey,
        authority=response.authority,
        deadline=response_deadline(response),
        link=LINK_MARKER,
        now=now,
    )


def _template(campaign: Campaign, kind: str) -> tuple[str, str]:
    template = campaign.templates.filter(kind=kind).first() if campaign.pk else None
    return (template.subject, template.body) if template else DEFAULTS[kind]


def message_render(
    *, campaign: Campaign, kind: str, response: Response, now: datetime.datetime
) -> Rendered:
    """One council's email of this kind, as stored: LINK_MARKER stands for its link."""
    subject, body = _template(campaign, kind)
    return render(kind=kind, subject=subject, body=body, values=_response_values(response, now))


PREVIEW_LINK = "/s/(the council's own link)"


def message_preview(
    *, campaign: Campaign, kind: str, authority: Authority, now: datetime.datetime
) -> Rendered:
    """The email as this council would get it now. Writes nothing, and shows no live link."""
    survey = campaign.survey
    response = Response.objects.filter(survey=survey, authority=authority).first()
    deadline = response_deadline(response) if response else survey.closes_at
    subject, body = _template(campaign, kind)
    values = _values(
        survey=survey,
        authority=authority,
        deadline=deadline,
        link=settings.SURVEY_BASE_URL + PREVIEW_LINK,
        now=now,
    )
    return render(kind=kind, subject=subject, body=body, values=values)


def _outbox_create(
    *, response: Response, kind: str, key: str, to_address: str, message: Rendered
) -> OutboundEmail | None:
    """Record one email to send, with the council's link; None when its key exists."""
    email = email_enqueue(
        response=response,
        kind=kind,
        key=key,
        to_address=to_address,
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
        link=link_issue(response=response),
        send_at_once=False,  # the dispatcher sends campaign emails in paced batches
    )
    return email


def _batch_record(*, survey: Survey, what: str, actor: str, report: SendReport) -> None:
    """Remember which emails this send queued, for the tracker's and --wait's progress."""
    if report.email_ids:
        report.batch = SendBatch.objects.create(
            survey=survey, what=what, started_by=actor[:200], email_ids=report.email_ids
        )


def _round_is_open(survey: Survey, now: datetime.datetime) -> bool:
    return survey.status == SurveyStatus.OPEN and survey.opens_at <= now


# --- Invitations ------------------------------------------------------------------


def invitation_key(survey: Survey, authority: Authority, sequence: int = 1) -> str:
    return f"{EmailKind.INVITATION}:{survey.pk}:{authority.pk}:{sequence}"


def _invitation_batches(
    survey: Survey, authorities: Iterable[Authority] | None, report: SendReport
) -> Iterator[list[Authority]]:
    """The councils to invite, CHUNK at a time (never the whole round in memory), counting
    those already invited or without a contact."""
    population = survey_population(survey=survey)
    if authorities is not None:
        population = population.filter(pk__in=[a.pk for a in authorities])
    already = set(
        OutboundEmail.objects.filter(
            response__survey=survey, kind=EmailKind.INVITATION
        ).values_list("response__authority_id", flat=True)
    )
    after = 0
    while page := list(population.filter(pk__gt=after).order_by("pk")[:CHUNK]):
        after = page[-1].pk
        pending: list[Authority] = []
        for authority in page:
            if authority.pk in already:
                report.already += 1
                continue
            problem = contact_problem(authority)
            if problem:
                report.skipped[authority.official_name] = problem
                continue
            pending.append(authority)
        if pending:
            yield pending


def _open_for_invitations(survey: Survey, now: datetime.datetime) -> None:
    if not _round_is_open(survey, now) or now >= survey.closes_at:
        raise ValidationError("The round is not open: invitations can only go while it is open")


def invitations_plan(
    *,
    survey: Survey,
    authorities: Iterable[Authority] | None = None,
    now: datetime.datetime | None = None,
) -> SendPlan:
    """What invitations_send would send now, writing nothing."""
    _open_for_invitations(survey, now or timezone.now())
    report = SendReport()
    pending = sum(len(batch) for batch in _invitation_batches(survey, authorities, report))
    plan = SendPlan(action="invite", already=report.already)
    if pending:
        plan.emails[TemplateKind.INVITATION.label] = pending
    plan.skipped.update(report.skipped.values())
    return plan


def invitations_send(
    *,
    survey: Survey,
    authorities: Iterable[Authority] | None = None,
    now: datetime.datetime | None = None,
    actor: str = "",
) -> SendReport:
    """Invite the round's councils (or a selection of them) once each.

    Each council's response and link are created if missing and its invitation recorded
    with key (round, council, invitation, 1): sending again queues nothing new. Councils
    without a usable contact are reported, not silently skipped. CHUNK councils at a time
    are written in bulk in one transaction, and their emails queued for sending when it
    commits, so the worker sends the first while the next are prepared.
    """
    now = now or timezone.now()
    report = SendReport()
    _open_for_invitations(survey, now)
    campaign = campaign_get_or_create(survey=survey)
    subject, body = _template(campaign, TemplateKind.INVITATION)
    for batch in _invitation_batches(survey, authorities, report):
        started = time.perf_counter()
        with transaction.atomic():
            # One send of a round at a time writes its invitations: the keys checked
            # below cannot be taken by another send before this batch commits.
            Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
            try:
                with transaction.atomic():
                    emails = _invitations_create(survey, batch, subject, body, now)
            except IntegrityError:  # a council's response or link created meanwhile
                emails = [_invitation_create(survey, a, subject, body, now) for a in batch]
            created = [email.pk for email in emails if email is not None]
            report.queued += len(created)
            report.already += len(batch) - len(created)
            report.email_ids.extend(created)
            emails_send_on_commit(created)
            prepared = time.perf_counter()
        report.seconds["preparing"] += prepared - started
        report.seconds["queueing"] += time.perf_counter() - prepared
    _batch_record(survey=survey, what="Invitations", actor=actor, report=report)
    logger.info("invitations for round %s: %s", survey.pk, report)
    return report


def _invitation_message(
    subject: str, body: str, response: Response, now: datetime.datetime
) -> Rendered:
    values = _response_values(response, now)
    return render(kind=TemplateKind.INVITATION, subject=subject, body=body, values=values)


def _invitation_create(
    survey: Survey, authority: Authority, subject: str, body: str, now: datetime.datetime
) -> OutboundEmail | None:
    """One council's invitation, one row at a time; None when it was already queued."""
    response = response_get_or_create(survey=survey, authority=authority)
    return _outbox_create(
        response=response,
        kind=EmailKind.INVITATION,
        key=invitation_key(survey, authority),
        to_address=authority.chief_executive_email,
        message=_invitation_message(subject, body, response, now),
    )


def _invitations_create(
    survey: Survey, authorities: list[Authority], subject: str, body: str, now: datetime.datetime
) -> list[OutboundEmail | None]:
    """What _invitation_create does for each council, with set-based inserts: the same
    responses, links and outbox rows (None where the invitation was already queued)."""
    keys = {a.pk: invitation_key(survey, a) for a in authorities}
    taken = set(OutboundEmail.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    wanted = [a for a in authorities if keys[a.pk] not in taken]
    rows = {}
    for response, link in responses_with_links(survey=survey, authorities=wanted):
        message = _invitation_message(subject, body, response, now)
        parts = (message.subject, message.text, message.html)
        email_link_check(kind=EmailKind.INVITATION, link=link, parts=parts)
        key = keys[response.authority_id]
        rows[response.authority_id] = OutboundEmail(
            response=response,
            kind=EmailKind.INVITATION,
            key=key,
            to_address=response.authority.chief_executive_email,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            link=link,
            message_hash=OutboundEmail.hash_of(key),
        )
    OutboundEmail.objects.bulk_create(rows.values())
    return [rows.get(a.pk) for a in authorities]


def _reminder_kind(response: Response) -> str:
    if response.status == ResponseStatus.NOT_STARTED and response.started_at is None:
        return TemplateKind.REMINDER_NOT_STARTED
    return TemplateKind.REMINDER_STARTED


def _reminder_candidates(survey: Survey):
    """Outstanding, invited councils with their reminder count and last contact."""
    chasing = Q(emails__kind__in=[EmailKind.INVITATION, EmailKind.REMINDER])
    return (
        Response.objects.filter(survey=survey, status__in=OUTSTANDING)
        .filter(emails__kind=EmailKind.INVITATION, emails__status=EmailStatus.SENT)
        .select_related("survey", "authority")
        .annotate(
            reminder_count=Count("emails", filter=Q(emails__kind=EmailKind.REMINDER)),
            last_contact=Max("emails__created_at", filter=chasing),
            invited_at=Min("emails__created_at", filter=Q(emails__kind=EmailKind.INVITATION)),
        )
        .order_by("pk")
        .distinct()
    )


def _reminder_create(
    *,
    campaign: Campaign,
    response: Response,
    key_for,
    now: datetime.datetime,
    report: SendReport,
) -> None:
    """Lock the council's response, check again that a reminder is wanted, record it.

    The lock serialises two beat processes or an administrator's "send now" with beat:
    the second sees the first one's row (count and last contact) and sends nothing.
    """
    authority = response.authority
    with transaction.atomic():
        locked = (
            Response.objects.select_for_update()
            .select_related("survey", "authority")
            .get(pk=response.pk)
        )
        chasing = locked.emails.filter(kind__in=[EmailKind.INVITATION, EmailKind.REMINDER])
        reminders = chasing.filter(kind=EmailKind.REMINDER).count()
        last = chasing.aggregate(last=Max("created_at"))["last"]
        refusal = _reminder_refusal(
            campaign=campaign, response=locked, reminders=reminders, last=last, now=now
        )
        if refusal in NOT_WANTED:
            return
        if refusal:
            report.skipped[authority.official_name] = refusal
            return
        kind = _reminder_kind(locked)
        message = message_render(campaign=campaign, kind=kind, response=locked, now=now)
        created = _outbox_create(
            response=locked,
            kind=EmailKind.REMINDER,
            key=key_for(locked, reminders),
            to_address=authority.chief_executive_email,
            message=message,
        )
        if created:
            report.queued += 1
            report.email_ids.append(created.pk)
            dispatch_on_commit()
        else:
            report.already += 1


# Why a council gets no reminder. The first two are not reported: nothing is owed.
NOT_OUTSTANDING = "Submitted, or the round is closed"
DEADLINE_PASSED = "The council's deadline has passed"
NOT_WANTED = (NOT_OUTSTANDING, DEADLINE_PASSED)
MAXIMUM_REACHED = "Maximum number of reminders reached"
TOO_SOON = "Emailed less than the minimum gap ago"


def _reminder_refusal(
    *,
    campaign: Campaign,
    response: Response,
    reminders: int,
    last: datetime.datetime | None,
    now: datetime.datetime,
) -> str:
    """Why this council gets no reminder now; empty when it gets one."""
    if response.status not in OUTSTANDING or not _round_is_open(response.survey, now):
        return NOT_OUTSTANDING  # submitted a minute ago, or the round has passed
    if now >= response_deadline(response):
        return DEADLINE_PASSED
    problem = contact_problem(response.authority)
    if problem:
        return problem
    if reminders >= campaign.max_reminders:
        return MAXIMUM_REACHED
    if last and now - last < datetime.timedelta(hours=campaign.min_gap_hours):
        return TOO_SOON
    return ""


def reminders_send_due(
    *, survey: Survey, now: datetime.datetime | None = None, actor: str = "The schedule"
) -> SendReport:
    """Beat: send each outstanding council the reminder its schedule says is due now.

    A reminder is due at the latest schedule time that has passed (computed from the
    council's own deadline, in UK time), if the council was invited before it. Its key
    holds that time, so each scheduled reminder exists at most once per council.
    """
    now = now or timezone.now()
    report = SendReport()
    if not _round_is_open(survey, now):
        return report
    campaign = campaign_get_or_create(survey=survey)
    days = campaign.days_before
    if not days or campaign.max_reminders == 0:
        return report
    gap = datetime.timedelta(hours=campaign.min_gap_hours)
    for response in _reminder_candidates(survey):
        deadline = response_deadline(response)
        if now >= deadline:
            continue
        due = [
            t
            for t in reminder_times(deadline=deadline, days_before=days, at=campaign.reminder_time)
            if t <= now
        ]
        # Steps due before the council was invited are not reminders of anything.
        due = [t for t in due if t > response.invited_at]
        if not due:
            continue
        step = due[-1]
        if response.reminder_count >= campaign.max_reminders:
            continue
        if response.last_contact and now - response.last_contact < gap:
            continue

        def key_for(locked: Response, count: int, step: datetime.datetime = step) -> str:
            return f"{EmailKind.REMINDER}:{survey.pk}:{locked.authority_id}:{step:%Y%m%dT%H%MZ}"

        _reminder_create(
            campaign=campaign, response=response, key_for=key_for, now=now, report=report
        )
    _batch_record(survey=survey, what="Scheduled reminders", actor=actor, report=report)
    return report


def _reminders_now_candidates(
    survey: Survey, authorities: Iterable[Authority] | None, now: datetime.datetime
):
    if not _round_is_open(survey, now):
        raise ValidationError("The round is not open: reminders can only go while it is open")
    candidates = _reminder_candidates(survey)
    if authorities is not None:
        candidates = candidates.filter(authority__in=[a.pk for a in authorities])
    return candidates


def reminders_plan(
    *,
    survey: Survey,
    authorities: Iterable[Authority] | None = None,
    now: datetime.datetime | None = None,
) -> SendPlan:
    """What reminders_send_now would send now, by wording, writing nothing."""
    now = now or timezone.now()
    candidates = _reminders_now_candidates(survey, authorities, now)
    campaign = Campaign.objects.filter(survey=survey).first() or Campaign(survey=survey)
    plan = SendPlan(action="remind")
    responses = list(candidates)
    # Counted apart: an annotation after the candidates' filter on emails would count
    # only the emails that filter matched.
    chasing = {
        row["response_id"]: row
        for row in OutboundEmail.objects.filter(
            response__in=responses, kind__in=[EmailKind.INVITATION, EmailKind.REMINDER]
        )
        .values("response_id")
        .annotate(reminders=Count("pk", filter=Q(kind=EmailKind.REMINDER)), last=Max("created_at"))
    }
    for response in responses:
        counts = chasing.get(response.pk, {})
        refusal = _reminder_refusal(
            campaign=campaign,
            response=response,
            reminders=counts.get("reminders", 0),
            last=counts.get("last"),
            now=now,
        )
        if refusal:
            plan.skipped[refusal] += 1
        else:
            plan.emails[TemplateKind(_reminder_kind(response)).label] += 1
    return plan


def reminders_send_now(
    *,
    survey: Survey,
    authorities: Iterable[Authority] | None = None,
    now: datetime.datetime | None = None,
    actor: str = "",
) -> SendReport:
    """Send a reminder now to outstanding invited councils (all, or a selection).

    It ignores the schedule but keeps the minimum gap and the maximum number, so that
    pressing the button twice, or just after beat, sends nothing twice.
    """
    now = now or timezone.now()
    report = SendReport()
    candidates = _reminders_now_candidates(survey, authorities, now)
    campaign = campaign_get_or_create(survey=survey)

    def key_for(locked: Response, count: int) -> str:
        return f"{EmailKind.REMINDER}:{survey.pk}:{locked.authority_id}:now{count + 1}"

    for response in candidates:
        _reminder_create(
            campaign=campaign, response=response, key_for=key_for, now=now, report=report
        )
    _batch_record(survey=survey, what="Reminders", actor=actor, report=report)
    return report


def reminders_send_due_all(*, now: datetime.datetime | None = None) -> SendReport:
    """Beat: due reminders for every open round."""
    now = now or timezone.now()
    total = SendReport()
    for survey in Survey.objects.filter(
        status=SurveyStatus.OPEN, opens_at__lte=now, responses__isnull=False
    ).distinct():
        report = reminders_send_due(survey=survey, now=now)
        total.queued += report.queued
        total.already += report.already
        total.skipped.update(report.skipped)
    return total


# --- Extensions and resending -----------------------------------------------------


def _extension_refusal(survey: Survey, now: datetime.datetime) -> str:
    """Why no council of the round may be given more time now; empty when one may.

    A round's results are published once (reporting.models), so answers given after its
    release would reach no one; past the round's deadline any running build may become
    that release.
    """
    from reporting.models import Release, ReleaseStatus

    releases = Release.objects.filter(survey=survey)
    if releases.filter(published_at__isnull=False).exists():
        return (
            "This round's results have been published: answers given after that would not "
            "be in them"
        )
    if now >= survey.closes_at and releases.filter(status=ReleaseStatus.BUILDING).exists():
        return "This round's results are being built: try again when the build has finished"
    return ""


@dataclass
class Extension:
    """An extension given, and whether the council is told: the email queued, or why not."""

    response: Response
    email: OutboundEmail | None = None
    not_emailed: str = ""


ALREADY_EMAILED = "They have already been emailed about this deadline"


def deadline_extend(
    *,
    response: Response,
    until: datetime.datetime,
    actor: str,
    now: datetime.datetime | None = None,
) -> Extension:
    """Extend one council's deadline and email its chief executive the new date.

    Returns the email queued, or says why none was (no usable contact, or an email about
    this very deadline exists already): the administrator is told exactly what was sent.

    The journey honours it through surveys.services.response_deadline (the link works
    and the answers are editable until then). A response closed at the round's deadline
    opens again, keeping everything typed; a submitted one can be reopened to correct it
    until then. Refused once the round's results are published (see reporting.models).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The round's row first, as a release build takes it before publishing: an
        # extension and a publication never cross.
        Survey.objects.select_for_update().filter(pk=response.survey_id).exists()
        locked = (
            Response.objects.select_for_update()
            .select_related("survey", "authority")
            .get(pk=response.pk)
        )
        if until <= locked.survey.closes_at:
            raise ValidationError("The new deadline must be after the round's deadline")
        if until <= now:
            raise ValidationError("The new deadline must be in the future")
        refusal = _extension_refusal(locked.survey, now)
        if refusal:
            raise ValidationError(refusal)
        previous = (
            {"deadline": locked.deadline_extended_to.isoformat()}
            if (locked.deadline_extended_to)
            else None
        )
        locked.deadline_extended_to = until
        fields = ["deadline_extended_to", "updated_at"]
        if locked.status == ResponseStatus.CLOSED:
            locked.status = (
                ResponseStatus.IN_PROGRESS if locked.started_at else ResponseStatus.NOT_STARTED
            )
            fields.append("status")
        locked.save(update_fields=fields)
        ChangeRecord.objects.create(
            response=locked,
            changed_by=actor,
            kind=ChangeKind.STATUS,
            key="deadline",
            old_value=previous,
            new_value={"deadline": until.isoformat(), "status": locked.status},
        )
        authority = locked.authority
        problem = contact_problem(authority)
        if problem:
            return Extension(response=locked, not_emailed=problem)
        campaign = campaign_get_or_create(survey=locked.survey)
        message = message_render(
            campaign=campaign, kind=TemplateKind.EXTENSION, response=locked, now=now
        )
        email = email_enqueue(
            response=locked,
            kind=EmailKind.EXTENSION,
            key=extension_key(locked, until),
            to_address=authority.chief_executive_email,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            link=link_issue(response=locked),
        )
    if email is None:
        return Extension(response=locked, not_emailed=ALREADY_EMAILED)
    return Extension(response=locked, email=email)


def email_resend(
    *, email: OutboundEmail, actor: str, now: datetime.datetime | None = None
) -> OutboundEmail | None:
    """Send a failed email again as a new outbox row, to the council's current contact.

    Only the latest failed email of a council can be resent, once: the new key is the
    failed one's with a resend number, so a double click queues one email.
    """
    now = now or timezone.now()
    with transaction.atomic():
        failed = (
            OutboundEmail.objects.select_for_update()
            .select_related("response__survey", "response__authority")
            .get(pk=email.pk)
        )
        if failed.status != EmailStatus.FAILED or failed.last_error.startswith(CANCELLED):
            raise ValidationError("Only a failed email can be resent")
        response = failed.response
        authority = response.authority
        problem = contact_problem(authority)
        if problem:
            raise ValidationError(problem)
        campaign = campaign_get_or_create(survey=response.survey)
        if failed.kind == EmailKind.INVITATION:
            kind = TemplateKind.INVITATION
        elif failed.kind == EmailKind.EXTENSION:
            kind = TemplateKind.EXTENSION
        else:
            kind = _reminder_kind(response)
        message = message_render(campaign=campaign, kind=kind, response=response, now=now)
        key = f"{failed.key}:resent"
        if not _outbox_create(
            response=response,
            kind=failed.kind,
            key=key,
            to_address=authority.chief_executive_email,
            message=message,
        ):
            return None
        ChangeRecord.objects.create(
            response=response,
            changed_by=actor,
            kind=ChangeKind.STATUS,
            key="email",
            old_value={"email": failed.pk, "status": failed.status},
            new_value={"resent": key},
        )
        dispatch_on_commit()
    return OutboundEmail.objects.get(key=key)
