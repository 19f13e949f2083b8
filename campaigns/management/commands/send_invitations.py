"""python manage.py send_invitations <survey-slug> [--councils GSS,...]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from authorities.models import Authority
from campaigns.services import invitations_send
from surveys.models import Survey


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

    def handle(self, *args, survey: str, councils: str | None = None, **options):
        try:
            round_ = Survey.objects.get(slug=survey)
        except Survey.DoesNotExist:
            raise CommandError(f"No survey round with slug {survey!r}") from None
        try:
            report = invitations_send(survey=round_, authorities=councils_option(councils))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Invitations for {round_.name}: {report}.")
        for name, problem in sorted(report.skipped.items()):
            self.stdout.write(f"  Not invited: {name}: {problem}")
        if report.queued:
            self.stdout.write("Emails are sent by the workers at the configured rate.")
