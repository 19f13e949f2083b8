"""python manage.py send_invitations <survey-slug> [--councils GSS,...] [--wait]"""

import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from authorities.models import Authority
from campaigns.progress import BatchProgress, batch_wait
from campaigns.services import SendReport, invitations_send
from surveys.models import Survey

DEFAULT_TIMEOUT = 3600  # seconds: 353 invitations at 50 a minute take about 7 minutes


def seconds(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError("enter a whole number of seconds, like 600")
    return int(value)


def add_wait_arguments(parser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="Show the batch's progress (queued, sent, failed) until every email is sent "
        "or has failed",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        help=f"With --wait: stop waiting after this many seconds (default {DEFAULT_TIMEOUT}); "
        "the workers go on sending",
    )


def report_write(command: BaseCommand, report: SendReport, *, skipped: str, verbosity: int):
    """One line per reason for skipping, with how many councils; names with -v 2."""
    for reason, count in report.skipped_by_reason():
        command.stdout.write(f"  {skipped}, {reason.lower()}: {count} council{'s' * (count != 1)}")
        if verbosity >= 2:
            for name in sorted(n for n, r in report.skipped.items() if r == reason):
                command.stdout.write(f"    {name}")


def wait_for(command: BaseCommand, report: SendReport, *, timeout: int) -> None:
    """Follow the batch: a line redrawn in place on a terminal, a line per change otherwise."""
    if report.batch is None:
        command.stdout.write("Nothing was queued: nothing to wait for.")
        return
    tty = command.stdout.isatty()
    width = 0

    def show(progress: BatchProgress) -> None:
        nonlocal width
        line = str(progress)
        if tty:
            command.stdout.write(f"\r{line:<{width}}", ending="")
            command.stdout.flush()
            width = len(line)
        else:
            command.stdout.write(line)

    progress = batch_wait(report.batch, timeout=timeout, show=show)
    if tty:
        command.stdout.write("")
    if not progress.done:
        raise CommandError(
            f"Stopped waiting after {timeout} seconds with {progress.queued} email"
            f"{'s' * (progress.queued != 1)} still queued: the workers go on sending them, "
            "and the tracker shows their progress. Is a worker running?"
        )


def councils_option(value: str | None) -> list[Authority] | None:
    if not value:
        return None
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    found = list(Authority.objects.filter(gss_code__in=codes))
    unknown = sorted(set(codes) - {a.gss_code for a in found})
    if unknown:
        raise CommandError(f"Unknown GSS codes: {', '.join(unknown)}")
    return found


class Command(BaseCommand):
    help = (
        "Email each council of a round its invitation and link, once. Running it again "
        "sends nothing twice; councils without a usable contact are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("survey", help="The round's slug")
        parser.add_argument("--councils", help="Only these councils: GSS codes, comma-separated")
        add_wait_arguments(parser)

    def handle(
        self, *args, survey: str, councils: str | None = None, wait=False, timeout=0, **options
    ):
        try:
            round_ = Survey.objects.get(slug=survey)
        except Survey.DoesNotExist:
            raise CommandError(f"No survey round with slug {survey!r}") from None
        try:
            report = invitations_send(
                survey=round_,
                authorities=councils_option(councils),
                actor="Command send_invitations",
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Invitations for {round_.name}: {report}.")
        report_write(self, report, skipped="Not invited", verbosity=options["verbosity"])
        if wait:
            wait_for(self, report, timeout=timeout)
        elif report.queued:
            self.stdout.write("Emails are sent by the workers at the configured rate.")
