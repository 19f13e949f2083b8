"""Writes for the respondent journey: links, saving answers, the response state machine.

The response's states and their only transitions:

    not started --first save--> in progress --submit--> submitted --reopen--> reopened
    reopened --submit--> submitted
    not started / in progress --deadline passes--> closed
    reopened --deadline passes--> submitted (if complete) or closed

Every accepted change is written at once against the council's response (never only in
the HTTP session), with a ChangeRecord holding who, when, the old and the new value.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from authorities.choices import LinkKind
from authorities.models import AccessLink, Authority
from authorities.tokens import TOKEN_LENGTH, derive_token, hash_token, looks_like_token, new_nonce
from outbox import sending
from surveys import compiled
from surveys.choices import ChangeKind, Provision, ResponseStatus, SurveyStatus
from surveys.email_policy import LINK_KINDS
from surveys.models import (
    Answer,
    ChangeRecord,
    Channel,
    Contributor,
    EmailKind,
    Figure,
    KeyTransaction,
    Question,
    Response,
    Survey,
    TransactionAnswer,
)
from surveys.selectors import answered_questionnaire_parts

PREFILLED_BY = "Pre-filled from the council's type"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def _record_status(response: Response, actor: str, old: Any, new: Any) -> None:
    """Audit a change of the response's state."""
    ChangeRecord.objects.create(
        response=response,
        changed_by=actor,
        kind=ChangeKind.STATUS,
        key="status",
        old_value=old,
        new_value=new,
    )


class ResponseNotEditable(Exception):
    """The response is submitted, closed, or past its deadline."""


class ResponseIncomplete(Exception):
    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"{len(missing)} answers are missing")
        self.missing = missing


# --- Deadlines --------------------------------------------------------------------


def response_deadline(response: Response) -> datetime.datetime:
    """The council's own deadline: the round's, or a later per-council extension."""
    closes = response.survey.closes_at
    extended = response.deadline_extended_to
    return max(closes, extended) if extended else closes


def response_grace_deadline(response: Response) -> datetime.datetime:
    """The last moment the journey accepts answers and submission for this council.

    Without an extension it is the round's deadline: late work is refused. With a
    per-council extension it is the extended deadline plus LATE_GRACE_MINUTES, so that
    a council submitting as its extended deadline passes is not turned away.
    """
    if not response.deadline_extended_to:
        return response.survey.closes_at
    grace = datetime.timedelta(minutes=settings.LATE_GRACE_MINUTES)
    return response_deadline(response) + grace


def response_is_open(response: Response, now: datetime.datetime) -> bool:
    survey = response.survey
    return survey.status == SurveyStatus.OPEN and survey.opens_at <= now < response_grace_deadline(
        response
    )


def response_is_editable(response: Response, now: datetime.datetime) -> bool:
    return response_is_open(response, now) and response.status in (
        ResponseStatus.NOT_STARTED,
        ResponseStatus.IN_PROGRESS,
        ResponseStatus.REOPENED,
    )


# --- Responses and links ----------------------------------------------------------


@transaction.atomic
def response_get_or_create(*, survey: Survey, authority: Authority) -> Response:
    """The council's response to a round; new ones get their tier's pre-answers."""
    response, created = Response.objects.get_or_create(survey=survey, authority=authority)
    if created:
        TransactionAnswer.objects.bulk_create(
            _prefilled(response, authority, survey.questionnaire.transactions.all())
        )
    return response


def _prefilled(
    response: Response, authority: Authority, transactions: Iterable[KeyTransaction]
) -> list[TransactionAnswer]:
    """A new response's pre-answers: the key transactions its council's tier does not do."""
    return [
        TransactionAnswer(
            response=response,
            transaction=key_transaction,
            provision=Provision.NOT_RESPONSIBLE,
            updated_by=PREFILLED_BY,
        )
        for key_transaction in transactions
        if not key_transaction.normally_delivered_by(authority.tier)
    ]


def link_url(link: AccessLink) -> str:
    """The full link to email: built from SURVEY_BASE_URL, never from a request's Host."""
    token = derive_token(purpose=link.kind, nonce=link.nonce)
    return f"{settings.SURVEY_BASE_URL}/s/{token}"


def _link_row(response: Response, generation: int) -> AccessLink:
    """A council link not yet saved: a fresh nonce, and the hash of the token it derives."""
    nonce = new_nonce()
    token = derive_token(purpose=LinkKind.COUNCIL, nonce=nonce)
    return AccessLink(
        response=response,
        kind=LinkKind.COUNCIL,
        generation=generation,
        nonce=nonce,
        token_hash=hash_token(token),
    )


