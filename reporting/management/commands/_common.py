from django.core.management.base import CommandError

from surveys.models import Survey


def survey_by_slug(slug: str) -> Survey:
    try:
        return Survey.objects.get(slug=slug)
    except Survey.DoesNotExist:
        raise CommandError(f"No survey round with slug {slug!r}") from None
