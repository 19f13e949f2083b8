"""Reads for campaigns: who can be emailed, and where every council of a round stands.

The tracker shows who has responded, never what they answered: nothing here reads
answers, figures or change records.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Max, Min
from django.template.defaultfilters import pluralize

from authorities.choices import AuthorityKind, LinkKind, Region
from authorities.models import AccessLink, Authority
from campaigns.choices import TrackerStatus
from outbox.bounces import BOUNCED
from outbox.models import EmailStatus, OutboundEmail
from outbox.sending import CANCELLED
from surveys.choices import ResponseStatus
from surveys.models import EmailKind, Response, Survey
from surveys.selectors import survey_population

CHASING_KINDS = (EmailKind.INVITATION, EmailKind.REMINDER, EmailKind.EXTENSION)
EMAIL_FIELDS = (
    "id",
    "key",
    "response_id",
    "kind",
    "status",
    "attempts",
    "last_error",
    "reply_code",
    "reply_text",
    "sent_at",
    "created_at",
)


def extension_key(response: Response, until: datetime.datetime) -> str:
    """The outbox key of the email telling a council its deadline is now `until`."""
    survey, council = response.survey_id, response.authority_id
    return f"{EmailKind.EXTENSION}:{survey}:{council}:{until.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def contact_problem(authority: Authority) -> str:
    """Why the council's chief executive cannot be emailed; empty when they can."""
    if not authority.chief_executive_email:
        return "No chief executive email address"
    try:
        validate_email(authority.chief_executive_email)
    except ValidationError:
        return "Chief executive email address is not valid"
    if not authority.chief_executive_name.strip():
        return "No chief executive name (emails address them by name)"
    return ""


@dataclass
class TrackerRow:
    authority: Authority
    status: str
    response_id: int | None = None
    deadline_extended_to: datetime.datetime | None = None
    contact_problem: str = ""
    last_contact_at: datetime.datetime | None = None
    last_contact_kind: str = ""
    last_contact_outcome: str = ""
    failed_email_id: int | None = None
    reminders: int = 0
    submitted_at: datetime.datetime | None = None
    # Submitted after the round's deadline, within an extension (and its grace period).
    late: bool = False
    # Given an extension the council has not been told about, and why (empty: told).
    extension_untold: str = ""

    @property
    def status_label(self) -> str:
        return TrackerStatus(self.status).label

    @property
    def outstanding(self) -> bool:
        return self.status != TrackerStatus.SUBMITTED


@dataclass
class Tracker:
    survey: Survey
    rows: list[TrackerRow]
    by_status: Counter = field(default_factory=Counter)
    by_kind: dict[str, Counter] = field(default_factory=dict)
    by_region: dict[str, Counter] = field(default_factory=dict)
    # The round's invitations, reminders and extension notices by what became of them.
    emails: Counter = field(default_factory=Counter)

    @property
    def no_contact(self) -> list[TrackerRow]:
        return [row for row in self.rows if row.contact_problem]

    @property
    def extensions_untold(self) -> list[TrackerRow]:
        return [row for row in self.rows if row.extension_untold]

    @property
    def response_rate(self) -> str:
        return percentage(self.by_status[TrackerStatus.SUBMITTED], len(self.rows))


NO_EXTENSION_EMAIL = "No email was created"


def _extension_untold(response: Response, authority: Authority, emails) -> str:
    """Why the council has not been told of its extended deadline; empty when it has
    (its email is sent or queued) or it has none."""
    if not response.deadline_extended_to:
        return ""
    key = extension_key(response, response.deadline_extended_to)
    told = [e for e in emails if e.key == key]
    if told:
        state = email_state(told[-1])
        if state in (SENT, QUEUED):
            return ""
        return f"The email could not be sent: {told[-1].last_error or state}"
    return contact_problem(authority) or NO_EXTENSION_EMAIL


def percentage(part: int, whole: int) -> str:
    """'33.3%', '100%', '0%'; a dash for nothing out of nothing."""
    if not whole:
        return "–"
    text = f"{100 * part / whole:.1f}"
    return f"{text.removesuffix('.0')}%"


QUEUED, SENT, FAILED, CANCELLED_EMAILS = "queued", "sent", "failed", "cancelled"


def email_state(email: OutboundEmail) -> str:
    """Queued (not sent yet), sent, failed (bounced included) or cancelled."""
    if email.status == EmailStatus.SENT:
        return SENT
    if email.status == EmailStatus.PENDING:
        return QUEUED
    return CANCELLED_EMAILS if email.last_error.startswith(CANCELLED) else FAILED


def _status(response: Response | None, opened: bool, emails: list[OutboundEmail]) -> str:
    status = response.status if response else None
    if status == ResponseStatus.SUBMITTED:
        return TrackerStatus.SUBMITTED
    if status == ResponseStatus.REOPENED:
        return TrackerStatus.REOPENED
    if status == ResponseStatus.IN_PROGRESS or (response and response.started_at):
        return TrackerStatus.IN_PROGRESS
    sent = [e for e in emails if not e.last_error.startswith(CANCELLED)]
    if sent and sent[-1].status == EmailStatus.FAILED:
        return TrackerStatus.FAILED
    if opened:
        return TrackerStatus.LINK_OPENED
    if any(e.kind == EmailKind.INVITATION and e.status == EmailStatus.SENT for e in emails):
        return TrackerStatus.INVITED
    if any(e.kind == EmailKind.INVITATION and e.status == EmailStatus.PENDING for e in emails):
        return TrackerStatus.QUEUED
    return TrackerStatus.NOT_INVITED