def _new_link(response: Response, generation: int) -> AccessLink:
    link = _link_row(response, generation)
    link.save(force_insert=True)
    return link


@transaction.atomic
def link_issue(*, response: Response) -> AccessLink:
    """The council's live link, created if it has none. Issuing twice gives the same link."""
    Response.objects.select_for_update().filter(pk=response.pk).first()
    live = response.links.filter(kind=LinkKind.COUNCIL, revoked_at__isnull=True).first()
    if live is not None:
        return live
    last = response.links.filter(kind=LinkKind.COUNCIL).order_by("-generation").first()
    return _new_link(response, (last.generation + 1) if last else 1)


@transaction.atomic
def link_reissue(*, response: Response, reason: str, actor: str) -> AccessLink:
    """Revoke the council's link and issue the next one; the draft and history stay."""
    Response.objects.select_for_update().filter(pk=response.pk).first()
    now = timezone.now()
    live = list(response.links.filter(kind=LinkKind.COUNCIL, revoked_at__isnull=True))
    for link in live:
        link.revoked_at = now
        link.revoked_reason = reason[:200]
        link.save(update_fields=["revoked_at", "revoked_reason"])
    last = response.links.filter(kind=LinkKind.COUNCIL).order_by("-generation").first()
    link = _new_link(response, (last.generation + 1) if last else 1)
    ChangeRecord.objects.create(
        response=response,
        changed_by=actor,
        kind=ChangeKind.STATUS,
        key="link",
        old_value={"generation": live[0].generation} if live else None,
        new_value={"generation": link.generation, "reason": reason[:200]},
    )
    return link


def links_issue_for_survey(
    *, survey: Survey, authorities: Iterable[Authority]
) -> list[tuple[Authority, AccessLink]]:
    """Create any missing responses and links for these councils of a round."""
    issued = []
    for authority in authorities:
        response = response_get_or_create(survey=survey, authority=authority)
        issued.append((authority, link_issue(response=response)))
    return issued


@transaction.atomic
def responses_with_links(
    *, survey: Survey, authorities: list[Authority]
) -> list[tuple[Response, AccessLink]]:
    """Each council's response to the round and live link, as response_get_or_create and
    link_issue give them one by one, in a constant number of statements: what is missing
    is inserted in bulk. Raises IntegrityError if another process creates one of the same
    rows meanwhile (the caller then takes the one-by-one path)."""
    by_pk = {authority.pk: authority for authority in authorities}
    responses = {
        response.authority_id: response
        for response in Response.objects.select_for_update(of=("self",))
        .filter(survey=survey, authority_id__in=by_pk)
        .order_by("pk")
    }
    new = [Response(survey=survey, authority=a) for a in authorities if a.pk not in responses]
    Response.objects.bulk_create(new)
    transactions = list(survey.questionnaire.transactions.all())
    TransactionAnswer.objects.bulk_create(
        [answer for r in new for answer in _prefilled(r, r.authority, transactions)]
    )
    responses.update((response.authority_id, response) for response in new)
    council_links = AccessLink.objects.filter(
        response__in=[r.pk for r in responses.values()], kind=LinkKind.COUNCIL
    )
    live = {link.response_id: link for link in council_links.filter(revoked_at__isnull=True)}
    last = dict(
        council_links.values("response")
        .annotate(last=Max("generation"))
        .values_list("response", "last")
    )
    new_links = [
        _link_row(r, last.get(r.pk, 0) + 1) for r in responses.values() if r.pk not in live
    ]
    AccessLink.objects.bulk_create(new_links)
    live.update((link.response_id, link) for link in new_links)
    issued = []
    for authority in authorities:
        response = responses[authority.pk]
        response.survey, response.authority = survey, authority
        issued.append((response, live[response.pk]))
    return issued


def link_find(token: str) -> AccessLink | None:
    """The link a token opens, whatever its state; None for anything unknown."""
    if not looks_like_token(token):
        return None
    return (
        AccessLink.objects.select_related("response__survey", "response__authority")
        .filter(token_hash=hash_token(token))
        .first()
    )


