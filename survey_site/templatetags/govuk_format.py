"""GOV.UK-style dates, times and money in templates: thin wrappers of survey_site.formatting.

Loaded as a template builtin (settings.TEMPLATES), so no {% load %} is needed:
``{{ survey.closes_at|deadline_text }}`` gives "5pm on Friday 31 July 2015".
An empty value renders as an empty string.
"""

from __future__ import annotations

import functools

from django import template

from survey_site import formatting

register = template.Library()


def _blank_if_none(function):
    @functools.wraps(function)  # Django reads the wrapped signature for the argument count
    def wrapped(value, *args):
        return "" if value is None or value == "" else function(value, *args)

    return wrapped


@register.filter
@_blank_if_none
def time_text(value):
    """{{ moment|time_text }}: '6:03am', 'midday'."""
    return formatting.time_text(value)


@register.filter
@_blank_if_none
def date_text(value, weekday=""):
    """{{ moment|date_text }}: '23 December 2026'; with the argument "weekday", names the day."""
    return formatting.date_text(value, weekday=weekday == "weekday")


@register.filter
@_blank_if_none
def datetime_text(value):
    """{{ moment|datetime_text }}: '5pm on 23 December 2026'."""
    return formatting.datetime_text(value)


@register.filter
@_blank_if_none
def deadline_text(value):
    """{{ deadline|deadline_text }}: '5pm on Friday 31 July 2015'."""
    return formatting.deadline_text(value)


@register.filter
@_blank_if_none
def money_text(value):
    """{{ amount|money_text }}: '£1,176,403', a loss with a minus sign."""
    return formatting.money_text(value)
