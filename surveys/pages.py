"""The order of the questionnaire's pages, and each page's values for its form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from survey_site.formatting import iso_date_text
from surveys.choices import Provision, SectionKind
from surveys.forms import format_number
from surveys.models import KeyTransaction, Question, Section
from surveys.selectors import ResponseData, describe_value
from surveys.services import FigureInput, TransactionInput, channel_names


@dataclass(frozen=True)
class Page:
    section: Section
    slug: str
    title: str
    url: str
    key_transaction: KeyTransaction | None = None
    questions: tuple[Question, ...] = ()


def page_sequence(data: ResponseData) -> list[Page]:
    pages = []
    for section in data.sections:
        if section.kind == SectionKind.TRANSACTIONS:
            for t in data.transactions:
                pages.append(
                    Page(
                        section,
                        t.slug,
                        t.name,
                        reverse("surveys:transaction", args=[t.slug]),
                        key_transaction=t,
                    )
                )
        else:
            for slug, questions in data.question_groups(section):
                pages.append(
                    Page(
                        section,
                        slug,
                        section.group_titles.get(slug) or questions[0].text,
                        reverse("surveys:questions", args=[section.slug, slug]),
                        questions=tuple(questions),
                    )
                )
    return pages


def neighbours(pages: list[Page], current: Page) -> tuple[Page | None, Page | None]:
    """The previous page and the next page within the same section."""
    index = pages.index(current)
    before = pages[index - 1] if index > 0 else None
    after = pages[index + 1] if index + 1 < len(pages) else None
    if before is not None and before.section != current.section:
        before = None
    if after is not None and after.section != current.section:
        after = None
    return before, after


def transaction_stored(data: ResponseData, key_transaction: KeyTransaction) -> TransactionInput:
    answer = data.transaction_answers.get(key_transaction.pk)
    figures = {}
    for channel in data.channels:
        figure = data.figures.get((key_transaction.pk, channel.code))
        if figure is not None:
            figures[channel.code] = FigureInput(figure.value, figure.not_recorded, figure.estimate)
        else:
            figures[channel.code] = FigureInput()
    return TransactionInput(
        provision=answer.provision if answer else "",
        channels_offered=list(answer.channels_offered) if answer else [],
        end_to_end=answer.end_to_end if answer else "",
        figures=figures,
    )


def transaction_state(key_transaction: KeyTransaction, stored: TransactionInput) -> dict:
    """The values a page was loaded with, keyed as the save service merges them."""
    prefix = key_transaction.slug
    state: dict[str, Any] = {
        f"{prefix}/provision": stored.provision,
        f"{prefix}/channels_offered": stored.channels_offered,
        f"{prefix}/end_to_end": stored.end_to_end,
    }
    for code, figure in stored.figures.items():
        state[f"{prefix}/{code}"] = figure.as_json()
    return state


def transaction_initial(stored: TransactionInput) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "provision": stored.provision,
        "channels": stored.channels_offered,
        "end_to_end": stored.end_to_end,
    }
    for code, figure in stored.figures.items():
        initial[f"figure_{code}"] = format_number(figure.value)
        initial[f"not_recorded_{code}"] = figure.not_recorded
        initial[f"estimate_{code}"] = figure.estimate
    return initial


def questions_state(data: ResponseData, questions: tuple[Question, ...]) -> dict[str, Any]:
    return {
        q.slug: data.answers[q.slug].value if q.slug in data.answers else None for q in questions
    }


def questions_initial(data: ResponseData, questions: tuple[Question, ...]) -> dict[str, Any]:
    initial = {}
    for question in questions:
        answer = data.answers.get(question.slug)
        value = answer.value if answer is not None else question.default
        if question.kind == "date" and isinstance(value, str):
            import datetime

            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                value = None
        initial[question.slug] = value
    return initial


END_TO_END_LABELS = {"yes": "Yes", "partly": "Partly", "no": "No"}


def answers_summary(data: ResponseData, editable: bool) -> list[dict[str, Any]]:
    """Check-your-answers rows per section, from the same pages as the journey.

    Each block is {"section", "rows"}; each row {"key", "lines", "href"} (href only when
    the answers can still be changed).
    """
    names = channel_names(data.channels)
    sections: dict[int, dict[str, Any]] = {}
    for page in page_sequence(data):
        block = sections.setdefault(page.section.pk, {"section": page.section, "rows": []})
        block["rows"].extend(page_rows(data, page, editable, names))
    return list(sections.values())


def page_rows(
    data: ResponseData, page: Page, editable: bool, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One page's stored answers as check-your-answers rows."""
    href = page.url if editable else None
    if page.key_transaction is not None:
        names = names if names is not None else channel_names(data.channels)
        stored = transaction_stored(data, page.key_transaction)
        lines = [dict(Provision.choices).get(stored.provision, "Not answered")]
        if stored.provision == Provision.YES:
            end_to_end = END_TO_END_LABELS.get(stored.end_to_end, "not answered")
            lines.append(f"End to end online: {end_to_end}")
            for code in stored.channels_offered:
                lines.append(f"{names[code]}: {describe_value(stored.figures[code].as_json())}")
        return [{"key": page.title, "lines": lines, "href": href}]
    rows = []
    for question in page.questions:
        answer = data.answers.get(question.slug)
        value = answer.value if answer else None
        if isinstance(value, list):
            text = ", ".join(dict(question.choices).get(v, v) for v in value)
        elif question.choices and value is not None:
            text = dict(question.choices).get(value, value)
        elif question.kind == "date" and value:
            text = iso_date_text(value)
        else:
            text = value
        lines = [text if text not in (None, "") else "Not answered"]
        rows.append({"key": question.text, "lines": lines, "href": href})
    return rows
