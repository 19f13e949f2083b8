"""The questionnaire as data: load a versioned definition, export it, copy it.

The file format (``"format": "questionnaire/1"``) is what fixtures/questionnaire-2015.json
holds; `questionnaire_export` writes the same shape, so a loaded questionnaire can be
exported, edited and loaded as a new version without code changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from surveys.choices import QuestionKind, SectionKind
from surveys.models import (
    Channel,
    KeyTransaction,
    Question,
    Questionnaire,
    QuestionnaireLocked,
    Section,
)

FORMAT = "questionnaire/1"
QUESTIONNAIRE_FIELDS = ("title", "description", "period_default")
CHANNEL_FIELDS = (
    "code",
    "name",
    "definition",
    "is_digital",
    "is_assisted",
    "default_unit_cost",
    "unit_cost_source",
)
TRANSACTION_FIELDS = ("number", "slug", "name", "lgsl_code", "lgsl_label", "tiers")
SECTION_FIELDS = ("slug", "title", "kind", "description", "optional", "group_titles")
QUESTION_FIELDS = (
    "slug",
    "text",
    "kind",
    "hint",
    "choices",
    "required",
    "required_error",
    "default",
    "free_text",
    "personal_data",
    "group",
)
SECTION_DEFAULTS = {"description": "", "optional": False, "group_titles": {}}
QUESTION_DEFAULTS = {
    "hint": "",
    "choices": [],
    "required": False,
    "required_error": "",
    "default": None,
    "free_text": False,
    "personal_data": False,
    "group": "",
}
CHANNEL_DEFAULTS = {
    "definition": "",
    "is_digital": False,
    "is_assisted": False,
    "default_unit_cost": None,
    "unit_cost_source": "",
}


def _cost(value: Any) -> str | None:
    return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.01")))


def questionnaire_export(*, questionnaire: Questionnaire) -> dict[str, Any]:
    """The questionnaire in the file format, in a stable order."""
    data: dict[str, Any] = {"format": FORMAT, "version": questionnaire.version}
    data.update({f: getattr(questionnaire, f) for f in QUESTIONNAIRE_FIELDS})
    data["channels"] = [
        {f: getattr(c, f) for f in CHANNEL_FIELDS}
        | {"default_unit_cost": _cost(c.default_unit_cost)}
        for c in questionnaire.channels.order_by("order")
    ]
    data["transactions"] = [
        {f: getattr(t, f) for f in TRANSACTION_FIELDS}
        for t in questionnaire.transactions.order_by("number")
    ]
    data["sections"] = [
        {f: getattr(s, f) for f in SECTION_FIELDS}
        | {
            "questions": [
                {f: getattr(q, f) for f in QUESTION_FIELDS} for q in s.questions.order_by("order")
            ]
        }
        for s in questionnaire.sections.order_by("order").prefetch_related("questions")
    ]
    return data


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """The file's content with defaults filled in, comparable with an export."""
    out: dict[str, Any] = {"format": FORMAT, "version": data["version"]}
    out.update({f: data.get(f, "") for f in QUESTIONNAIRE_FIELDS})
    out["channels"] = [
        CHANNEL_DEFAULTS
        | {k: v for k, v in c.items() if k in CHANNEL_FIELDS}
        | {"default_unit_cost": _cost(c.get("default_unit_cost"))}
        for c in data["channels"]
    ]
    out["transactions"] = [
        {"lgsl_label": "", "tiers": ""} | {k: v for k, v in t.items() if k in TRANSACTION_FIELDS}
        for t in data["transactions"]
    ]
    out["sections"] = [
        SECTION_DEFAULTS
        | {k: v for k, v in s.items() if k in SECTION_FIELDS}
        | {
            "questions": [
                QUESTION_DEFAULTS | {k: v for k, v in q.items() if k in QUESTION_FIELDS}
                for q in s.get("questions", [])
            ]
        }
        for s in data["sections"]
    ]
    return out


