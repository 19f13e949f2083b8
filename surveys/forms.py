"""Forms of the respondent journey, with GOV.UK error wording.

Every number field accepts thousands separators and surrounding spaces ("1,250 ").
A page's loaded values travel in a signed `state` field so that saving can merge with
changes made by someone else meanwhile, field by field (see services._merge).

An autosave (a change on a page, sent in the background) saves what a page holds that is
valid now and leaves out the rest, with no errors shown: `autosave_values()` on each
answer form, from the same cleaning as the explicit save, so the two never disagree
about what is valid.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Fieldset, Layout, Size
from django import forms
from django.core import signing
from django.core.exceptions import ValidationError

from surveys.choices import EndToEnd, Provision, QuestionKind
from surveys.models import MAX_FIGURE, Channel, Question

WHOLE_NUMBER = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)$")
MONEY = re.compile(r"^£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
PHONE = re.compile(r"^\+?[\d\s()-]{10,20}$")
MAX_UNIT_COST = Decimal("10000")
STATE_SALT = "surveys.page-state"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def parse_whole_number(text: str, what: str) -> int:
    """A figure as typed: "1,250" and " 1250 " are 1250; anything else is explained."""
    cleaned = text.strip().replace(" ", "")
    if cleaned.startswith("-") and WHOLE_NUMBER.match(cleaned[1:]):
        raise ValidationError(f"The number of {what} must be 0 or more")
    if re.match(r"^[\d,]*\.\d+$", cleaned):
        raise ValidationError(f"The number of {what} must be a whole number")
    if not WHOLE_NUMBER.match(cleaned):
        raise ValidationError(f"Enter the number of {what} as a whole number, like 1,250")
    number = int(cleaned.replace(",", ""))
    if number > MAX_FIGURE:
        raise ValidationError(f"The number of {what} must be {MAX_FIGURE:,} or fewer")
    return number


def format_number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def choice_options(field: forms.BoundField) -> list[dict[str, Any]]:
    """A radios or checkboxes field's options as plain values: id, name, value, label,
    checked. The same ids Django gives them (id_<name>_<index>), at a fraction of the
    cost of rendering each option through Django's widget machinery."""
    value = field.value()
    if isinstance(value, list | tuple):
        chosen = {str(v) for v in value}
    else:
        chosen = set() if value in (None, "") else {str(value)}
    return [
        {
            "id": f"{field.auto_id}_{index}",
            "name": field.html_name,
            "value": option,
            "label": label,
            "checked": str(option) in chosen,
        }
        for index, (option, label) in enumerate(field.field.choices)
    ]


def sign_state(state: dict[str, Any]) -> str:
    return signing.dumps(state, salt=STATE_SALT, compress=True)


def unsign_state(value: str) -> dict[str, Any] | None:
    try:
        state = signing.loads(value, salt=STATE_SALT)
    except signing.BadSignature:
        return None
    return state if isinstance(state, dict) else None


class StateForm(forms.Form):
    """A form carrying the signed values the page was loaded with."""

    state = forms.CharField(widget=forms.HiddenInput, required=False)

    def loaded_state(self) -> dict[str, Any]:
        """The page's loaded values; a missing or tampered state merges as 'no base'."""
        return unsign_state(self.cleaned_data.get("state") or "") or {}


