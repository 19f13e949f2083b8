"""Reads for survey rounds."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from authorities.choices import LinkKind
from authorities.models import ENGLAND_2015_DATE, AccessLink, Authority, AuthorityQuerySet
from survey_site.formatting import iso_date_text
from surveys import compiled
from surveys.choices import PopulationKind, Provision, QuestionKind, SectionKind
from surveys.models import (
    Answer,
    ChangeRecord,
    Channel,
    Contributor,
    Figure,
    KeyTransaction,
    Question,
    Response,
    Section,
    Survey,
    TransactionAnswer,
)

# The question where the person filling in the survey gives their own email address.
CONTACT_EMAIL = "respondent-email"


def link_holder_address(*, response: Response) -> str:
    """Where to email the council's link holder: the address they typed themselves in
    "Your contact details", else the chief executive's. An address a contributor typed
    there is never used: emails to the link holder must not go to someone else."""
    from surveys.choices import ChangeKind

    last = (
        ChangeRecord.objects.filter(response=response, kind=ChangeKind.ANSWER, key=CONTACT_EMAIL)
        .order_by("-changed_at", "-id")
        .first()
    )
    typed = last.new_value if last is not None and last.contributor_id is None else ""
    return (typed if isinstance(typed, str) else "") or response.authority.chief_executive_email


def survey_population(*, survey: Survey) -> AuthorityQuerySet:
    """The councils a round invites."""
    if survey.population == PopulationKind.ENGLAND_2015:
        return Authority.objects.existing_on(ENGLAND_2015_DATE)
    if survey.population == PopulationKind.CURRENT:
        return Authority.objects.current()
    return Authority.objects.filter(pk__in=survey.chosen_authorities.values("pk"))


def collection_end(*, survey: Survey) -> datetime.datetime:
    """When the last council can no longer answer: the round's deadline, or the latest
    per-council extension plus its grace period (see services.response_grace_deadline)."""
    from django.conf import settings
    from django.db.models import Max

    # As response_grace_deadline: any extension, even one the round's deadline has since
    # overtaken, gives its council the grace period after the later of the two.
    latest = survey.responses.aggregate(latest=Max("deadline_extended_to"))["latest"]
    if latest is None:
        return survey.closes_at
    grace = datetime.timedelta(minutes=settings.LATE_GRACE_MINUTES)
    return max(survey.closes_at, latest) + grace


def collection_finished(*, survey: Survey, now: datetime.datetime) -> bool:
    """No council can change its answers any more: the last deadline has passed and every
    response reopened for correction has been settled (surveys.services.responses_close_due
    submits it again or closes it, a few minutes after its deadline)."""
    from surveys.choices import ResponseStatus

    if now < collection_end(survey=survey):
        return False
    return not survey.responses.filter(status=ResponseStatus.REOPENED).exists()


# --- The respondent's view of a response ------------------------------------------

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
OPTIONAL = "optional"
STATUS_LABELS = {
    NOT_STARTED: "Not yet started",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    OPTIONAL: "Optional",
}


class Missing(str):
    """An answer still needed, as text, with the id of the field on its page that gives
    it (`anchor`), so that a summary can link to the very field."""

    anchor: str

    def __new__(cls, text: str, anchor: str = "") -> Missing:
        item = super().__new__(cls, text)
        item.anchor = anchor
        return item


@dataclass
class PageState:
    """One page of the questionnaire: a transaction or a group of questions."""

    slug: str
    title: str
    status: str
    missing: list[str] = field(default_factory=list)
    last_changed_by: str = ""
    last_changed_at: datetime.datetime | None = None
    # Unusual figures saved but not yet confirmed (Missing items: text and the figure's id).
    warnings: list[Missing] = field(default_factory=list)


@dataclass
class SectionState:
    section: Section
    pages: list[PageState]
    status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class Progress:
    sections: list[SectionState]

    @property
    def missing(self) -> list[str]:
        return [
            item
            for s in self.sections
            if not s.section.optional
            for page in s.pages
            for item in page.missing
        ]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def completed_sections(self) -> int:
        return sum(1 for s in self.sections if s.status == COMPLETED)


@dataclass
class ResponseData:
    """Everything about one response, loaded in a fixed number of queries."""

    response: Response
    transactions: list[KeyTransaction]
    channels: list[Channel]
    sections: list[Section]
    questions: dict[int, list[Question]]  # section id -> questions in order
    transaction_answers: dict[int, TransactionAnswer]  # transaction id -> answer
    figures: dict[tuple[int, str], Figure]  # (transaction id, channel code) -> figure
    answers: dict[str, Answer]  # question slug -> answer

    def question_groups(self, section: Section) -> list[tuple[str, list[Question]]]:
        groups: dict[str, list[Question]] = {}
        for question in self.questions.get(section.pk, []):
            groups.setdefault(question.group or question.slug, []).append(question)
        return list(groups.items())


def response_data(*, response: Response, transactions: bool = True) -> ResponseData:
    """Everything about one response: the questionnaire's structure from the process
    cache, the response's own answers in three queries (one with transactions=False,
    for pages that show only questions)."""
    structure = questionnaire_structure(response)
    codes = {c.pk: c.code for c in structure.channels}
    slugs = {q.pk: q.slug for qs in structure.questions.values() for q in qs}
    return ResponseData(
        response=response,
        transactions=list(structure.transactions),
        channels=list(structure.channels),
        sections=list(structure.sections),
        questions={pk: list(qs) for pk, qs in structure.questions.items()},
        transaction_answers={
            a.transaction_id: a for a in TransactionAnswer.objects.filter(response=response)
        }
        if transactions
        else {},
        figures={
            (f.transaction_id, codes[f.channel_id]): f
            for f in Figure.objects.filter(response=response)
        }
        if transactions
        else {},
        answers={slugs[a.question_id]: a for a in Answer.objects.filter(response=response)},
    )


@dataclass(frozen=True)
class QuestionnaireStructure:
    """A questionnaire's sections, questions, transactions and channels, in order."""

    sections: tuple[Section, ...]
    questions: dict[int, tuple[Question, ...]]  # section id -> questions in order
    transactions: tuple[KeyTransaction, ...]
    channels: tuple[Channel, ...]
    transactions_section: Section | None


