"""Template filters of the respondent journey."""

import datetime

from django import template
from django.utils import timezone

from surveys.forms import choice_options

register = template.Library()
register.filter("choice_options", choice_options)


@register.filter
def govuk_time(value: datetime.datetime | None) -> str:
    """A time in the GOV.UK style, in UK time: "5pm", "6:03am", "midday", "midnight"."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if local.minute == 0 and local.hour in (0, 12):
        return "midnight" if local.hour == 0 else "midday"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


@register.filter
def govuk_datetime(value: datetime.datetime | None) -> str:
    """A date and time in the GOV.UK style: "5pm on 9 July 2015"."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{govuk_time(local)} on {local.day} {local:%B %Y}"
