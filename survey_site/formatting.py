"""Dates, times and money as people read them, in GOV.UK style, in UK time.

One place for every page, email and human-facing export cell: "5pm on 23 December 2026",
"6:03am", "midday", "midnight", "23 December 2026", "£1,176,403" (a loss after a minus sign,
U+2212). Django's own "a" format gives "p.m." and "H:i" gives "17:00", neither of which the
GOV.UK style guide allows.
Machine formats (JSON timestamps, file names, idempotency keys) stay ISO 8601.

The template filters of the same names live in survey_site.templatetags.govuk_format,
which settings load as a template builtin, so every template can use them without {% load %}.
"""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal

LONDON = zoneinfo.ZoneInfo("Europe/London")
MINUS = "\u2212"  # GOV.UK style uses a true minus sign, not a hyphen, before money


def london(moment: datetime.datetime) -> datetime.datetime:
    """The moment on UK wall-clock time (GMT or BST as the date needs)."""
    return moment.astimezone(LONDON)


def _local(value: datetime.datetime | datetime.time) -> datetime.datetime | datetime.time:
    return london(value) if isinstance(value, datetime.datetime) else value


def time_text(value: datetime.datetime | datetime.time) -> str:
    """'9am', '6:03am', '5:30pm', 'midday', 'midnight'; a datetime is read in UK time."""
    local = _local(value)
    if local.hour == 12 and local.minute == 0:
        return "midday"
    if local.hour == 0 and local.minute == 0:
        return "midnight"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def date_text(value: datetime.date | datetime.datetime, *, weekday: bool = False) -> str:
    """'23 December 2026' (or 'Wednesday 23 December 2026'); a datetime's UK date."""
    day = london(value).date() if isinstance(value, datetime.datetime) else value
    text = f"{day.day} {day:%B %Y}"
    return f"{day:%A} {text}" if weekday else text


def iso_date_text(value: str) -> str:
    """A stored ISO date answer ("2014-04-01") as "1 April 2014"; other text unchanged."""
    try:
        return date_text(datetime.date.fromisoformat(value))
    except (TypeError, ValueError):
        return value


def day_month_text(value: datetime.date | datetime.datetime) -> str:
    """'23 December', for dates whose year is plain from the context."""
    day = london(value).date() if isinstance(value, datetime.datetime) else value
    return f"{day.day} {day:%B}"


def datetime_text(moment: datetime.datetime, *, weekday: bool = False) -> str:
    """'5pm on 23 December 2026' in UK time."""
    return f"{time_text(moment)} on {date_text(moment, weekday=weekday)}"


def deadline_text(deadline: datetime.datetime) -> str:
    """'5pm on Friday 31 July 2015' in UK time: deadlines name the day of the week."""
    return datetime_text(deadline, weekday=True)


def money_text(amount: float | Decimal | int, *, pence: bool = False) -> str:
    """'£1,176,403'; a loss with a minus sign (U+2212) before the pound sign; '£2.83' with pence."""
    sign = MINUS if amount < 0 else ""
    digits = f"{abs(amount):,.2f}" if pence else f"{abs(amount):,.0f}"
    if digits.strip("0,.") == "":
        sign = ""  # a rounded zero is "£0", never minus £0
    return f"{sign}£{digits}"
