"""What analysts never see: the rule parameters and councils' free-text answers.

Every analyst page (each transaction's channel page too) and every download is read back as
text, the workbook cell by cell with openpyxl (the file itself is zipped).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from reporting.models import ReleaseCell, ReleaseStatus
from reporting.services import release_build
from surveys.models import Answer, Question
from surveys.tests.factories import make_authority

from .analyst_outputs import analyst_outputs
from .factories import submitted_response

pytestmark = [pytest.mark.django_db]

# Parameters no default and no figure of the small round shares: a p of 17, at least 4
# contributors, groups of at least 13 councils.
P_PERCENT = 17
MIN_CONTRIBUTORS = 4
GROUP_MIN_SIZE = 13
TELLTALES = (
    f"{P_PERCENT}%",
    f"{P_PERCENT} %",
    f"{P_PERCENT} per cent",
    f"p={P_PERCENT}",
    f"p = {P_PERCENT}",
    "p%",
    "p_percent",
    "min_contributors",
    "group_min_size",
    "DISCLOSURE_",
    f"fewer than {MIN_CONTRIBUTORS}",
    f"at least {MIN_CONTRIBUTORS}",
    f"{GROUP_MIN_SIZE} councils",
    f"at least {GROUP_MIN_SIZE}",
)

# Free-text questions of the 2015 questionnaire and answers no figure or label can contain.
FREE_TEXT = {
    "biggest-barrier": "Qxv7 legacy mainframe Wibblesoft contract",
    "platform-crm-supplier": "Zorblax CRM 9000 from Grommet Ltd",
}
SECRETS = ("Qxv7", "Wibblesoft", "Zorblax", "Grommet")


@pytest.fixture
def strict_rules(settings):
    settings.DISCLOSURE_P_PERCENT = P_PERCENT
    settings.DISCLOSURE_MIN_CONTRIBUTORS = MIN_CONTRIBUTORS
    settings.DISCLOSURE_GROUP_MIN_SIZE = GROUP_MIN_SIZE


def test_rule_parameters_are_recorded_on_the_release_but_shown_nowhere(
    strict_rules, small_round, analyst_client, client, internals_analyst
):
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.READY, release.error
    assert release.published_at is not None
    assert release.rules == {
        "min_contributors": MIN_CONTRIBUTORS,
        "p": float(P_PERCENT),
        "nk": None,
        "group_min_size": GROUP_MIN_SIZE,
    }
    seen = list(analyst_outputs(analyst_client, small_round).items())
    assert len(seen) >= 9
    assert any("[c]" in text for _, text in seen)
    # A statistician sees the same pages plus the suppression details.
    client.force_login(internals_analyst)
    seen += analyst_outputs(client, small_round).items()
    details = reverse("reporting:release-suppression", args=[small_round.slug])
    internals = client.get(details)
    assert internals.status_code == 200
    assert "Primary suppression" in internals.content.decode()
    seen.append((details, internals.content.decode()))
    for url, text in seen:
        for telltale in TELLTALES:
            assert telltale not in text, (url, telltale)
        assert '"rules"' not in text, url


def test_free_text_answers_are_absent_from_the_answers_page_and_every_download(
    small_round, analyst_client
):
    authority = make_authority("E06000007", kind="unitary", region="north_east")
    response = submitted_response(
        small_round,
        authority,
        {"WEB": 700, "PHONE": 200, "F2F": 50},
        {**FREE_TEXT, "platform-crm-used": "yes"},
    )
    free = Question.objects.filter(
        section__questionnaire=small_round.questionnaire, slug__in=FREE_TEXT, free_text=True
    )
    assert free.count() == len(FREE_TEXT)
    stored = Answer.objects.filter(response=response, question__in=free)
    assert sorted(stored.values_list("value", flat=True)) == sorted(FREE_TEXT.values())
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.READY, release.error
    assert release.counts["respondents"] == 7
    outputs = analyst_outputs(analyst_client, small_round)
    answers_page = next(text for url, text in outputs.items() if url.endswith("/answers/"))
    # The council's closed answer in the same section is tabulated; its free text is not.
    assert Question.objects.get(slug="platform-crm-used").text in answers_page
    crm_used = ReleaseCell.objects.filter(
        release=release, table="answers", keys__question="platform-crm-used"
    )
    assert crm_used.filter(keys__answer="yes").exists()
    assert not ReleaseCell.objects.filter(release=release, keys__question__in=FREE_TEXT).exists()
    for url, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, (url, secret)
        for question in free:
            assert question.text not in text, (url, question.slug)
