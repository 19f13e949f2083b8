"""Access-link tokens: derived with a keyed HMAC, stored only as a hash.

A link must work again in every reminder (chief executives forward it), yet a database
dump alone must not let anyone in. So the token is never stored: it is derived from a
random per-link nonce (128 bits from `secrets`) and SURVEY_LINK_KEY, which lives outside
the database. The table keeps only the nonce and the SHA-256 of the token, which is what
requests are looked up by.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

NONCE_BYTES = 16  # 128 bits from a CSPRNG (OWASP ASVS 11.5.1)
TOKEN_LENGTH = 43  # base64url of a 256-bit HMAC-SHA256, without padding


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def derive_token(*, purpose: str, nonce: str) -> str:
    """The URL-safe token for a link row; the same inputs always give the same token."""
    key = settings.SURVEY_LINK_KEY.encode()
    digest = hmac.new(key, f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """A cheap shape check before any database lookup."""
    return len(token) == TOKEN_LENGTH and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )


def token_matches(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)
