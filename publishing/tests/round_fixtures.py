"""Two real rounds of the same questionnaire (2015 and 2016), built and published through the
normal services, with councils reorganised between them (the ``two_rounds`` fixture)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from authorities.models import Authority
from publishing import services
from reporting.publication import Publication
from reporting.services import release_build
from reporting.tests.factories import SMALL_ROUND, submitted_response
from surveys.choices import SurveyStatus
from surveys.tests.factories import make_authority, make_survey

UK = zoneinfo.ZoneInfo("Europe/London")
TRANSACTION = "pay-council-tax"
# Councils reorganised between the two rounds (1 April 2016), in the South West.
ABOLISHED = datetime.date(2016, 3, 31)
FORMED = datetime.date(2016, 4, 1)


def uk(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UK)


def a_round(questionnaire, slug: str, opens: datetime.datetime, closes: datetime.datetime):
    return make_survey(
        questionnaire,
        name=f"Channel baseline {slug}",
        slug=slug,
        opens_at=opens,
        closes_at=closes,
        status=SurveyStatus.CLOSED,
    )


def publish(survey, publisher) -> Publication:
    """Build the round's release (published to analysts), then publish its public version."""
    release = release_build(survey_id=survey.pk)
    release.refresh_from_db()
    assert release.published_at is not None, release.status
    draft = services.draft_start(survey=survey, user=publisher)
    services.publish(draft=draft, user=publisher)
    return services.public_publication(survey)[1]


def council(gss: str, code: str, **extra) -> Authority:
    return make_authority(gss, code=code, region="south_west", **extra)


@pytest.fixture
def two_rounds(questionnaire, publisher):
    """2015 and 2016 rounds of the same questionnaire, both public.

    The six councils of the small round answer both; 2016's figures move some channels up,
    some down and leave face to face as it was. In the South West (unitary councils, so that
    no council type has a single council), two councils merged into a new one (both answered
    2015), two others merged into another (one answered 2015), and a fifth was split between
    two new councils.
    """
    first = a_round(questionnaire, "round-2015", uk(2015, 6, 1), uk(2015, 7, 9, 17))
    second = a_round(questionnaire, "round-2016", uk(2016, 6, 1), uk(2016, 7, 8, 17))
    for gss, kind, region, figures, _answers in SMALL_ROUND:
        authority = make_authority(gss, kind=kind, region=region)
        submitted_response(first, authority, figures)
        later = {
            "WEB": figures["WEB"] + 300,
            "PHONE": figures["PHONE"] - 50,
            "F2F": figures["F2F"],
        }
        submitted_response(second, authority, later)

    new = {"start_date": FORMED, "kind": "unitary"}
    merged = council("E06000901", "MGA", **new)
    partly = council("E06000902", "MGB", **new)
    north, south = council("E06000903", "SPN", **new), council("E06000904", "SPS", **new)
    divided = council("E06000900", "SPC", kind="unitary", end_date=ABOLISHED)
    divided.successors.set([north, south])
    predecessors = {}
    for gss, code, successor, web in [
        ("E06000911", "PRA", merged, 700),
        ("E06000912", "PRB", merged, 800),
        ("E06000913", "PRC", partly, 900),
        ("E06000914", "PRD", partly, None),  # did not respond in 2015
    ]:
        predecessor = council(gss, code, kind="unitary", end_date=ABOLISHED)
        predecessor.successors.set([successor])
        predecessors[code] = predecessor
        if web is not None:
            submitted_response(first, predecessor, {"WEB": web, "PHONE": 100})
    submitted_response(first, divided, {"WEB": 500, "PHONE": 60})
    for successor in (merged, partly, north, south):
        submitted_response(second, successor, {"WEB": 2000, "PHONE": 150})

    return {
        "first": first,
        "second": second,
        "previous": publish(first, publisher),
        "current": publish(second, publisher),
        "merged": merged,
        "partly": partly,
        "split": north,
        "predecessors": predecessors,
    }
