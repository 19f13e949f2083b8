"""Take every plain access link out of the outbox (see surveys.emails)."""

import hashlib
import re

from django.db import migrations
from django.db.models import Q

# Frozen copies of surveys.emails.LINK_MARKER and LINK_LOST: a migration must not change
# when the code does.
LINK_MARKER = "\ue000access-link\ue001"
LINK_LOST = "The link in this email could not be restored: resend it"
# The emails that gave their recipient a link (the copy of the answers quotes what people
# typed, and is left as it is).
LINK_KINDS = [
    "invitation",
    "reminder",
    "extension",
    "contributor_added",
    "contributor_reassigned",
]
# A whole access link as it was written into bodies: SURVEY_BASE_URL/s/<43-character token>.
PLAIN_LINK = re.compile(r"(?:https?://[^\s\"'<>]*)?/s/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")


def redact_links(apps, schema_editor):
    """Replace every access link stored in the outbox with the marker and point at its row.

    A link whose row is found (by the SHA-256 of its token, as requests look it up) is put
    back when the email is sent. One that is not found can never be restored: a pending
    email holding it is marked failed, so it is resent with the council's current link
    rather than sent with a stale one.
    """
    OutboundEmail = apps.get_model("surveys", "OutboundEmail")
    AccessLink = apps.get_model("authorities", "AccessLink")
    rows = OutboundEmail.objects.filter(kind__in=LINK_KINDS).filter(
        Q(body_text__contains="/s/") | Q(body_html__contains="/s/")
    )
    for email in rows.order_by("pk").iterator(chunk_size=500):
        tokens = PLAIN_LINK.findall(email.body_text) + PLAIN_LINK.findall(email.body_html)
        if not tokens:
            continue
        hashes = [hashlib.sha256(token.encode()).hexdigest() for token in tokens]
        link = AccessLink.objects.filter(token_hash__in=hashes).order_by("-pk").first()
        email.body_text = PLAIN_LINK.sub(LINK_MARKER, email.body_text)
        email.body_html = PLAIN_LINK.sub(LINK_MARKER, email.body_html)
        fields = ["body_text", "body_html"]
        if link is not None:
            email.link_id = link.pk
            fields.append("link")
        elif email.status == "pending":
            email.status = "failed"
            email.last_error = LINK_LOST
            fields += ["status", "last_error"]
        email.save(update_fields=fields)


def hold_marked_emails(apps, schema_editor):
    """Going back to code that sends bodies as stored: no pending email may go out with the
    marker where its link should be. They are marked failed, to be resent."""
    OutboundEmail = apps.get_model("surveys", "OutboundEmail")
    OutboundEmail.objects.filter(status="pending").filter(
        Q(body_text__contains=LINK_MARKER) | Q(body_html__contains=LINK_MARKER)
    ).update(status="failed", last_error=LINK_LOST)


class Migration(migrations.Migration):

    dependencies = [
        ('authorities', '0004_alter_authority_code'),
        ('surveys', '0005_outboundemail_link'),
    ]

    operations = [
        migrations.RunPython(redact_links, hold_marked_emails),
    ]
