"""GOV.UK markup for the transaction page's radios and channel rows, built in Python.

The page is the journey's busiest: through Django templates its two radios groups and ten
channel rows cost about 300 variable lookups and a dozen includes per request, more than
the rest of the page. These functions give the same markup (escaped as the templates
escape: conditional_escape) at a fraction of the cost; surveys/tests/
test_transaction_markup.py holds the templates they replaced and checks both agree.
"""

from __future__ import annotations

from html import escape

from django import forms
from django.utils.safestring import SafeString, mark_safe

from survey_site.templatetags.govuk_format import datetime_text
from surveys.forms import TransactionForm, choice_options

CHANNELS_HINT = (
    "Select all that apply. For each channel you select, give the number of transactions "
    'in the period as a whole number, or select "Not recorded". Select "Estimate" if the '
    "figure is an estimate."
)


def esc(value) -> str:
    """Django's conditional_escape without its lazy-string wrapper (about 130 calls a page):
    a value with __html__ is already safe, anything else is escaped as Django escapes it
    (html.escape with quotes)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def error_messages(element_id: str, errors) -> str:
    """The GOV.UK error message of each error, for the element ``element_id``."""
    return "".join(
        f'<p class="govuk-error-message" id="{esc(element_id)}-error">'
        f'<span class="govuk-visually-hidden">Error:</span> {esc(error)}</p>'
        for error in errors
    )


def field_errors(field: forms.BoundField) -> str:
    """A field's error messages (templates/surveys/_field_error.html)."""
    return error_messages(field.auto_id, field.errors)


def radios(field: forms.BoundField, size: str = "m", inline: bool = False) -> SafeString:
    """A bound ChoiceField as GOV.UK radios in their form group, with its errors."""
    errors = field.errors
    items = "\n".join(
        '<div class="govuk-radios__item">\n'
        f'<input class="govuk-radios__input" id="{esc(radio["id"])}" name="{esc(radio["name"])}"'
        f' type="radio" value="{esc(radio["value"])}"{" checked" if radio["checked"] else ""}>\n'
        f'<label class="govuk-label govuk-radios__label" for="{esc(radio["id"])}">'
        f"{esc(radio['label'])}</label>\n</div>"
        for radio in choice_options(field)
    )
    described = f' aria-describedby="{esc(field.auto_id)}-error"' if errors else ""
    return mark_safe(
        f'<div class="govuk-form-group{" govuk-form-group--error" if errors else ""}">\n'
        f'<fieldset class="govuk-fieldset"{described}>\n'
        f'<legend class="govuk-fieldset__legend govuk-fieldset__legend--{esc(size)}">'
        f"{esc(field.label)}</legend>\n"
        f"{field_errors(field)}\n"
        f'<div class="govuk-radios{" govuk-radios--inline" if inline else ""}"'
        ' data-module="govuk-radios">\n'
        f"{items}\n</div>\n</fieldset>\n</div>"
    )


def _flag(code: str, name: str, label: str, checked: bool) -> str:
    box_id = f"id_{name}_{code}"
    return (
        '<div class="govuk-checkboxes__item">\n'
        f'<input class="govuk-checkboxes__input" id="{box_id}" name="{name}_{code}"'
        f' type="checkbox" value="on"{" checked" if checked else ""}>\n'
        f'<label class="govuk-label govuk-checkboxes__label" for="{box_id}">{label}</label>\n'
        "</div>"
    )


def _channel_row(row: dict, box_name: str) -> str:
    code = esc(row["code"])
    box_id = esc(row["box_id"])
    figure_id = esc(row["id"])
    errors = row["errors"]
    error = " govuk-form-group--error" if errors else ""
    described = f' aria-describedby="{figure_id}-error"' if errors else ""
    messages = error_messages(row["id"], errors)
    hidden = "" if row["offered"] else " govuk-checkboxes__conditional--hidden"
    return (
        '<div class="govuk-checkboxes__item">\n'
        f'<input class="govuk-checkboxes__input" id="{box_id}" name="{box_name}" type="checkbox"'
        f' value="{code}"{" checked" if row["offered"] else ""}'
        f' data-aria-controls="conditional-{code}" aria-describedby="{box_id}-hint">\n'
        f'<label class="govuk-label govuk-checkboxes__label" for="{box_id}">'
        f"{esc(row['name'])}</label>\n"
        f'<div class="govuk-hint govuk-checkboxes__hint" id="{box_id}-hint">'
        f"{esc(row['definition'])}</div>\n"
        "</div>\n"
        f'<div class="govuk-checkboxes__conditional{hidden}" id="conditional-{code}">\n'
        f'<div class="govuk-form-group{error}">\n'
        f'<fieldset class="govuk-fieldset"{described}>\n'
        '<legend class="govuk-fieldset__legend govuk-visually-hidden">'
        f"{esc(row['name'])}</legend>\n"
        f"{messages}\n"
        f'<label class="govuk-label" for="{figure_id}">{esc(row["label"])}</label>\n'
        f'<input class="govuk-input govuk-input--width-10{" govuk-input--error" if errors else ""}"'
        f' id="{figure_id}" name="{esc(row["html_name"])}" type="text" inputmode="numeric"'
        f' spellcheck="false" autocomplete="off" value="{esc(row["value"])}">\n'
        '<div class="govuk-checkboxes govuk-checkboxes--small app-figure-flags"'
        ' data-module="govuk-checkboxes">\n'
        f"{_flag(code, 'not_recorded', 'Not recorded', row['not_recorded'])}\n"
        f"{_flag(code, 'estimate', 'Estimate', row['estimate'])}\n"
        "</div>\n</fieldset>\n</div>\n</div>"
    )


def channels_group(form: TransactionForm) -> SafeString:
    """The channels question: a GOV.UK checkbox per channel, each revealing its figure
    (a whole number, "Not recorded", "Estimate"); without JavaScript every figure shows."""
    field = form["channels"]
    errors = field.errors
    described = f"channels-hint {esc(field.auto_id)}-error" if errors else "channels-hint"
    box_name = esc(field.html_name)
    rows = "\n".join(_channel_row(row, box_name) for row in form.channel_rows())
    return mark_safe(
        f'<div class="govuk-form-group{" govuk-form-group--error" if errors else ""}">\n'
        f'<fieldset class="govuk-fieldset" aria-describedby="{described}">\n'
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--m">'
        f"{esc(field.label)}</legend>\n"
        f'<div class="govuk-hint" id="channels-hint">{CHANNELS_HINT}</div>\n'
        f"{field_errors(field)}\n"
        '<div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes">\n'
        f"{rows}\n</div>\n</fieldset>\n</div>"
    )


def history_rows(history: list[dict]) -> SafeString:
    """The rows of a page's history table: when, who, what, from, to (the newest first).
    Times through the template's own datetime_text filter (blank for no time)."""
    return mark_safe(
        "\n".join(
            '<tr class="govuk-table__row">'
            f'<td class="govuk-table__cell">{esc(datetime_text(change["when"]))}</td>'
            f'<td class="govuk-table__cell">{esc(change["who"])}</td>'
            f'<td class="govuk-table__cell">{esc(change["what"])}</td>'
            f'<td class="govuk-table__cell">{esc(change["old"])}</td>'
            f'<td class="govuk-table__cell">{esc(change["new"])}</td></tr>'
            for change in history
        )
    )
