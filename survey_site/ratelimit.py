"""Rate limits on guessing access links, per client and across the whole service.

Counters live in the cache (Redis in production) in fixed windows. A client over its
limit is refused, even with a right token, until the window passes (OWASP ASVS 6.3.1).
While Redis is down the counters fall back to this process's memory: limits still
apply (per worker), and councils can still open their links.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
PER_CLIENT_FAILURES = 20
GLOBAL_FAILURES = 2000


_local = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def _counters() -> BaseCache:
    """The shared cache when it answers, else this process's own."""
    try:
        cache.get("badlink:ping")
    except Exception:
        logger.error("rate-limit cache unavailable: counting in this process only")
        return _local
    return cache


def _client(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


def _keys(request: HttpRequest) -> tuple[str, str]:
    window = int(time.time() // WINDOW_SECONDS)
    return f"badlink:client:{_client(request)}:{window}", f"badlink:all:{window}"


def link_attempts_blocked(request: HttpRequest) -> bool:
    client_key, global_key = _keys(request)
    counts = _counters().get_many([client_key, global_key])
    return (
        counts.get(client_key, 0) >= PER_CLIENT_FAILURES
        or counts.get(global_key, 0) >= GLOBAL_FAILURES
    )


def link_attempt_failed(request: HttpRequest) -> None:
    """Count a failed link; logged without the token or the client address."""
    counters = _counters()
    for key in _keys(request):
        if not counters.add(key, 1, timeout=WINDOW_SECONDS):
            try:
                counters.incr(key)
            except ValueError:  # expired between add and incr
                counters.add(key, 1, timeout=WINDOW_SECONDS)
    logger.warning("unknown or unusable access link")