@functools.lru_cache(maxsize=32)
def _questionnaire_structure(
    questionnaire_id: int, created_at: datetime.datetime
) -> QuestionnaireStructure:
    sections = tuple(Section.objects.filter(questionnaire_id=questionnaire_id).order_by("order"))
    questions: dict[int, list[Question]] = {}
    for question in Question.objects.filter(section__questionnaire_id=questionnaire_id).order_by(
        "section__order", "order"
    ):
        questions.setdefault(question.section_id, []).append(question)
    return QuestionnaireStructure(
        sections=sections,
        questions={pk: tuple(qs) for pk, qs in questions.items()},
        transactions=tuple(
            KeyTransaction.objects.filter(questionnaire_id=questionnaire_id).order_by("number")
        ),
        channels=tuple(Channel.objects.filter(questionnaire_id=questionnaire_id).order_by("order")),
        transactions_section=next(
            (s for s in sections if s.kind == SectionKind.TRANSACTIONS), None
        ),
    )


def questionnaire_structure(response: Response) -> QuestionnaireStructure:
    """The structure of a response's questionnaire, cached in the process.

    Safe to cache: a questionnaire that has a response can never change again
    (QuestionnaireLocked), and this one has `response`. created_at is in the key so a
    reused primary key (a reloaded test database) is never confused with another.
    """
    questionnaire = response.survey.questionnaire
    return _questionnaire_structure(questionnaire.pk, questionnaire.created_at)


def answered_questionnaire_parts(
    response: Response,
) -> tuple[tuple[KeyTransaction, ...], tuple[Channel, ...], Section | None]:
    """Transactions, channels and the transactions section (see questionnaire_structure)."""
    structure = questionnaire_structure(response)
    return structure.transactions, structure.channels, structure.transactions_section


