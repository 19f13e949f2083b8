"""Reminder times and "days left", computed in the councils' time zone (Europe/London).

Everything works on London calendar dates and wall-clock times, never on multiples of
24 hours, so that the days either side of a clock change (last Sunday of March and of
October) count as one day each and "9am" stays 9am in UK time.
"""

from __future__ import annotations

import datetime
import itertools

from survey_site.formatting import LONDON, day_month_text, london, time_text
from surveys.models import Survey


def days_left(*, deadline: datetime.datetime, now: datetime.datetime) -> int:
    """Calendar days from today to the deadline's day, in UK time (0 on the last day)."""
    return (london(deadline).date() - london(now).date()).days


def days_left_text(*, deadline: datetime.datetime, now: datetime.datetime) -> str:
    days = days_left(deadline=deadline, now=now)
    if days <= 0:
        return "less than a day"
    return "1 day" if days == 1 else f"{days} days"


def reminder_times(
    *, deadline: datetime.datetime, days_before: list[int], at: datetime.time
) -> list[datetime.datetime]:
    """When each reminder is due: `at` UK time, so many calendar days before the deadline.

    Times at or after the deadline are left out (a 0-day reminder for a 9am deadline).
    """
    last_day = london(deadline).date()
    times = []
    for days in sorted(set(days_before), reverse=True):
        day = last_day - datetime.timedelta(days=days)
        # zoneinfo resolves a wall time in the spring gap forwards, and the autumn overlap
        # to its first occurrence (fold=0): either way one instant per reminder.
        due = datetime.datetime.combine(day, at, tzinfo=LONDON)
        if due < deadline:
            times.append(due.astimezone(datetime.UTC))
    return times


def schedule_errors(
    *,
    survey: Survey,
    days_before: list[int],
    at: datetime.time,
    min_gap: datetime.timedelta,
    max_reminders: int,
) -> list[str]:
    """Why a reminder cadence cannot work for this round; empty when it fits."""
    if not days_before:
        return []
    errors = []
    if len(days_before) > max_reminders:
        errors.append(
            f"There are {len(days_before)} reminders but the maximum is {max_reminders}: "
            "remove some or raise the maximum"
        )
    last_day = london(survey.closes_at).date()
    times = []
    for days in sorted(set(days_before), reverse=True):
        due = datetime.datetime.combine(last_day - datetime.timedelta(days=days), at, tzinfo=LONDON)
        if due >= survey.closes_at:
            errors.append(
                f"A reminder {days} days before the deadline at {time_text(at)} would be sent "
                "after the deadline"
            )
        elif due <= survey.opens_at:
            errors.append(
                f"A reminder {days} days before the deadline would be sent before the round opens"
            )
        else:
            times.append(due)
    for earlier, later in itertools.pairwise(times):
        if later - earlier < min_gap:
            errors.append(
                f"Reminders on {day_month_text(earlier)} and {day_month_text(later)} are closer "
                f"than the minimum gap of {min_gap.total_seconds() / 3600:g} hours"
            )
    return errors
