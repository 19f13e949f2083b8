""" "Your council's comparison is ready": one email per responding council, once per round.

Queued in the transaction that publishes a round's public release (``services.publish``),
through the outbox: one row per council counted by the release, keyed by the round and the
council's response, so publishing a second (corrected) version finds every key taken and
emails nobody again. The council's link goes in place of ``outbox.sending.LINK_MARKER``
only when the email is sent (``surveys.email_policy``); the stored body holds no token.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from authorities.choices import LinkKind
from authorities.models import AccessLink
from outbox.models import OutboundEmail
from outbox.sending import LINK_MARKER, emails_send_on_commit
from publishing.comparison import public_release_url
from publishing.models import PublicRelease
from surveys.models import EmailKind, Response
from surveys.selectors import link_holder_address
from surveys.services import email_link_check

TEMPLATE = "comparison_ready"


def comparison_key(response: Response) -> str:
    """One per council and round, whatever the version: a later version emails nobody."""
    return f"{EmailKind.COMPARISON_READY}:{response.survey_id}:{response.pk}"


def _render(part: str, context: dict) -> str:
    return render_to_string(f"emails/{TEMPLATE}{part}", context)


def comparison_emails_queue(*, public: PublicRelease) -> list[int]:
    """Queue the email to the link holder of each council the release counted (its inputs),
    unless already queued for the round; returns the new rows' ids (sent after commit)."""
    counted = [row[0] for row in public.release.inputs if row]
    responses = Response.objects.filter(pk__in=counted).select_related("authority", "survey")
    keys = {r.pk: comparison_key(r) for r in responses}
    taken = set(OutboundEmail.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    links = {
        link.response_id: link
        for link in AccessLink.objects.filter(
            response_id__in=keys, kind=LinkKind.COUNCIL, revoked_at__isnull=True
        ).order_by("generation", "pk")
    }  # the latest live council link of each response
    release_url = settings.SURVEY_BASE_URL + public_release_url(public)
    rows = []
    for response in responses:
        key, link = keys[response.pk], links.get(response.pk)
        address = link_holder_address(response=response) if link else ""
        if key in taken or link is None or not address:
            continue  # already emailed this round; or no live link or address to use
        authority = response.authority
        same = address.lower() == (authority.chief_executive_email or "").lower()
        context = {
            "name": authority.chief_executive_name.strip() if same else "",
            "authority": authority,
            "survey": response.survey,
            "link": LINK_MARKER,
            "release_url": release_url,
            "team_email": settings.SURVEY_TEAM_EMAIL,
        }
        subject = " ".join(_render("_subject.txt", context).split())
        text, html = _render(".txt", context), _render(".html", context)
        email_link_check(kind=EmailKind.COMPARISON_READY, link=link, parts=(subject, text, html))
        rows.append(
            OutboundEmail(
                response=response,
                kind=EmailKind.COMPARISON_READY,
                key=key,
                to_address=address,
                subject=subject,
                body_text=text,
                body_html=html,
                link=link,
                message_hash=OutboundEmail.hash_of(key),
            )
        )
    created = [row.pk for row in OutboundEmail.objects.bulk_create(rows)]
    emails_send_on_commit(created)
    return created
