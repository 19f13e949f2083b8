"""GOV.UK-style dates, times and money: the functions and the template filters over them."""

import datetime
from decimal import Decimal

import pytest
from django.template import engines

from survey_site.formatting import (
    LONDON,
    date_text,
    datetime_text,
    day_month_text,
    deadline_text,
    money_text,
    time_text,
)

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime.datetime(2026, 12, 23, 17, 0, tzinfo=UTC), "5pm"),  # GMT: UTC = UK time
        (datetime.datetime(2026, 7, 1, 16, 0, tzinfo=UTC), "5pm"),  # BST: UK = UTC + 1
        (datetime.datetime(2026, 12, 2, 6, 3, tzinfo=UTC), "6:03am"),
        (datetime.datetime(2026, 12, 2, 12, 0, tzinfo=UTC), "midday"),
        (datetime.datetime(2026, 6, 30, 23, 0, tzinfo=UTC), "midnight"),  # 00:00 BST
        (datetime.datetime(2026, 12, 2, 0, 0, tzinfo=UTC), "midnight"),
        (datetime.datetime(2026, 12, 2, 12, 30, tzinfo=UTC), "12:30pm"),
        (datetime.datetime(2026, 12, 2, 0, 1, tzinfo=UTC), "12:01am"),
        (datetime.datetime(2026, 12, 2, 23, 59, tzinfo=UTC), "11:59pm"),
        (datetime.time(9, 0), "9am"),
        (datetime.time(17, 45), "5:45pm"),
    ],
)  # fmt: skip
def test_time_text_is_govuk_style_in_uk_time(moment, expected):
    assert time_text(moment) == expected


def test_dates_have_no_leading_zero_and_a_full_month():
    assert date_text(datetime.date(2014, 4, 1)) == "1 April 2014"
    assert date_text(datetime.date(2026, 12, 23), weekday=True) == "Wednesday 23 December 2026"
    assert day_month_text(datetime.date(2026, 3, 5)) == "5 March"


def test_a_datetime_gives_its_uk_date_across_midnight_in_summer():
    # 11:30pm UTC on 30 June is 12:30am on 1 July in BST.
    late = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert date_text(late) == "1 July 2026"
    assert datetime_text(late) == "12:30am on 1 July 2026"


def test_datetime_and_deadline_text():
    moment = datetime.datetime(2026, 12, 23, 17, 0, tzinfo=LONDON)
    assert datetime_text(moment) == "5pm on 23 December 2026"
    assert deadline_text(moment) == "5pm on Wednesday 23 December 2026"
    noon = datetime.datetime(2026, 3, 29, 11, 0, tzinfo=UTC)  # first day of BST
    assert deadline_text(noon) == "midday on Sunday 29 March 2026"


@pytest.mark.parametrize(
    ("amount", "pence", "expected"),
    [
        (1176403, False, "£1,176,403"),
        (-1176403, False, "\u2212£1,176,403"),
        (Decimal("-1176403.4"), False, "\u2212£1,176,403"),
        (-0.2, False, "£0"),
        (0, False, "£0"),
        (2.83, True, "£2.83"),
        (-12.1, True, "\u2212£12.10"),
    ],
)  # fmt: skip
def test_money_text_puts_a_minus_sign_before_the_pound(amount, pence, expected):
    assert money_text(amount, pence=pence) == expected


def test_filters_need_no_load_and_leave_empty_values_blank():
    template = engines["django"].from_string(
        "{{ when|time_text }}|{{ when|date_text }}|{{ when|date_text:'weekday' }}|"
        "{{ when|datetime_text }}|{{ when|deadline_text }}|{{ loss|money_text }}|"
        "{{ nothing|datetime_text }}|{{ nothing|money_text }}"
    )
    when = datetime.datetime(2026, 12, 23, 17, 0, tzinfo=UTC)
    assert template.render({"when": when, "loss": -5, "nothing": None}) == (
        "5pm|23 December 2026|Wednesday 23 December 2026|5pm on 23 December 2026|"
        "5pm on Wednesday 23 December 2026|\u2212£5||"
    )
