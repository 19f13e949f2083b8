import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reporting.exports import release_csv, release_json, release_xlsx
from reporting.management.commands._common import survey_by_slug
from reporting.publication import Publication


class Command(BaseCommand):
    help = "Write the published release of a round to a file."

    def add_arguments(self, parser):
        parser.add_argument("survey_slug")
        parser.add_argument("--format", choices=["json", "xlsx", "csv"], required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args, survey_slug, format, output, **options):
        survey = survey_by_slug(survey_slug)
        publication = Publication.of(survey)
        if publication is None:
            raise CommandError(
                f"Round {survey.slug} has no published release: a round's results are published "
                "once, after every council's deadline has passed"
            )
        path = Path(output)
        if format == "xlsx":
            path.write_bytes(release_xlsx(publication=publication))
        elif format == "csv":
            with path.open("w", encoding="utf-8", newline="") as stream:
                release_csv(publication=publication, stream=stream)
        else:
            path.write_text(
                json.dumps(release_json(publication=publication), indent=1), encoding="utf-8"
            )
        self.stdout.write(f"Release {publication.number} of {survey.slug} written to {path}")