def _attempts(count: int) -> str:
    return f"{count} attempt{pluralize(count)}"


def _outcome(email: OutboundEmail) -> str:
    """What happened to an email, with the relay's last reply: "Failed after 1 attempt:
    550 5.1.1 mailbox unknown"."""
    if email.status == EmailStatus.SENT:
        return "Sent"
    if email.last_error.startswith((CANCELLED, BOUNCED)):
        return email.last_error
    reply = f"{email.reply_code} {email.reply_text}".strip() if email.reply_code else ""
    if email.status == EmailStatus.FAILED:
        if not email.attempts:  # never tried: its link could not go
            return f"Not sent: {email.last_error}" if email.last_error else "Not sent"
        failed = f"Failed after {_attempts(email.attempts)}"
        return f"{failed}: {reply}" if reply else failed
    if not email.attempts:
        return "Queued"
    queued = f"Queued (attempt {email.attempts + 1})"
    return f"{queued}: last reply {reply}" if reply else queued


def tracker_get(*, survey: Survey) -> Tracker:
    """Every council of the round with its status and last contact, in five queries."""
    authorities = list(survey_population(survey=survey).order_by("official_name"))
    responses = {r.authority_id: r for r in Response.objects.filter(survey=survey)}
    opened = set(
        AccessLink.objects.filter(
            response__survey=survey, kind=LinkKind.COUNCIL, first_used_at__isnull=False
        ).values_list("response_id", flat=True)
    )
    emails: dict[int, list[OutboundEmail]] = {}
    counts: Counter = Counter()
    for email in (
        OutboundEmail.objects.filter(response__survey=survey, kind__in=CHASING_KINDS)
        .only(*EMAIL_FIELDS)
        .annotate(tried_at=Max("tries__attempted_at"))
        .order_by("created_at", "id")
    ):
        emails.setdefault(email.response_id, []).append(email)
        counts[email_state(email)] += 1
    rows = []
    for authority in authorities:
        response = responses.get(authority.pk)
        own = emails.get(response.pk, []) if response else []
        row = TrackerRow(
            authority=authority,
            status=_status(response, bool(response and response.pk in opened), own),
            response_id=response.pk if response else None,
            deadline_extended_to=response.deadline_extended_to if response else None,
            contact_problem=contact_problem(authority),
            reminders=sum(1 for e in own if e.kind == EmailKind.REMINDER),
        )
        if response:
            row.extension_untold = _extension_untold(response, authority, own)
        if row.status == TrackerStatus.SUBMITTED:
            row.submitted_at = response.submitted_at
            row.late = bool(response.submitted_at and response.submitted_at > survey.closes_at)
        if own:
            last = own[-1]
            row.last_contact_at = last.sent_at or last.tried_at or last.created_at
            row.last_contact_kind = EmailKind(last.kind).label
            row.last_contact_outcome = _outcome(last)
            if last.status == EmailStatus.FAILED and not last.last_error.startswith(CANCELLED):
                row.failed_email_id = last.pk
        rows.append(row)
    tracker = Tracker(survey=survey, rows=rows, emails=counts)
    for row in rows:
        tracker.by_status[row.status] += 1
        tracker.by_kind.setdefault(row.authority.kind, Counter())[row.status] += 1
        tracker.by_region.setdefault(row.authority.region, Counter())[row.status] += 1
    return tracker


def tracker_filter(
    rows: list[TrackerRow],
    *,
    statuses: list[str] | None = None,
    kinds: list[str] | None = None,
    regions: list[str] | None = None,
    outstanding_only: bool = True,
    query: str = "",
) -> list[TrackerRow]:
    query = query.strip().lower()
    return [
        row
        for row in rows
        if (not outstanding_only or row.outstanding)
        and (not statuses or row.status in statuses)
        and (not kinds or row.authority.kind in kinds)
        and (not regions or row.authority.region in regions)
        and (
            not query
            or query in row.authority.official_name.lower()
            or query == row.authority.gss_code.lower()
        )
    ]


def tracker_table(counters: dict[str, Counter], labels) -> tuple[list[str], list[list]]:
    """A count table: one row per type or region, one column per status, a total and the
    response rate (the share that has submitted)."""
    statuses = list(TrackerStatus)
    head = ["", *[s.label for s in statuses], "Total", "Response rate"]
    rows = []
    for value, label in labels:
        counter = counters.get(value)
        if not counter:
            continue
        total = sum(counter.values())
        rows.append(
            [
                label,
                *[counter[s] for s in statuses],
                total,
                percentage(counter[TrackerStatus.SUBMITTED], total),
            ]
        )
    return head, rows


KIND_LABELS = AuthorityKind.choices
REGION_LABELS = Region.choices


def survey_first_invited(*, survey: Survey) -> dict[int, datetime.datetime]:
    return dict(
        OutboundEmail.objects.filter(response__survey=survey, kind=EmailKind.INVITATION)
        .values("response_id")
        .annotate(first=Min("created_at"))
        .values_list("response_id", "first")
    )
