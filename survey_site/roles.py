"""Roles as groups. Created after every migrate, so a fresh database always has them.

No one role sees both who responded and what they answered, except data stewards, whose
job it is to check councils' own answers (every reading is recorded): administrators run
the fieldwork (councils, rounds, the tracker); analysts see only protected releases.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SURVEY_ADMINISTRATORS = "Survey administrators"
ANALYSTS = "Analysts"
DATA_STEWARDS = "Data stewards"

# (app_label, codename) pairs; codenames of model permissions that do not exist yet
# (a later migration) are simply skipped until they do.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    SURVEY_ADMINISTRATORS: [
        ("authorities", "add_authority"),
        ("authorities", "change_authority"),
        ("authorities", "view_authority"),
        ("surveys", "add_survey"),
        ("surveys", "change_survey"),
        ("surveys", "view_survey"),
        ("surveys", "add_questionnaire"),
        ("surveys", "change_questionnaire"),
        ("surveys", "view_questionnaire"),
        ("surveys", "view_tracker"),
        ("campaigns", "add_campaign"),
        ("campaigns", "change_campaign"),
        ("campaigns", "view_campaign"),
        ("campaigns", "change_emailtemplate"),
        ("campaigns", "view_emailtemplate"),
        ("outbox", "view_emailattempt"),
    ],
    ANALYSTS: [
        ("reporting", "view_dashboards"),
    ],
    DATA_STEWARDS: [
        ("surveys", "view_individual_responses"),
        ("surveys", "export_responses"),
    ],
}


def roles_ensure() -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    for name, pairs in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        query = Q(pk__in=[])
        for app_label, codename in pairs:
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))


def ensure_roles_after_migrate(sender, **kwargs) -> None:
    roles_ensure()
