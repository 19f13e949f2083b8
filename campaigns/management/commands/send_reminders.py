"""python manage.py send_reminders <survey-slug> [--councils GSS,...] [--due] [--wait]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.management.commands.send_invitations import (
    add_wait_arguments,
    councils_option,
    report_write,
    wait_for,
)
from campaigns.services import reminders_send_due, reminders_send_now
from surveys.models import Survey


class Command(BaseCommand):
    help = (
        "Send a reminder now to invited councils that have not submitted (keeping the "
        "round's minimum gap and maximum). --due sends only what the schedule says is due."
    )

    def add_arguments(self, parser):
        parser.add_argument("survey", help="The round's slug")
        parser.add_argument("--councils", help="Only these councils: GSS codes, comma-separated")
        parser.add_argument(
            "--due", action="store_true", help="Only the reminders the schedule says are due"
        )
        add_wait_arguments(parser)

    def handle(
        self, *args, survey: str, councils=None, due=False, wait=False, timeout=0, **options
    ):
        try:
            round_ = Survey.objects.get(slug=survey)
        except Survey.DoesNotExist:
            raise CommandError(f"No survey round with slug {survey!r}") from None
        try:
            if due:
                report = reminders_send_due(survey=round_, actor="Command send_reminders --due")
            else:
                report = reminders_send_now(
                    survey=round_,
                    authorities=councils_option(councils),
                    actor="Command send_reminders",
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Reminders for {round_.name}: {report}.")
        report_write(self, report, skipped="No reminder", verbosity=options["verbosity"])
        if wait:
            wait_for(self, report, timeout=timeout)
