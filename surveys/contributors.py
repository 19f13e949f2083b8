"""Delegation: the council's link holder asks named officers to contribute.

Each contributor has a personal link (the same security as council links: derived with
the link key, stored as a hash, revocable, expiring with the round), sees only their
council's response, and may be limited to assigned sections. Every answer they give is
attributed to them; revoking them stops their link at once and keeps their answers.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils import timezone

from authorities.choices import LinkKind
from authorities.models import AccessLink
from authorities.tokens import derive_token, hash_token, new_nonce
from outbox.sending import LINK_MARKER
from surveys.choices import ChangeKind, RevokeContributors
from surveys.models import (
    ChangeRecord,
    Contributor,
    EmailKind,
    Response,
    Section,
)
from surveys.services import email_enqueue, link_reissue, response_deadline


def _record(response: Response, actor: str, key: str, old, new) -> None:
    ChangeRecord.objects.create(
        response=response,
        changed_by=actor,
        kind=ChangeKind.STATUS,
        key=key,
        old_value=old,
        new_value=new,
    )


def contributor_link(*, contributor: Contributor) -> AccessLink:
    """The contributor's live link, created once."""
    live = contributor.links.filter(revoked_at__isnull=True).first()
    if live is not None:
        return live
    nonce = new_nonce()
    return AccessLink.objects.create(
        response=contributor.response,
        kind=LinkKind.CONTRIBUTOR,
        contributor=contributor,
        nonce=nonce,
        token_hash=hash_token(derive_token(purpose=LinkKind.CONTRIBUTOR, nonce=nonce)),
    )


def _sections_text(contributor: Contributor) -> list[str]:
    if contributor.all_sections:
        return ["All sections"]
    return [s.title for s in contributor.sections.order_by("order")]


def _email_contributor(contributor: Contributor, kind: str, key: str, template: str) -> None:
    # The outbox keeps the marker and the link's row; the URL goes in only when sent.
    response = contributor.response
    context = {
        "contributor": contributor,
        "authority": response.authority,
        "survey": response.survey,
        "deadline": response_deadline(response),
        "link": LINK_MARKER,
        "sections": _sections_text(contributor),
    }
    email_enqueue(
        response=response,
        kind=kind,
        key=key,
        to_address=contributor.email,
        subject=" ".join(render_to_string(f"emails/{template}_subject.txt", context).split()),
        body_text=render_to_string(f"emails/{template}.txt", context),
        body_html=render_to_string(f"emails/{template}.html", context),
        link=contributor_link(contributor=contributor),
    )


class ContributorRefused(Exception):
    """Adding a contributor would pass a limit; the message says which, for the form."""


def _check_limits(response: Response, now) -> None:
    """At most CONTRIBUTORS_MAX contributors at once and CONTRIBUTOR_INVITATIONS_PER_HOUR
    added (so emailed) an hour: the survey must not serve as a mailer."""
    most = settings.CONTRIBUTORS_MAX
    if response.contributors.filter(revoked_at__isnull=True).count() >= most:
        raise ContributorRefused(
            f"You can have up to {_count(most)} at once. Remove one before adding another."
        )
    per_hour = settings.CONTRIBUTOR_INVITATIONS_PER_HOUR
    hour = datetime.timedelta(hours=1)
    recent = list(
        response.contributors.filter(created_at__gt=now - hour)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:per_hour]
    )
    if len(recent) >= per_hour:
        minutes = math.ceil((recent[-1] + hour - now).total_seconds() / 60)
        raise ContributorRefused(
            f"You have added {_count(per_hour)} in the last hour. You can add another "
            f"in {minutes} minute{pluralize(minutes)}."
        )


@transaction.atomic
def contributor_add(
    *,
    response: Response,
    name: str,
    email: str,
    role: str,
    sections: Iterable[Section],
    all_sections: bool,
    can_submit: bool,
    actor: str,
) -> Contributor:
    """Add a contributor, create their link and email it to them (once). Raises
    ContributorRefused when a limit would be passed."""
    Response.objects.select_for_update().filter(pk=response.pk).first()  # one at a time
    _check_limits(response, timezone.now())
    contributor = Contributor.objects.create(
        response=response,
        name=name,
        email=email.lower(),
        role=role,
        all_sections=all_sections,
        can_submit=can_submit,
    )
    contributor.sections.set([] if all_sections else list(sections))
    contributor_link(contributor=contributor)
    _record(
        response,
        actor,
        f"contributor:{contributor.pk}",
        None,
        {"added": contributor.label, "sections": _sections_text(contributor)},
    )
    _email_contributor(
        contributor,
        EmailKind.CONTRIBUTOR_ADDED,
        f"{EmailKind.CONTRIBUTOR_ADDED}:{contributor.pk}",
        "contributor_added",
    )
    return contributor