def link_is_usable(link: AccessLink, now: datetime.datetime) -> bool:
    """Live, its round open for the council, and the council still in the round."""
    from surveys.selectors import survey_population

    if link.is_revoked or not response_is_open(link.response, now):
        return False
    population = survey_population(survey=link.response.survey)
    return population.filter(pk=link.response.authority_id).exists()


def link_after_close(link: AccessLink, now: datetime.datetime):
    """What a live link of a closed round still opens (surveys.after_close), or None: the
    round is still open for the council, the link is revoked, the council is no longer in
    the round, or nothing is offered for it."""
    from surveys.after_close import destination
    from surveys.selectors import survey_population

    response = link.response
    if link.is_revoked or response_is_open(response, now) or response.survey.opens_at > now:
        return None
    if not survey_population(survey=response.survey).filter(pk=response.authority_id).exists():
        return None
    return destination(response)


OUTSIDE_POPULATION = "The council is no longer in this round"


def links_revoke_outside_population(*, survey: Survey) -> int:
    """Revoke every live link (the council's and its contributors') of councils that are no
    longer in the round, which also ends their sessions at once; answers stay. Re-issue a
    council's link if it is added back."""
    from surveys.selectors import survey_population

    outside = AccessLink.objects.filter(response__survey=survey, revoked_at__isnull=True).exclude(
        response__authority__in=survey_population(survey=survey).values("pk")
    )
    return outside.update(revoked_at=timezone.now(), revoked_reason=OUTSIDE_POPULATION)


@transaction.atomic
def link_redeem(*, link: AccessLink, now: datetime.datetime) -> AccessLink:
    """Record that someone continued from the link (the tracker's "link opened")."""
    locked = AccessLink.objects.select_for_update().get(pk=link.pk)
    if locked.first_used_at is None:
        locked.first_used_at = now
    locked.last_used_at = now
    locked.save(update_fields=["first_used_at", "last_used_at"])
    return locked


# --- Saving answers ---------------------------------------------------------------


@dataclass(frozen=True)
class FigureInput:
    value: int | None = None
    not_recorded: bool = False
    estimate: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "not_recorded": self.not_recorded, "estimate": self.estimate}


@dataclass
class TransactionInput:
    """One transaction page's values. None (and a channel absent from `figures`) leaves
    the stored value as it is: an autosave of a page still being filled in."""

    provision: str | None
    channels_offered: list[str] | None = field(default_factory=list)
    end_to_end: str | None = ""
    figures: dict[str, FigureInput] = field(default_factory=dict)
    confirm_figures: bool = False


@dataclass
class Conflict:
    """Someone else changed a field since this person loaded the page."""

    key: str
    theirs: Any
    mine: Any
    changed_by: str
    changed_at: datetime.datetime | None


@dataclass
class SaveResult:
    changed: list[str] = field(default_factory=list)
    # What this save wrote, keyed as a page's state: the base for the page's next save.
    written: dict[str, Any] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    needs_confirmation: bool = False
    # A transaction page's answer and figures (channel code -> figure) as this save left
    # them, locked and written in its transaction: the page shown again needs no re-read.
    answer: TransactionAnswer | None = None
    figures: dict[str, Figure] = field(default_factory=dict)


