"""What the survey decides about its emails as the outbox sends them (settings.OUTBOX_POLICY).

The outbox (outbox.sending) sends rows exactly once and knows nothing of councils. Here:
an invitation or reminder is no longer wanted once the council has submitted or its
deadline has passed; and the access link goes in place of the marker only now, derived
from the link's nonce and SURVEY_LINK_KEY. If the link was re-issued in the meantime the
council's current link goes out; if it was revoked with no successor (a removed
contributor) the email is cancelled, never sent with a dead or stale link.
"""

from __future__ import annotations

import datetime

from authorities.choices import LinkKind
from outbox.conf import LINK_LOST, OutboxPolicy
from outbox.models import OutboundEmail
from outbox.sending import CANCELLED
from surveys.models import EmailKind

# Emails that chase a council: not sent once it has submitted or its deadline passed.
CHASING_KINDS = (EmailKind.INVITATION, EmailKind.REMINDER)
# Emails that give their recipient an access link (stored with the marker and `link`).
LINK_KINDS = (
    EmailKind.INVITATION,
    EmailKind.REMINDER,
    EmailKind.EXTENSION,
    EmailKind.CONTRIBUTOR_ADDED,
    EmailKind.CONTRIBUTOR_REASSIGNED,
    EmailKind.COMPARISON_READY,
)
LINK_REVOKED = f"{CANCELLED}: the council's link was revoked"
CONTRIBUTOR_REMOVED = f"{CANCELLED}: the contributor was removed"
# Not cancelled: the tracker offers to resend it, to the address the holder has now.
ADDRESS_CHANGED = "The link was re-issued to a new address after this email was queued: resend it"


def _holder_address(link) -> str:
    """Where the link's holder is emailed now: the chief executive or the contributor."""
    if link.contributor_id:
        return link.contributor.email.lower()
    return (link.response.authority.chief_executive_email or "").lower()


class SurveyEmailPolicy(OutboxPolicy):
    select_related = ("response__survey",)

    def hold_reason(self, email: OutboundEmail, now: datetime.datetime) -> str:
        """Why an invitation or reminder is no longer wanted: submitted, or past the deadline."""
        if email.kind not in CHASING_KINDS:
            return ""
        from surveys.choices import ResponseStatus
        from surveys.services import response_is_open

        response = email.response
        if response.status in (ResponseStatus.SUBMITTED, ResponseStatus.CLOSED):
            status = response.get_status_display().lower()
            return f"{CANCELLED}: the council's response is {status}"
        if not response_is_open(response, now):
            return f"{CANCELLED}: the round is closed"
        return ""

    def link_url(self, email: OutboundEmail) -> tuple[str, str]:
        """The URL to put in place of the marker now, or why the email must not go.

        A re-issued council link is followed to the council's current one, so a reminder
        queued before the re-issue carries the link that works. The row is updated to the
        link actually used (saved with the claim's outcome).
        """
        from surveys.selectors import link_current
        from surveys.services import link_url

        if email.link is None:
            return LINK_LOST, ""
        current = link_current(link=email.link)
        if current is None:
            removed = email.link.kind == LinkKind.CONTRIBUTOR
            return (CONTRIBUTOR_REMOVED if removed else LINK_REVOKED), ""
        if current.pk != email.link.pk and _holder_address(current) != email.to_address.lower():
            # Re-issued because the link went to the wrong person, or the contact changed:
            # the new link must not go to the address this email was queued for.
            return ADDRESS_CHANGED, ""
        email.link = current
        return "", link_url(current)
