from pathlib import Path

from django.core.management.base import BaseCommand

from reporting.management.commands._common import survey_by_slug
from reporting.selectors_raw import RAW_HEADER, raw_figure_rows
from survey_site.exports import write_csv


class Command(BaseCommand):
    help = (
        "For data stewards: raw submitted figures, one row per council x transaction x channel "
        "(no free text, no personal data)."
    )

    def add_arguments(self, parser):
        parser.add_argument("survey_slug")
        parser.add_argument("--output", required=True)

    def handle(self, *args, survey_slug, output, **options):
        survey = survey_by_slug(survey_slug)
        path = Path(output)
        with path.open("w", encoding="utf-8", newline="") as stream:
            write_csv(stream, RAW_HEADER, raw_figure_rows(survey=survey))
        self.stdout.write(f"Figures of {survey.slug} written to {path}")
