"""Roles as groups. Created after every migrate, so a fresh database always has them.

No one role sees both who responded and what they answered, except data stewards, whose
job it is to check councils' own answers (every reading is recorded): administrators run
the fieldwork (councils, rounds, the tracker); analysts see only protected releases.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
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
        ("campaigns", "view_emailattempt"),
        ("surveys", "view_linkdownload"),
        ("outbox", "view_emailattempt"),
        ("publishing", "publish_public_release"),
    ],
    ANALYSTS: [
        ("reporting", "view_dashboards"),
        ("publishing", "draft_public_release"),
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


class AdministratorExists(Exception):
    pass


@transaction.atomic
def administrator_create(*, username: str, email: str, password: str) -> User:
    """A survey administrator who can run the Django admin and manage accounts (staff and
    superuser), in the Survey administrators group and no other: no access to councils'
    answers or suppression internals, which need their own group or permission
    (`holds` ignores superuser status). Raises ValidationError for a weak password."""
    if User.objects.filter(username__iexact=username).exists():
        raise AdministratorExists(f"A user called {username} already exists")
    user = User(username=username, email=email, is_staff=True, is_superuser=True)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    roles_ensure()
    user.groups.set([Group.objects.get(name=SURVEY_ADMINISTRATORS)])
    return user


def role_permissions(user) -> frozenset[str]:
    """The "app_label.codename" permissions a user really holds: given to them or to one
    of their groups. Being a superuser adds none (unlike User.has_perm, which grants a
    superuser everything): roles stay separate for superusers too. Cached on the user
    object for the request."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    cached = getattr(user, "_role_permissions", None)
    if cached is None:
        rows = (
            Permission.objects.filter(Q(user=user) | Q(group__user=user))
            .values_list("content_type__app_label", "codename")
            .distinct()
        )
        cached = frozenset(f"{app_label}.{codename}" for app_label, codename in rows)
        user._role_permissions = cached
    return cached


def holds(user, permission: str) -> bool:
    """Whether the user holds `permission` through their role, never merely as superuser."""
    return permission in role_permissions(user)


def role_required(*permissions: str) -> Callable[[Callable], Callable]:
    """A view for holders of any of `permissions` (see `holds`): anonymous users go to sign
    in, everyone else gets the 403 page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not any(holds(request.user, permission) for permission in permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(guarded)

    return decorator
