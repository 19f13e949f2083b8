"""Logging filters: access links are bearer tokens and must never reach a log."""

from __future__ import annotations

import logging
import re

# The token segment of an access link, wherever it appears in a message or argument.
TOKEN_PATH = re.compile(r"(/(?:s|c)/)[A-Za-z0-9_\-]{8,}")
REDACTED = r"\1[redacted]"


def scrub(text: str) -> str:
    """Replace the token segment of any access-link path in text."""
    return TOKEN_PATH.sub(REDACTED, text)


class ScrubTokensFilter(logging.Filter):
    """Rewrites records so that no access token is written out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if record.args:
            if isinstance(record.args, dict):
                record.args = {
                    k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()
                }
            else:
                record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # django.request attaches the request; its repr includes the path.
            record.request = None
        return True
