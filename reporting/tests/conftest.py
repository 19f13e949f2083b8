"""Fixtures for reporting tests: a questionnaire, a small round of hand-made responses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from surveys.tests.conftest import (  # noqa: F401 (fixtures)
    councils,
    questionnaire,
    questionnaire_data,
    survey,
)

from .factories import SMALL_ROUND, close_round, make_small_round


@pytest.fixture
def small_round(survey):  # noqa: F811
    """Six councils with hand-made figures (see factories.SMALL_ROUND), in a round whose
    deadline has passed, so that its release is published."""
    make_small_round(survey, SMALL_ROUND)
    return close_round(survey)


def _user(username: str, *codenames: str, staff: bool = True) -> User:
    user = User.objects.create_user(username, password="a-long-test-password", is_staff=staff)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def analyst(db) -> User:
    return _user("analyst", "view_dashboards")


@pytest.fixture
def internals_analyst(db) -> User:
    return _user("statistician", "view_dashboards", "view_suppression_internals")


@pytest.fixture
def administrator(db) -> User:
    return _user("administrator", "view_tracker", "change_survey")


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client
