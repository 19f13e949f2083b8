"""'Days left' and reminder times in UK time, across the clock changes.

British Summer Time starts at 1am GMT on the last Sunday of March and ends at 2am BST
on the last Sunday of October (31 March and 27 October in 2024).
"""

import datetime

import pytest
import time_machine
from django.core import mail

from campaigns.schedule import LONDON, days_left, days_left_text, reminder_times
from campaigns.services import reminders_send_now
from outbox.models import OutboundEmail
from survey_site.formatting import deadline_text

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("now", "deadline", "expected"),
    [
        # Just after midnight in BST is still the evening before in UTC: UTC dates say 3.
        (datetime.datetime(2024, 4, 1, 0, 30, tzinfo=LONDON),
         datetime.datetime(2024, 4, 3, 17, 0, tzinfo=LONDON), 2),
        # Across the spring change a 47-hour span is two calendar days, not one.
        (datetime.datetime(2024, 3, 30, 9, 0, tzinfo=LONDON),
         datetime.datetime(2024, 4, 1, 8, 30, tzinfo=LONDON), 2),
        # Across the autumn change a 49-hour span is still two calendar days.
        (datetime.datetime(2024, 10, 26, 23, 30, tzinfo=LONDON),
         datetime.datetime(2024, 10, 28, 23, 0, tzinfo=LONDON), 2),
        (datetime.datetime(2024, 10, 27, 0, 30, tzinfo=LONDON),
         datetime.datetime(2024, 10, 27, 23, 59, tzinfo=LONDON), 0),
    ],
)  # fmt: skip
def test_days_left_counts_uk_calendar_days(now, deadline, expected):
    assert days_left(deadline=deadline, now=now) == expected


def test_days_left_text():
    deadline = datetime.datetime(2024, 3, 31, 17, 0, tzinfo=LONDON)
    assert days_left_text(deadline=deadline, now=deadline - datetime.timedelta(hours=3)) == (
        "less than a day"
    )
    evening = datetime.datetime(2024, 3, 30, 23, 59, tzinfo=LONDON)
    assert days_left_text(deadline=deadline, now=evening) == "1 day"
    assert deadline_text(deadline) == "5pm on Sunday 31 March 2024"
    assert deadline_text(datetime.datetime(2024, 10, 27, 12, 0, tzinfo=LONDON)) == (
        "midday on Sunday 27 October 2024"
    )
    assert deadline_text(datetime.datetime(2024, 10, 27, 23, 59, tzinfo=LONDON)) == (
        "11:59pm on Sunday 27 October 2024"
    )


def test_reminders_are_at_9am_uk_time_on_both_sides_of_each_clock_change():
    spring = reminder_times(
        deadline=datetime.datetime(2024, 4, 2, 12, 0, tzinfo=LONDON),
        days_before=[7, 2, 0],
        at=datetime.time(9, 0),
    )
    assert spring == [
        datetime.datetime(2024, 3, 26, 9, 0, tzinfo=UTC),  # GMT
        datetime.datetime(2024, 3, 31, 8, 0, tzinfo=UTC),  # the day BST starts
        datetime.datetime(2024, 4, 2, 8, 0, tzinfo=UTC),
    ]
    autumn = reminder_times(
        deadline=datetime.datetime(2024, 10, 29, 17, 0, tzinfo=LONDON),
        days_before=[2, 1, 0],
        at=datetime.time(9, 0),
    )
    assert autumn == [
        datetime.datetime(2024, 10, 27, 9, 0, tzinfo=UTC),  # the day BST ends
        datetime.datetime(2024, 10, 28, 9, 0, tzinfo=UTC),
        datetime.datetime(2024, 10, 29, 9, 0, tzinfo=UTC),
    ]
    # A reminder on the morning of a 9am deadline would come too late: left out.
    assert (
        reminder_times(
            deadline=datetime.datetime(2024, 4, 2, 9, 0, tzinfo=LONDON),
            days_before=[0],
            at=datetime.time(9, 0),
        )
        == []
    )


@pytest.mark.django_db
def test_reminder_sent_after_midnight_bst_says_the_right_days_left(
    survey, django_capture_on_commit_callbacks
):
    from .conftest import make_council

    council = make_council(survey, "E06000001")
    survey.opens_at = datetime.datetime(2024, 3, 1, 9, tzinfo=LONDON)
    survey.closes_at = datetime.datetime(2024, 4, 3, 17, tzinfo=LONDON)
    survey.save()
    with (
        time_machine.travel(datetime.datetime(2024, 3, 25, 9, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        from campaigns.services import invitations_send

        invitations_send(survey=survey, authorities=[council])
    assert "by 5pm on Wednesday 3 April 2024" in mail.outbox[0].subject
    with (
        time_machine.travel(datetime.datetime(2024, 4, 1, 0, 30, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert reminders_send_now(survey=survey).queued == 1
    reminder = OutboundEmail.objects.get(kind="reminder")
    assert "You have 2 days left: the deadline is 5pm on Wednesday 3 April 2024" in (
        reminder.body_text.replace("\n", " ")
    )
