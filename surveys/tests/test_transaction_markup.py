"""The transaction page's radios and channel rows, built in Python (surveys.markup), are
the same GOV.UK markup the Django templates rendered: markup_reference/ holds those
templates as they were (the radios partial, the field-error partial, the channels group
and the history table's rows of transaction_page.html), rendered here with the same form
in each state."""

import datetime
import re
from pathlib import Path

import pytest
from django.template import Context, Template

from surveys import markup
from surveys.forms import TransactionForm, choice_options

REFERENCE = Path(__file__).parent / "markup_reference"
RADIOS = Template((REFERENCE / "radios.html").read_text(encoding="utf-8"))
CHANNELS = Template((REFERENCE / "channels.html").read_text(encoding="utf-8"))
HISTORY_ROWS = Template((REFERENCE / "history_rows.html").read_text(encoding="utf-8"))


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


def test_history_rows_are_the_templates_rows():
    """Times in UK style, and every value escaped: a name or an answer is text a person typed."""
    history = [
        {
            "when": datetime.datetime(2015, 7, 9, 16, 5, tzinfo=datetime.UTC),
            "who": "Sam O'Neill <sam@example.org>",
            "what": "Web & online",
            "old": "blank",
            "new": "<b>1,200</b>",
        },
        {
            "when": datetime.datetime(2015, 12, 1, 12, 0, tzinfo=datetime.UTC),
            "who": "Chief executive's office",
            "what": "Provides it",
            "old": "No",
            "new": "Yes",
        },
        {"when": None, "who": "", "what": "Channels offered", "old": "none", "new": "Web"},
    ]
    new = normalise(markup.history_rows(history))
    assert new == normalise(HISTORY_ROWS.render(Context({"history": history})))
    assert "5:05pm on 9 July 2015" in new and "midday on 1 December 2015" in new
    assert "&lt;b&gt;1,200&lt;/b&gt;" in new and "O&#x27;Neill" in new and "<b>" not in new
    assert markup.history_rows([]) == ""