def figures_fingerprint(figures: Mapping[str, FigureInput]) -> str:
    data = json.dumps({k: v.as_json() for k, v in sorted(figures.items())}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def figure_warnings(figures: Mapping[str, FigureInput], names: Mapping[str, str]) -> list[str]:
    """Soft warnings for implausible figures; the respondent can confirm them."""
    return [text for _, text in figure_warning_items(figures, names)]


def figure_warning_items(
    figures: Mapping[str, FigureInput], names: Mapping[str, str]
) -> list[tuple[str | None, str]]:
    """figure_warnings with the channel each is about (None: about every figure)."""
    values = {code: f.value for code, f in figures.items() if f.value is not None}
    if not values:
        return []
    if len(values) >= 2 and all(v == 0 for v in values.values()):
        return [(None, "Every figure is 0. Check that the period and the figures are right.")]
    warnings = []
    for code, value in values.items():
        others = sorted(v for c, v in values.items() if c != code and v > 0)
        if not others or value < 10_000:
            continue
        median = others[len(others) // 2]
        if value > 100 * median:
            warnings.append(
                (
                    code,
                    f"{names.get(code, code)}: {value:,} is more than 100 times your other "
                    "channels. Check it is not a typing error.",
                )
            )
    return warnings


def figures_unconfirmed(
    *,
    provision: str,
    channels_offered: list[str],
    figures: Mapping[str, FigureInput],
    confirmed: str,
    names: Mapping[str, str],
) -> list[tuple[str | None, str]]:
    """The warnings still to be confirmed for one transaction's answer, as the save
    decides them: for the offered channels' figures, unless exactly these were confirmed."""
    if provision != Provision.YES:
        return []
    offered = {code: f for code, f in figures.items() if code in channels_offered}
    items = figure_warning_items(offered, names)
    if not items or confirmed == figures_fingerprint(offered):
        return []
    return items


def _ensure_editable(response: Response, now: datetime.datetime) -> Response:
    found = compiled.LOCKED_RESPONSE(response=response.pk)
    if not found:
        raise Response.DoesNotExist(f"response {response.pk} does not exist")
    locked = found[0]
    if not response_is_editable(locked, now):
        raise ResponseNotEditable
    return locked


def _mark_started(response: Response, now: datetime.datetime, actor: str) -> None:
    if response.status == ResponseStatus.NOT_STARTED:
        response.status = ResponseStatus.IN_PROGRESS
        response.started_at = now
        response.save(update_fields=["status", "started_at", "updated_at"])
        _record_status(response, actor, ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS)


def _merge(
    key: str,
    *,
    loaded: Mapping[str, Any],
    current: Any,
    mine: Any,
    who: str,
    when: datetime.datetime | None,
    conflicts: list[Conflict],
) -> bool:
    """Three-way merge of one field: True when `mine` should be written.

    A field the person did not change keeps whatever is stored now (so two people
    editing different figures of one page both keep their work); a field they changed
    that someone else also changed since the page was loaded is a conflict, shown to
    the person with both values, never silently overwritten. Without a base for the
    field (the page's signed state missing, forged, or from another page), any change
    to a value someone has saved is a conflict: only a field nobody saved is written.
    """
    if key not in loaded:
        if mine == current:
            return False
        if who:
            conflicts.append(Conflict(key, current, mine, who, when))
            return False
        return True
    original = loaded[key]
    if mine in (original, current):
        return False
    if current != original:
        conflicts.append(Conflict(key, current, mine, who, when))
        return False
    return True


@transaction.atomic
def response_save_transaction(
    *,
    response: Response,
    key_transaction: KeyTransaction,
    data: TransactionInput,
    loaded: Mapping[str, Any],
    actor: str,
    channel_names: Mapping[str, str],
    contributor: Contributor | None = None,
) -> SaveResult:
    """Save one transaction page: provision, channels, end to end and figures."""
    now = timezone.now()
    response = _ensure_editable(response, now)
    result = SaveResult()
    locked = compiled.LOCKED_ANSWERS(response=response.pk, transaction=key_transaction.pk)
    if locked:
        answer = locked[0]
    else:
        answer, _ = TransactionAnswer.objects.select_for_update().get_or_create(
            response=response, transaction=key_transaction
        )
    if key_transaction.questionnaire_id != response.survey.questionnaire_id:
        raise ValueError("the transaction is not in this response's questionnaire")
    channels = {c.code: c for c in answered_questionnaire_parts(response)[1]}
    codes = {c.pk: code for code, c in channels.items()}
    figures = {
        codes[f.channel_id]: f
        for f in compiled.LOCKED_FIGURES(response=response.pk, transaction=key_transaction.pk)
    }
    prefix = key_transaction.slug
    records: list[ChangeRecord] = []

    def record(kind: str, key: str, old: Any, new: Any) -> None:
        records.append(
            ChangeRecord(
                response=response,
                changed_by=actor,
                contributor=contributor,
                kind=kind,
                key=key,
                old_value=old,
                new_value=new,
            )
        )
        result.changed.append(key)

    answer_changed = False
    for attribute in ("provision", "channels_offered", "end_to_end"):
        key = f"{prefix}/{attribute}"
        current = getattr(answer, attribute)
        mine = getattr(data, attribute)
        if mine is None:
            continue
        if _merge(
            key,
            loaded=loaded,
            current=current,
            mine=mine,
            who=answer.updated_by,
            when=answer.updated_at,
            conflicts=result.conflicts,
        ):
            record(ChangeKind.TRANSACTION, key, current, mine)
            result.written[key] = mine
            setattr(answer, attribute, mine)
            answer_changed = True

    for code, mine in data.figures.items():
        if code not in channels:
            continue
        figure = figures.get(code)
        current = (
            FigureInput(figure.value, figure.not_recorded, figure.estimate).as_json()
            if figure
            else FigureInput().as_json()
        )
        key = f"{prefix}/{code}"
        if not _merge(
            key,
            loaded=loaded,
            current=current,
            mine=mine.as_json(),
            who=figure.updated_by if figure else "",
            when=figure.updated_at if figure else None,
            conflicts=result.conflicts,
        ):
            continue
        record(ChangeKind.FIGURE, key, current, mine.as_json())
        result.written[key] = mine.as_json()
        if figure is None:
            figure = Figure(response=response, transaction=key_transaction, channel=channels[code])
            figures[code] = figure
        else:
            figure.version += 1
        figure.value, figure.not_recorded, figure.estimate = (
            mine.value,
            mine.not_recorded,
            mine.estimate,
        )
        figure.updated_by = actor
        figure.save()

    if answer.provision == Provision.YES:
        offered = {
            code: FigureInput(f.value, f.not_recorded, f.estimate)
            for code, f in figures.items()
            if code in answer.channels_offered
        }
        result.warnings = figure_warnings(offered, channel_names)
        fingerprint = figures_fingerprint(offered)
        if (
            result.warnings
            and data.confirm_figures
            and not result.conflicts
            and answer.confirmed_figures != fingerprint
        ):
            answer.confirmed_figures = fingerprint
            record(ChangeKind.TRANSACTION, f"{prefix}/confirmed", None, result.warnings)
            answer_changed = True
        result.needs_confirmation = bool(result.warnings) and answer.confirmed_figures != (
            fingerprint
        )
    if answer_changed:
        answer.version += 1
        answer.updated_by = actor
        answer.save()
    if records:
        ChangeRecord.objects.bulk_create(records)
        _mark_started(response, now, actor)
    result.answer, result.figures = answer, figures
    return result


def _answer_text(value: Any) -> Any:
    return value if value not in ("", [], None) else None


@transaction.atomic
def response_save_answers(
    *,
    response: Response,
    questions: list[Question],
    values: Mapping[str, Any],
    loaded: Mapping[str, Any],
    actor: str,
    contributor: Contributor | None = None,
) -> SaveResult:
    """Save the answers of one page of questions (slug -> value)."""
    now = timezone.now()
    response = _ensure_editable(response, now)
    result = SaveResult()
    existing = {
        a.question_id: a
        for a in Answer.objects.select_for_update().filter(
            response=response, question__in=questions
        )
    }
    records = []
    for question in questions:
        if question.slug not in values:
            continue
        answer = existing.get(question.pk)
        current = answer.value if answer else None
        mine = _answer_text(values[question.slug])
        if not _merge(
            question.slug,
            loaded=loaded,
            current=current,
            mine=mine,
            who=answer.updated_by if answer else "",
            when=answer.updated_at if answer else None,
            conflicts=result.conflicts,
        ):
            continue
        if answer is None:
            answer = Answer(response=response, question=question)
        else:
            answer.version += 1
        answer.value = mine
        answer.updated_by = actor
        answer.save()
        records.append(
            ChangeRecord(
                response=response,
                changed_by=actor,
                contributor=contributor,
                kind=ChangeKind.ANSWER,
                key=question.slug,
                old_value=current,
                new_value=mine,
            )
        )
        result.changed.append(question.slug)
        result.written[question.slug] = mine
    if records:
        ChangeRecord.objects.bulk_create(records)
        _mark_started(response, now, actor)
    return result


# --- Submission -------------------------------------------------------------------


def _new_reference() -> str:
    return "LDA-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


@transaction.atomic
def response_submit(*, response: Response, actor: str, missing: list[str]) -> tuple[Response, bool]:
    """Submit the response. Submitting again (double click, two tabs, replay) is a no-op.

    `missing` is what the progress selector found unanswered; the caller computes it
    inside this transaction's lock so that two tabs cannot both see it complete.
    """
    now = timezone.now()
    locked = (
        Response.objects.select_for_update()
        .select_related("survey", "authority")
        .get(pk=response.pk)
    )
    if locked.status == ResponseStatus.SUBMITTED:
        return locked, False
    if not response_is_editable(locked, now):
        raise ResponseNotEditable
    if missing:
        raise ResponseIncomplete(missing)
    previous = locked.status
    locked.status = ResponseStatus.SUBMITTED
    locked.submitted_at = now
    locked.submitted_by = actor
    locked.submission_count += 1
    while not locked.reference:
        candidate = _new_reference()
        if not Response.objects.filter(reference=candidate).exists():
            locked.reference = candidate
    locked.save()
    _record_status(locked, actor, previous, ResponseStatus.SUBMITTED)
    return locked, True


@transaction.atomic
def response_reopen(*, response: Response, actor: str) -> Response:
    """Reopen a submitted response to correct it, allowed until the deadline."""
    now = timezone.now()
    locked = (
        Response.objects.select_for_update(of=("self",))
        .select_related("survey__questionnaire")
        .get(pk=response.pk)
    )
    if locked.status == ResponseStatus.REOPENED:
        return locked
    if locked.status != ResponseStatus.SUBMITTED or not response_is_open(locked, now):
        raise ResponseNotEditable
    locked.status = ResponseStatus.REOPENED
    locked.save(update_fields=["status", "updated_at"])
    _record_status(locked, actor, ResponseStatus.SUBMITTED, ResponseStatus.REOPENED)
    return locked


# --- Email ------------------------------------------------------------------------


# An access link's path: what must never be written to the outbox.
LIVE_LINK = re.compile(rf"/s/[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}(?![A-Za-z0-9_-])")


def email_link_check(*, kind: str, link: AccessLink | None, parts: Iterable[str]) -> None:
    """Refuse an email that gives someone their link but holds the link itself, or no link
    row to put in place of the marker (see email_enqueue)."""
    if kind in LINK_KINDS and (link is None or any(LIVE_LINK.search(part) for part in parts)):
        raise ValueError("An access link must not be stored in the outbox: use LINK_MARKER")


def email_enqueue(*, kind: str, subject: str, body_text: str, body_html: str = "", **fields):
    """Record an email of the survey in the outbox (outbox.sending.email_enqueue).

    An email that gives someone their access link holds outbox.sending.LINK_MARKER where
    `link` goes, never the link itself: one that carries a link is refused, so no caller
    can leak links into the database. (Other emails, such as the copy of the answers,
    may quote what people typed and are not checked.)
    """
    email_link_check(kind=kind, link=fields.get("link"), parts=(subject, body_text, body_html))
    return sending.email_enqueue(
        kind=kind, subject=subject, body_text=body_text, body_html=body_html, **fields
    )


def submission_copy_key(response: Response) -> str:
    """One copy of the answers per submission (a resubmission after reopening gets its own)."""
    return f"{EmailKind.SUBMISSION_COPY}:{response.pk}:{response.submission_count}"


def submission_copy_enqueue(*, response: Response, to_address: str, text: str, html: str) -> None:
    email_enqueue(
        response=response,
        kind=EmailKind.SUBMISSION_COPY,
        key=submission_copy_key(response),
        to_address=to_address,
        subject=f"Your survey answers: reference {response.reference}",
        body_text=text,
        body_html=html,
    )


def channel_names(channels: Iterable[Channel]) -> dict[str, str]:
    """Channel code -> name, for warnings, conflicts and history."""
    return {c.code: c.name for c in channels}


# --- Closing ----------------------------------------------------------------------


def responses_close_due(*, now: datetime.datetime, is_complete) -> int:
    """Close responses whose deadline has passed; returns how many changed.

    Not started or in progress: closed (nothing is deleted). Reopened: submitted again
    if complete (its earlier submission stood and its corrections are kept), else closed.
    `is_complete(response)` is the progress selector, passed in to keep reads out of here.
    """
    changed = 0
    candidates = Response.objects.filter(
        status__in=[
            ResponseStatus.NOT_STARTED,
            ResponseStatus.IN_PROGRESS,
            ResponseStatus.REOPENED,
        ],
        survey__opens_at__lte=now,
    ).select_related("survey")
    for candidate in candidates:
        if now < response_grace_deadline(candidate):
            continue
        with transaction.atomic():
            locked = Response.objects.select_for_update().get(pk=candidate.pk)
            if locked.status in (ResponseStatus.SUBMITTED, ResponseStatus.CLOSED):
                continue  # submitted a moment before the deadline: leave it
            previous = locked.status
            if previous == ResponseStatus.REOPENED and is_complete(locked):
                locked.status = ResponseStatus.SUBMITTED
            else:
                locked.status = ResponseStatus.CLOSED
            locked.save(update_fields=["status", "updated_at"])
            _record_status(locked, "Deadline", previous, locked.status)
            changed += 1
    return changed