@transaction.atomic
def contributor_reassign(
    *,
    contributor: Contributor,
    sections: Iterable[Section],
    all_sections: bool,
    can_submit: bool,
    actor: str,
) -> bool:
    """Change what a contributor may answer; email them when their sections changed."""
    locked = Contributor.objects.select_for_update().get(pk=contributor.pk)
    before = (_sections_text(locked), locked.can_submit)
    locked.all_sections = all_sections
    locked.can_submit = can_submit
    locked.save(update_fields=["all_sections", "can_submit"])
    locked.sections.set([] if all_sections else list(sections))
    after = (_sections_text(locked), locked.can_submit)
    if before == after:
        return False
    key = f"contributor:{locked.pk}"
    _record(
        locked.response,
        actor,
        key,
        {"sections": before[0], "can_submit": before[1]},
        {"sections": after[0], "can_submit": after[1]},
    )
    if before[0] != after[0]:
        event = ChangeRecord.objects.filter(response=locked.response, key=key).count()
        _email_contributor(
            locked,
            EmailKind.CONTRIBUTOR_REASSIGNED,
            f"{EmailKind.CONTRIBUTOR_REASSIGNED}:{locked.pk}:{event}",
            "contributor_reassigned",
        )
    return True


@transaction.atomic
def contributor_revoke(
    *, contributor: Contributor, actor: str, reason: str = "Contributor removed"
) -> None:
    """Stop a contributor at once: their link no longer works and their sessions end at
    their next request (surveys.respondent); their answers stay theirs."""
    locked = Contributor.objects.select_for_update().get(pk=contributor.pk)
    if locked.is_revoked:
        return
    now = timezone.now()
    locked.revoked_at = now
    locked.save(update_fields=["revoked_at"])
    locked.links.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason)
    _record(locked.response, actor, f"contributor:{locked.pk}", {"active": True}, {"active": False})


@dataclass(frozen=True)
class Reissued:
    """A council's new link and the contributors whose links stopped with the old one."""

    link: AccessLink
    revoked: list[Contributor]
    kept: int

    def describe(self, which: str) -> str:
        """What the re-issue did to contributors, in words for the administrator."""
        if which == RevokeContributors.NONE:
            return f"{_count(self.kept)} kept"
        revoked = f"{_count(len(self.revoked))} revoked ({RevokeContributors(which).label})"
        return f"{revoked}, {self.kept} kept" if self.kept else revoked


def _count(number: int) -> str:
    return f"{number} contributor{pluralize(number)}"


@transaction.atomic
def council_link_reissue(
    *,
    response: Response,
    reason: str,
    actor: str,
    revoke: str = RevokeContributors.SINCE_ISSUE,
) -> Reissued:
    """Re-issue the council's link (surveys.services.link_reissue) and revoke contributors
    with it: by default those added since the link was last issued, who may have been
    added through a leaked link. Their answers stay, attributed to them."""
    issued = response.links.filter(kind=LinkKind.COUNCIL).order_by("-generation").first()
    link = link_reissue(response=response, reason=reason, actor=actor)
    active = response.contributors.filter(revoked_at__isnull=True)
    if revoke == RevokeContributors.NONE:
        chosen = active.none()
    elif revoke == RevokeContributors.SINCE_ISSUE and issued is not None:
        chosen = active.filter(created_at__gte=issued.created_at)
    else:
        chosen = active
    revoked = list(chosen)
    for contributor in revoked:
        contributor_revoke(contributor=contributor, actor=actor, reason="Council link re-issued")
    return Reissued(link=link, revoked=revoked, kept=active.count())


def section_complete_notify(
    *, response: Response, section: Section, contributor: Contributor, to_address: str
) -> None:
    """Tell the council's link holder that a contributor finished a section (once)."""
    context = {
        "contributor": contributor,
        "section": section,
        "authority": response.authority,
        "survey": response.survey,
        "deadline": response_deadline(response),
    }
    email_enqueue(
        response=response,
        kind=EmailKind.SECTION_COMPLETE,
        key=f"{EmailKind.SECTION_COMPLETE}:{response.pk}:{section.pk}:{contributor.pk}",
        to_address=to_address,
        subject=" ".join(render_to_string("emails/section_complete_subject.txt", context).split()),
        body_text=render_to_string("emails/section_complete.txt", context),
        body_html=render_to_string("emails/section_complete.html", context),
    )