class TransactionForm(StateForm):
    provision = forms.ChoiceField(
        label="Does your council provide this?",
        choices=Provision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether your council provides this"},
    )
    channels = forms.MultipleChoiceField(
        label="Which channels do you offer for it?",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select channels from the list"},
    )
    end_to_end = forms.ChoiceField(
        label="Can a resident complete it end to end online, with no re-keying by staff?",
        choices=EndToEnd.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    confirm_figures = forms.BooleanField(
        label="I have checked these figures and they are right", required=False
    )

    def __init__(self, *args: Any, channels: list[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_list = channels
        self.fields["channels"].choices = [(c.code, c.name) for c in channels]
        self.fields.update(_channel_fields(tuple((c.code, c.name) for c in channels)))

    def channel_rows(self) -> list[dict[str, Any]]:
        """Plain values for the channel rows: one lookup each in the template, not dozens."""
        rows = []
        boxes = {box["value"]: box for box in choice_options(self["channels"])}
        for channel in self.channel_list:
            figure = self[f"figure_{channel.code}"]
            value = figure.value()
            rows.append(
                {
                    "box_id": boxes[channel.code]["id"],
                    "offered": boxes[channel.code]["checked"],
                    "name": channel.name,
                    "definition": channel.definition,
                    "id": figure.auto_id,
                    "html_name": figure.html_name,
                    "label": figure.label,
                    "value": "" if value is None else value,
                    "errors": list(figure.errors),
                    "not_recorded": bool(self[f"not_recorded_{channel.code}"].value()),
                    "estimate": bool(self[f"estimate_{channel.code}"].value()),
                    "code": channel.code,
                }
            )
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("provision") != Provision.YES:
            return data
        offered = data.get("channels") or []
        if not offered:
            self.add_error("channels", "Select the channels you offer for this transaction")
        if not data.get("end_to_end"):
            self.add_error(
                "end_to_end", "Select whether a resident can complete it end to end online"
            )
        figures = {}
        for channel in self.channel_list:
            code, what = channel.code, f"{lower_first(channel.name)} transactions"
            text = (data.get(f"figure_{code}") or "").strip()
            not_recorded = data.get(f"not_recorded_{code}", False)
            estimate = data.get(f"estimate_{code}", False)
            if code not in offered:
                if text or not_recorded:
                    self.add_error(
                        f"figure_{code}",
                        f"You gave a figure for {lower_first(channel.name)}: select it as a "
                        "channel you offer, or remove the figure",
                    )
                continue
            if text and not_recorded:
                self.add_error(
                    f"figure_{code}",
                    f"Enter the number of {what} or select 'Not recorded', not both",
                )
            elif not text and not not_recorded:
                self.add_error(
                    f"figure_{code}",
                    f"Enter the number of {what}, or select 'Not recorded'",
                )
            elif text:
                try:
                    figures[code] = (parse_whole_number(text, what), False, estimate)
                except ValidationError as error:
                    self.add_error(f"figure_{code}", error)
            else:
                figures[code] = (None, True, estimate)
        data["figures"] = figures
        return data

    def autosave_values(self) -> dict[str, Any]:
        """The parts of a page being filled in that are valid now, as cleaned_data.

        The page is cleaned as for Save and continue, and each part with an error is left
        out (kept as stored): a missing answer, a figure not yet a whole number, a number
        together with "Not recorded". Channels, end to end and figures count only when
        the page says the council provides the service, as on the explicit save. Never the
        confirmation of unusual figures: only the explicit save confirms them.
        """
        self.is_valid()
        # A field with an error is not in cleaned_data (add_error takes it out).
        data = self.cleaned_data
        if data.get("provision") != Provision.YES:
            return {"provision": data["provision"]} if data.get("provision") else {}
        values = {
            name: data[name] for name in ("provision", "channels", "end_to_end") if data.get(name)
        }
        values["figures"] = data["figures"]
        return values


@functools.lru_cache(maxsize=32)
def _channel_fields(channels: tuple[tuple[str, str], ...]) -> dict[str, forms.Field]:
    """Each channel's three fields (figure, "Not recorded", "Estimate"), made once per set of
    channels and shared by every TransactionForm of it: 30 fields built and deep-copied on
    every request were a fifth of the page's own time. Safe to share because nothing
    changes them per form: cleaning only reads a field, errors live on the form, and the
    channel rows are rendered by surveys/markup.py, never through these fields' widgets."""
    fields: dict[str, forms.Field] = {}
    for code, name in channels:
        fields[f"figure_{code}"] = forms.CharField(
            label=f"Number of {lower_first(name)} transactions",
            required=False,
            max_length=30,
            widget=forms.TextInput(
                attrs={"inputmode": "numeric", "spellcheck": "false", "autocomplete": "off"}
            ),
            error_messages={
                "max_length": f"Enter the number of {lower_first(name)} "
                "transactions as a whole number, like 1,250"
            },
        )
        fields[f"not_recorded_{code}"] = forms.BooleanField(label="Not recorded", required=False)
        fields[f"estimate_{code}"] = forms.BooleanField(label="Estimate", required=False)
    return fields


class TelephoneInput(forms.TextInput):
    input_type = "tel"


# Autocomplete hints (WCAG 1.3.5) for the questions about the person filling in the form.
AUTOCOMPLETE = {"respondent-name": "name", "respondent-job-title": "organization-title"}


def _question_field(question: Question) -> forms.Field:
    field = _question_field_of_kind(question)
    hint = AUTOCOMPLETE.get(question.slug) or {
        QuestionKind.EMAIL: "email",
        QuestionKind.PHONE: "tel",
    }.get(question.kind)
    if hint:
        field.widget.attrs["autocomplete"] = hint
    return field


def _question_field_of_kind(question: Question) -> forms.Field:
    required_error = question.required_error or f"Enter {lower_first(question.text)}"
    common: dict[str, Any] = {
        "label": question.text,
        "help_text": question.hint,
        "required": question.required,
        "error_messages": {"required": required_error},
    }
    kind = question.kind
    if kind in (QuestionKind.CHOICE, QuestionKind.SCALE):
        return forms.ChoiceField(
            choices=[tuple(c) for c in question.choices], widget=forms.RadioSelect, **common
        )
    if kind == QuestionKind.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=[tuple(c) for c in question.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == QuestionKind.DATE:
        # GOV.UK date inputs always have an example as hint (crispy-forms-gds also needs
        # one, or it writes an empty aria-describedby on fields with errors).
        common["help_text"] = question.hint or "For example, 27 3 2015"
        messages = common.pop("error_messages")
        field = DateInputField(require_all_fields=False, **common)
        field.error_messages["required"] = messages["required"]
        field.error_messages["incomplete"] = messages["required"]
        field.error_messages["invalid"] = f"{question.text} must be a real date"
        return field
    if kind == QuestionKind.EMAIL:
        common["error_messages"]["invalid"] = (
            "Enter an email address in the correct format, like name@example.gov.uk"
        )
        return forms.EmailField(max_length=254, **common)
    if kind == QuestionKind.TEXTAREA:
        common["error_messages"]["max_length"] = (
            f"{question.text.split(':')[0]} must be 2,000 characters or fewer"
        )
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 5}), **common)
    common["error_messages"]["max_length"] = "Answer must be 200 characters or fewer"
    if kind == QuestionKind.PHONE:
        return forms.CharField(max_length=200, widget=TelephoneInput, **common)
    return forms.CharField(max_length=200, **common)


class QuestionsForm(StateForm):
    """One page of questions, built from the questionnaire definition."""

    def __init__(self, *args: Any, questions: list[Question], title: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[question.slug] = _question_field(question)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_size = Size.SMALL
        self.helper.legend_size = Size.SMALL
        fields = []
        for question in questions:
            field = Field(question.slug)
            if question.kind in (QuestionKind.TEXT, QuestionKind.PHONE):
                field = Field.text(question.slug)
            fields.append(field)
        self.helper.layout = Layout(*fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for question in self.questions:
            value = data.get(question.slug)
            if question.kind == QuestionKind.PHONE and value and not PHONE.match(value):
                self.add_error(
                    question.slug,
                    "Enter a telephone number, like 01632 960 001 or +44 808 157 0192",
                )
            if question.kind == QuestionKind.MONEY and value:
                try:
                    data[question.slug] = parse_money(value, question.text.split(":")[0])
                except ValidationError as error:
                    self.add_error(question.slug, error)
        return data

    def values(self) -> dict[str, Any]:
        """Answers as stored (JSON): dates as ISO strings, text stripped."""
        out = {}
        for question in self.questions:
            value = self.cleaned_data.get(question.slug)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, str):
                value = value.strip()
            out[question.slug] = value
        return out

    def autosave_values(self) -> dict[str, Any]:
        """The answers on the page that are valid now, as values() gives them.

        Each answer is checked on its own, with the explicit save's cleaning, and one
        with an error is left out, unsaved and without an error shown. An empty answer
        is saved (as no answer) only where the question is optional: a required question
        left empty has an error, so clearing it waits for Save and continue, which says
        what is missing, rather than erasing a stored answer in the background.
        """
        self.is_valid()
        return {slug: value for slug, value in self.values().items() if slug not in self.errors}


def parse_money(text: str, what: str) -> str:
    cleaned = text.strip().replace(" ", "")
    if cleaned.startswith("-"):
        raise ValidationError(f"{what} cost must be 0 or more")
    if not MONEY.match(cleaned):
        raise ValidationError(f"Enter {lower_first(what)} cost in pounds, like 2.83")
    try:
        amount = Decimal(cleaned.lstrip("£").replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"Enter {lower_first(what)} cost in pounds, like 2.83") from None
    if amount > MAX_UNIT_COST:
        raise ValidationError(f"{what} cost must be £10,000 or less")
    return str(amount.quantize(Decimal("0.01")))


class SubmitForm(forms.Form):
    # In the order of the page, so the error summary follows it.
    field_order = ["submitted_by", "declaration"]

    declaration = forms.BooleanField(
        label=(
            "I confirm that, to the best of my knowledge, these answers are correct and that "
            "I am submitting them on behalf of my council's chief executive"
        ),
        error_messages={"required": "Confirm the declaration to submit your answers"},
    )
    submitted_by = forms.CharField(
        label="Your full name",
        max_length=200,
        error_messages={"required": "Enter your full name"},
    )


class AssignmentForm(forms.Form):
    """Which sections a contributor answers, and whether they may submit."""

    sections = forms.MultipleChoiceField(
        label="Which sections should they answer?",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select the sections they should answer"},
    )
    can_submit = forms.BooleanField(label="They may submit the council's response", required=False)

    def __init__(self, *args: Any, sections: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section_list = sections
        self.fields["sections"].choices = [("all", "All sections")] + [
            (str(s.pk), s.title) for s in sections
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_size = Size.SMALL
        self.helper.legend_size = Size.SMALL

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = data.get("sections") or []
        data["all_sections"] = "all" in chosen
        data["section_objects"] = [s for s in self.section_list if str(s.pk) in chosen]
        return data


# A web address in a name or role: a scheme, "www.", or a bare domain such as evil.example
# (a word, a dot and letters, with no space). Contributor names and roles are put into
# the emails the service sends, above a genuine link: they must not carry links.
WEB_ADDRESS = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|\b(?:mailto|javascript|data):(?!\s)"
    r"|\b[a-z0-9-]{2,}(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b",
    re.IGNORECASE,
)
# Line breaks, tabs, control and invisible formatting characters (zero-width spaces,
# direction overrides): none belongs in a name, and they can reshape an email.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def plain_line_error(value: str, what: str) -> str:
    """Why a name or role cannot go into an email; empty when it can."""
    if any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in value):
        return f"Enter {what} on one line, without hidden characters"
    if WEB_ADDRESS.search(value):
        return f"Enter {what} without a web address"
    return ""


class ContributorForm(AssignmentForm):
    name = forms.CharField(
        label="Full name", max_length=200, error_messages={"required": "Enter their full name"}
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter their email address",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        },
    )
    role = forms.CharField(
        label="Role or team",
        max_length=200,
        required=False,
        help_text="For example, Revenues and benefits",
    )
    field_order = ["name", "email", "role", "sections", "can_submit"]

    def clean_name(self) -> str:
        return self._plain_line("name", "their full name")

    def clean_role(self) -> str:
        return self._plain_line("role", "their role or team")

    def _plain_line(self, field: str, what: str) -> str:
        value = self.cleaned_data[field]
        error = plain_line_error(value, what)
        if error:
            raise ValidationError(error)
        return value


__all__ = [
    "AssignmentForm",
    "ContributorForm",
    "Fieldset",
    "QuestionsForm",
    "SubmitForm",
    "TransactionForm",
]
