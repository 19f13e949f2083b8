from django.core.management.base import BaseCommand, CommandError

from reporting.management.commands._common import survey_by_slug
from reporting.services import SyntheticRefused, responses_generate

MAX_SCALE = 49  # three-letter council codes run out beyond this many copies of 353 councils


class Command(BaseCommand):
    help = (
        "Fill a round with synthetic submitted responses for every council in its population "
        "(refused on a round with real responses)."
    )

    def add_arguments(self, parser):
        parser.add_argument("survey_slug")
        parser.add_argument("--seed", type=int, default=2015)
        parser.add_argument(
            "--scale", type=int, default=1, help="K copies of each council, with new GSS-like codes"
        )

    def handle(self, *args, survey_slug, seed, scale, **options):
        if not 1 <= scale <= MAX_SCALE:
            raise CommandError(f"--scale must be between 1 and {MAX_SCALE}")
        survey = survey_by_slug(survey_slug)
        try:
            count = responses_generate(survey_id=survey.pk, seed=seed, scale=scale)
        except SyntheticRefused as error:
            raise CommandError(f"Refused: {error}") from None
        self.stdout.write(f"{count} synthetic responses submitted in {survey.slug}")
