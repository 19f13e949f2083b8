"""An email backend for tests: the local outbox, with addresses that fail like a relay."""

import smtplib

from django.core.mail.backends import locmem


class FlakyBackend(locmem.EmailBackend):
    """`refused@...` is a hard bounce; `flaky@...` drops the connection every time."""

    def send_messages(self, messages):
        for message in messages:
            address = message.to[0]
            if address.startswith("refused@"):
                raise smtplib.SMTPRecipientsRefused({address: (550, b"No such user")})
            if address.startswith("flaky@"):
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)