def transaction_page_data(
    *, response: Response, slug: str, answers: bool = True
) -> ResponseData | None:
    """What one transaction page needs, and nothing else: constant, small queries.

    answers=False leaves out the stored answer and figures (no query at all): a save
    reads them itself, locked.
    """
    transactions, channels, _ = answered_questionnaire_parts(response)
    current = next((t for t in transactions if t.slug == slug), None)
    if current is None:
        return None
    codes = {c.pk: c.code for c in channels}
    return ResponseData(
        response=response,
        transactions=list(transactions),
        channels=list(channels),
        sections=[],
        questions={},
        transaction_answers={
            a.transaction_id: a
            for a in compiled.TRANSACTION_ANSWERS(response=response.pk, transaction=current.pk)
        }
        if answers
        else {},
        figures={
            (f.transaction_id, codes[f.channel_id]): f
            for f in compiled.TRANSACTION_FIGURES(response=response.pk, transaction=current.pk)
        }
        if answers
        else {},
        answers={},
    )


def _filled(value: Any) -> bool:
    return value not in (None, "", [])


def figures_to_confirm(data: ResponseData, key_transaction: KeyTransaction) -> list[Missing]:
    """The unusual figures of one transaction still to be confirmed, each with the id of
    its figure (or of the confirmation box, for a warning about every figure)."""
    from surveys.services import FigureInput, figures_unconfirmed

    answer = data.transaction_answers.get(key_transaction.pk)
    if answer is None:
        return []
    figures = {
        code: FigureInput(figure.value, figure.not_recorded, figure.estimate)
        for (pk, code), figure in data.figures.items()
        if pk == key_transaction.pk
    }
    items = figures_unconfirmed(
        provision=answer.provision,
        channels_offered=answer.channels_offered,
        figures=figures,
        confirmed=answer.confirmed_figures,
        names={c.code: c.name for c in data.channels},
    )
    return [
        Missing(text, f"id_figure_{code}" if code else "id_confirm_figures") for code, text in items
    ]


def transaction_state(data: ResponseData, key_transaction: KeyTransaction) -> PageState:
    from surveys.services import PREFILLED_BY

    answer = data.transaction_answers.get(key_transaction.pk)
    name = key_transaction.name
    page = PageState(key_transaction.slug, name, NOT_STARTED)
    if answer is not None:
        page.last_changed_by, page.last_changed_at = answer.updated_by, answer.updated_at
    if answer is None or not answer.provision:
        page.missing.append(Missing(f"{name}: whether you provide it", "id_provision_0"))
        return page
    if answer.provision != Provision.YES:
        page.status = COMPLETED
        if answer.updated_by == PREFILLED_BY:
            page.last_changed_by = ""
        return page
    page.status = IN_PROGRESS
    if not answer.channels_offered:
        page.missing.append(Missing(f"{name}: the channels you offer", "id_channels_0"))
    if not answer.end_to_end:
        page.missing.append(
            Missing(f"{name}: whether it can be done end to end online", "id_end_to_end_0")
        )
    names = {c.code: c.name for c in data.channels}
    for code in answer.channels_offered:
        figure = data.figures.get((key_transaction.pk, code))
        if figure is None or (figure.value is None and not figure.not_recorded):
            channel = names.get(code, code)
            page.missing.append(
                Missing(
                    f"{name}: the number of {channel[:1].lower()}{channel[1:]} transactions",
                    f"id_figure_{code}",
                )
            )
        if figure is not None and (
            page.last_changed_at is None or figure.updated_at > page.last_changed_at
        ):
            page.last_changed_by, page.last_changed_at = figure.updated_by, figure.updated_at
    page.warnings = figures_to_confirm(data, key_transaction)
    if page.warnings:
        page.missing.append(
            Missing(f"{name}: confirm the figures flagged for checking", page.warnings[0].anchor)
        )
    if not page.missing:
        page.status = COMPLETED
    return page


# The id of a question's first input as crispy-forms-gds renders it: a date's day, a
# choice's first option (numbered from 1), or the input itself.
FIRST_INPUT_SUFFIX = {
    QuestionKind.DATE: "_0",
    QuestionKind.CHOICE: "_1",
    QuestionKind.SCALE: "_1",
    QuestionKind.MULTICHOICE: "_1",
}


def _first_input_id(question: Question) -> str:
    return f"id_{question.slug}{FIRST_INPUT_SUFFIX.get(question.kind, '')}"


