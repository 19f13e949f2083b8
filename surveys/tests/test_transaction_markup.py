"""The transaction page's radios and channel rows, built in Python (surveys.markup), are
the same GOV.UK markup the Django templates rendered: markup_reference/ holds those
templates as they were (the radios partial, the field-error partial and the channels group
of transaction_page.html), rendered here with the same form in each state."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from surveys import markup
from surveys.forms import TransactionForm, choice_options

REFERENCE = Path(__file__).parent / "markup_reference"
RADIOS = Template((REFERENCE / "radios.html").read_text(encoding="utf-8"))
CHANNELS = Template((REFERENCE / "channels.html").read_text(encoding="utf-8"))


def normalise(html: str) -> str:
    """Whitespace runs become one space, and none between tags: layout, not content."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def templates_render(form: TransactionForm) -> str:
    return "".join(
        [
            RADIOS.render(
                Context(
                    {"field": form["provision"], "size": "m", "inline": False}
                    | {"options": choice_options(form["provision"])}
                )
            ),
            CHANNELS.render(Context({"form": form})),
            RADIOS.render(
                Context(
                    {"field": form["end_to_end"], "size": "m", "inline": True}
                    | {"options": choice_options(form["end_to_end"])}
                )
            ),
        ]
    )


def python_render(form: TransactionForm) -> str:
    return "".join(
        [
            markup.radios(form["provision"]),
            markup.channels_group(form),
            markup.radios(form["end_to_end"], inline=True),
        ]
    )


STATES = {
    "empty": {},
    "filled": {
        "provision": "yes",
        "channels": ["WEB", "PHONE", "F2F"],
        "end_to_end": "partly",
        "figure_WEB": "1,200",
        "figure_PHONE": "340",
        "not_recorded_F2F": "on",
        "estimate_WEB": "on",
    },
    "errors": {"provision": "", "channels": ["WEB", "NOPE"], "figure_WEB": "x" * 40},
    "figures of a channel not offered": {
        "provision": "yes",
        "channels": ["PHONE"],
        "figure_WEB": "12",
        "figure_PHONE": "<b>&amp;</b>",
    },
}


@pytest.mark.parametrize("bound", [False, True], ids=["initial", "posted"])
@pytest.mark.parametrize("state", STATES)
def test_python_markup_is_the_templates_markup(questionnaire, state, bound):
    channels = list(questionnaire.channels.order_by("order"))
    values = STATES[state]
    if bound:
        form = TransactionForm(values, channels=channels)
        form.is_valid()
    else:
        form = TransactionForm(initial=values, channels=channels)
    new = normalise(python_render(form))
    assert new == normalise(templates_render(form))
    if state == "errors" and bound:
        assert "govuk-form-group--error" in new and "govuk-error-message" in new
    if state == "filled":
        assert 'value="WEB" checked' in new and 'value="1,200"' in new


def test_the_page_shows_the_python_markup(client_in, response):
    """The whole page, posted with errors, carries the same fields as the form alone."""
    page = client_in.post(
        "/survey/transactions/pay-council-tax/", {"provision": "yes", "figure_WEB": "x"}
    ).content.decode()
    channels = list(response.survey.questionnaire.channels.order_by("order"))
    form = TransactionForm({"provision": "yes", "figure_WEB": "x"}, channels=channels)
    form.is_valid()
    assert normalise(markup.channels_group(form)) in normalise(page)
    assert "govuk-input--error" in page
