"""Fixtures for public releases: a closed small round with its published release."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from reporting.services import release_build
from reporting.tests.conftest import (  # noqa: F401 (fixtures)
    analyst,
    councils,
    questionnaire,
    questionnaire_data,
    small_round,
    survey,
)
from survey_site.roles import SURVEY_ADMINISTRATORS, roles_ensure

from .round_fixtures import two_rounds  # noqa: F401 (fixture)


@pytest.fixture
def published_round(small_round):  # noqa: F811
    """The small round, closed, with its one release built and published to analysts."""
    release = release_build(survey_id=small_round.pk)
    release.refresh_from_db()
    assert release.published_at is not None, release.status
    return small_round


@pytest.fixture
def publisher(db) -> User:
    roles_ensure()
    user = User.objects.create_user("publisher", password="a-long-test-password", is_staff=True)
    user.groups.add(*User.groups.field.related_model.objects.filter(name=SURVEY_ADMINISTRATORS))
    return user
