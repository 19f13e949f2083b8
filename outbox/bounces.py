"""Bounce reports for the emails the outbox sent: RFC 3464 delivery status notifications.

A relay that accepted an email may still fail to deliver it (no such mailbox, mailbox
full for good) and says so later, in a report sent to the From address. Each report names
the email by its Message-ID (outbox.sending.message_id), whose local part is the outbox
row's ``message_hash``. A permanent failure marks that email failed, "Bounced: ...", so
the layers above can show it as bounced and offer a resend once the address is corrected.
Delays and temporary failures (4.x.x) change nothing; nor does anything not a report.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser, HeaderParser

from django.db import transaction

from outbox.models import EmailStatus, OutboundEmail

BOUNCED = "Bounced"
OUR_MESSAGE_ID = re.compile(r"<([0-9a-f]{32})@[^>\s]+>")


@dataclass(frozen=True)
class Bounce:
    message_hash: str
    recipient: str
    status: str
    diagnostic: str


def message_from_bytes(raw: bytes) -> Message:
    return BytesParser(policy=email.policy.compat32).parsebytes(raw)


def _original_message_id(report: Message) -> str:
    """The Message-ID of the email the report is about, from its returned headers."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) and payload else None
            if original is not None and original.get("Message-ID"):
                return str(original["Message-ID"])
        elif kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(text.decode("utf-8", "replace"))
            if headers.get("Message-ID"):
                return str(headers["Message-ID"])
    return ""


def _recipient_blocks(status_part: Message) -> list[Message]:
    """The per-recipient field groups of a message/delivery-status part."""
    payload = status_part.get_payload()
    if isinstance(payload, list):  # the parser splits the groups into Message objects
        return payload[1:]
    # Some parsers leave the groups as text: split on blank lines ourselves.
    groups = re.split(r"\r?\n\r?\n", str(payload).strip())
    return [HeaderParser().parsestr(group) for group in groups[1:]]


def _text(block: Message, name: str) -> str:
    """A header as plain text, even when it holds raw 8-bit bytes (a Header object then)."""
    value = block.get(name)
    return str(value).strip() if value is not None else ""


def bounce_parse(report: Message) -> list[Bounce]:
    """The permanent failures a delivery status notification reports; [] for anything else."""
    if report.get_content_type() != "multipart/report":
        return []
    if (report.get_param("report-type") or "").lower() != "delivery-status":
        return []
    status_part = next(
        (p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    found = OUR_MESSAGE_ID.search(_original_message_id(report))
    if status_part is None or found is None:
        return []
    bounces = []
    for block in _recipient_blocks(status_part):
        action = _text(block, "Action").lower()
        status = _text(block, "Status")
        if action != "failed" or not status.startswith("5"):
            continue
        recipient = _text(block, "Final-Recipient") or _text(block, "Original-Recipient")
        diagnostic = " ".join(_text(block, "Diagnostic-Code").split())
        bounces.append(
            Bounce(
                message_hash=found.group(1),
                recipient=recipient.rpartition(";")[2].strip(),
                status=status,
                diagnostic=diagnostic,
            )
        )
    return bounces


def bounce_record(bounce: Bounce) -> OutboundEmail | None:
    """Mark the reported email failed; None when no sent email of ours has that Message-ID
    and recipient.

    Recording the same report twice changes nothing more.
    """
    with transaction.atomic():
        sent = (
            OutboundEmail.objects.select_for_update()
            .filter(message_hash=bounce.message_hash)
            .first()
        )
        # Only an email that was sent, to the address the report names: a report naming
        # anything else (a forgery, or another email) changes nothing.
        if sent is None or sent.to_address.lower() != bounce.recipient.lower():
            return None
        if sent.status == EmailStatus.FAILED and sent.last_error.startswith(BOUNCED):
            return sent
        if sent.status != EmailStatus.SENT:
            return None
        # The diagnostic is the receiving server's own text: kept short, and it names
        # only the address the email went to, which the row holds already.
        detail = f" ({bounce.diagnostic})" if bounce.diagnostic else ""
        sent.status = EmailStatus.FAILED
        sent.last_error = f"{BOUNCED}: {bounce.status}{detail}"[:300]
        sent.save(update_fields=["status", "last_error"])
        return sent