def question_group_state(
    data: ResponseData, section: Section, slug: str, questions: list[Question]
) -> PageState:
    answered = [
        q for q in questions if q.slug in data.answers and _filled(data.answers[q.slug].value)
    ]
    page = PageState(slug, section.group_titles.get(slug) or questions[0].text, NOT_STARTED)
    page.missing = [
        Missing(q.text, _first_input_id(q)) for q in questions if q.required and q not in answered
    ]
    if answered:
        latest = max((data.answers[q.slug] for q in answered), key=lambda a: a.updated_at)
        page.last_changed_by, page.last_changed_at = latest.updated_by, latest.updated_at
        page.status = IN_PROGRESS if page.missing else COMPLETED
    elif not page.missing and not any(q.required for q in questions):
        page.status = NOT_STARTED
    return page


def response_progress(*, data: ResponseData) -> Progress:
    """Each section's pages and status, for the task list and the submit check."""
    states = []
    for section in data.sections:
        if section.kind == SectionKind.TRANSACTIONS:
            pages = [transaction_state(data, t) for t in data.transactions]
        else:
            pages = [
                question_group_state(data, section, slug, questions)
                for slug, questions in data.question_groups(section)
            ]
        touched = any(p.status != NOT_STARTED and p.last_changed_by for p in pages)
        if pages and all(p.status == COMPLETED for p in pages):
            status = COMPLETED
        elif touched or any(p.status == IN_PROGRESS for p in pages):
            status = IN_PROGRESS
        else:
            status = OPTIONAL if section.optional else NOT_STARTED
        states.append(SectionState(section, pages, status))
    return Progress(states)


ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")  # how date answers are stored


def describe_value(value: Any) -> str:
    """An answer or figure as a person reads it, for histories and clashes."""
    if isinstance(value, dict):
        if value.get("not_recorded"):
            text = "not recorded"
        elif value.get("value") is None:
            text = "blank"
        else:
            text = f"{value['value']:,}"
        return text + (" (estimate)" if value.get("estimate") else "")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return iso_date_text(value)
    return str(value) if value not in (None, "") else "blank"


FIELD_NAMES = {
    "provision": "Provides it",
    "channels_offered": "Channels offered",
    "end_to_end": "End to end online",
    "confirmed": "Figures confirmed",
}


HISTORY_SHOWN = 20


def transaction_history(
    *, response: Response, key_transaction: KeyTransaction, names: dict[str, str]
) -> list[dict[str, Any]]:
    """The latest changes to one transaction page, newest first: who, when, what, from,
    to. At most HISTORY_SHOWN + 1 rows: the page shows HISTORY_SHOWN and says when there
    are older ones (all of them stay in the audit trail)."""
    records = compiled.HISTORY(response=response.pk, prefix=f"{key_transaction.slug}/")
    return [
        {
            "when": record.changed_at,
            "who": record.changed_by,
            "what": names.get(field, FIELD_NAMES.get(field, field)),
            "old": describe_value(record.old_value),
            "new": describe_value(record.new_value),
        }
        for record in records
        for field in [record.key.split("/", 1)[1]]
    ]


def section_assignments(*, response: Response) -> dict[int | None, list[str]]:
    """Names of the active contributors per section id (None: those given everything)."""
    assigned: dict[int | None, list[str]] = {}
    for contributor in Contributor.objects.filter(
        response=response, revoked_at__isnull=True
    ).prefetch_related("sections"):
        if contributor.all_sections:
            assigned.setdefault(None, []).append(contributor.label)
        for section in contributor.sections.all():
            assigned.setdefault(section.pk, []).append(contributor.label)
    return assigned


def link_current(*, link: AccessLink) -> AccessLink | None:
    """The link that now stands for this one: itself while live, else its holder's live one.

    A council's re-issued link is followed to the council's current link; a revoked
    contributor has none (revoking them revokes every link of theirs).
    """
    if link.kind == LinkKind.CONTRIBUTOR and link.contributor.is_revoked:
        return None
    if not link.is_revoked:
        return link
    live = AccessLink.objects.filter(
        response_id=link.response_id, kind=link.kind, revoked_at__isnull=True
    )
    if link.kind == LinkKind.CONTRIBUTOR:
        live = live.filter(contributor_id=link.contributor_id)
    return live.order_by("-generation", "-pk").first()