def questionnaire_validate(data: Any) -> list[str]:
    """Problems that stop a questionnaire file from loading (empty when it is fine)."""
    if not isinstance(data, dict):
        return ["The file must hold one JSON object"]
    problems = []
    if data.get("format") != FORMAT:
        problems.append(f'"format" must be "{FORMAT}"')
    for key in ("version", "title", "channels", "transactions", "sections"):
        if not data.get(key):
            problems.append(f'"{key}" is missing or empty')
    if problems:
        return problems
    codes = [c.get("code") for c in data["channels"]]
    if len(set(codes)) != len(codes):
        problems.append("Channel codes must be unique")
    numbers = [t.get("number") for t in data["transactions"]]
    if len(set(numbers)) != len(numbers):
        problems.append("Transaction numbers must be unique")
    slugs = [t.get("slug") for t in data["transactions"]]
    if len(set(slugs)) != len(slugs):
        problems.append("Transaction slugs must be unique")
    kinds = {k.value for k in SectionKind}
    question_kinds = {k.value for k in QuestionKind}
    if sum(1 for s in data["sections"] if s.get("kind") == SectionKind.TRANSACTIONS) != 1:
        problems.append("Exactly one section must be of kind transactions")
    for section in data["sections"]:
        if section.get("kind") not in kinds:
            problems.append(
                f"Section {section.get('slug')!r}: unknown kind {section.get('kind')!r}"
            )
        seen = set()
        for question in section.get("questions", []):
            slug = question.get("slug")
            if slug in seen:
                problems.append(f"Section {section.get('slug')!r}: question {slug!r} repeated")
            seen.add(slug)
            if question.get("kind") not in question_kinds:
                problems.append(f"Question {slug!r}: unknown kind {question.get('kind')!r}")
            if question.get("kind") in {"choice", "multichoice", "scale"} and not question.get(
                "choices"
            ):
                problems.append(f"Question {slug!r}: needs choices")
    return problems


@transaction.atomic
def questionnaire_load(*, data: dict[str, Any]) -> tuple[Questionnaire, str]:
    """Create or update a questionnaire from file data; returns it and what happened.

    Loading the same file twice changes nothing. A questionnaire that already has
    responses is never changed: copy it to a new version instead.
    """
    problems = questionnaire_validate(data)
    if problems:
        raise ValidationError(problems)
    existing = Questionnaire.objects.filter(version=data["version"]).first()
    if existing is not None:
        if questionnaire_export(questionnaire=existing) == _normalised(data):
            return existing, "unchanged"
        if existing.has_responses:
            raise QuestionnaireLocked(
                f"Questionnaire {existing.version} already has responses: load the changes as a "
                "new version"
            )
        existing.sections.all().delete()
        existing.transactions.all().delete()
        existing.channels.all().delete()
        questionnaire, outcome = existing, "updated"
    else:
        questionnaire, outcome = Questionnaire(version=data["version"]), "created"
    for f in QUESTIONNAIRE_FIELDS:
        setattr(questionnaire, f, data.get(f, ""))
    questionnaire.full_clean(exclude=["copied_from"])
    questionnaire.save()
    _create_parts(questionnaire, _normalised(data))
    return questionnaire, outcome


def _create_parts(questionnaire: Questionnaire, data: dict[str, Any]) -> None:
    for order, item in enumerate(data["channels"], start=1):
        channel = Channel(questionnaire=questionnaire, order=order, **item)
        channel.full_clean(exclude=["questionnaire"])
        channel.save()
    for item in data["transactions"]:
        key_transaction = KeyTransaction(questionnaire=questionnaire, **item)
        key_transaction.full_clean(exclude=["questionnaire"])
        key_transaction.save()
    for order, item in enumerate(data["sections"], start=1):
        questions = item.pop("questions")
        section = Section(questionnaire=questionnaire, order=order, **item)
        section.full_clean(exclude=["questionnaire"])
        section.save()
        for q_order, q_item in enumerate(questions, start=1):
            question = Question(section=section, order=q_order, **q_item)
            question.full_clean(exclude=["section"])
            question.save()


@transaction.atomic
def questionnaire_copy(
    *, source: Questionnaire, version: str, title: str | None = None
) -> Questionnaire:
    """A new, editable version with the same content, for a later round."""
    if Questionnaire.objects.filter(version=version).exists():
        raise ValidationError(f"Questionnaire version {version!r} already exists")
    data = questionnaire_export(questionnaire=source)
    data["version"] = version
    if title:
        data["title"] = title
    copy, _ = questionnaire_load(data=data)
    copy.copied_from = source
    copy.save(update_fields=["copied_from"])
    return copy
