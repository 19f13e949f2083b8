"""Reads for survey rounds."""

from __future__ import annotations

import datetime

from authorities.models import Authority, AuthorityQuerySet
from surveys.choices import PopulationKind
from surveys.models import Survey

# The 2015 round's fieldwork date: the population is the councils existing that day.
ENGLAND_2015_DATE = datetime.date(2015, 7, 1)


def survey_population(*, survey: Survey) -> AuthorityQuerySet:
    """The councils a round invites."""
    if survey.population == PopulationKind.ENGLAND_2015:
        return Authority.objects.existing_on(ENGLAND_2015_DATE)
    if survey.population == PopulationKind.CURRENT:
        return Authority.objects.current()
    return Authority.objects.filter(pk__in=survey.chosen_authorities.values("pk"))
