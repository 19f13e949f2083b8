"""Rate limits on guessing access links, in fixed windows (staff sign-ins are limited by
django-axes: settings.AXES_*, with the client address found here).

Counters live in the cache (Redis in production) in fixed windows. A client over its
limit is refused, even with a right token, until the window passes (OWASP ASVS 6.3.1).
The limit on all clients together refuses only bad links, never a right one. Behind
reverse proxies the client is found through TRUSTED_PROXY_COUNT.
While Redis is down the counters fall back to this process's memory: limits still
apply (per worker), and councils can still open their links.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable, Mapping

from django.conf import settings
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


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies
    the X-Forwarded-For entry that many places from the right.

    Each proxy appends the address it was connected from, so the rightmost entries are
    our proxies' word and anything further left is the client's own, which it could
    forge to escape its limit. A header that is missing, too short or holds anything but
    addresses falls back to REMOTE_ADDR (the proxy): counted together, never let off.
    """
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    depth = settings.TRUSTED_PROXY_COUNT
    if depth <= 0:
        return _counted(remote)
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < depth:
        logger.warning("X-Forwarded-For has fewer entries than TRUSTED_PROXY_COUNT")
        return _counted(remote)
    address = _without_port(hops[-depth])
    try:
        return _counted(str(ipaddress.ip_address(address)))
    except ValueError:
        return _counted(remote)


def sign_in_client_address(request: HttpRequest) -> str | None:
    """The client for django-axes' sign-in lockouts: `client_address`, an IPv6 /64 given
    by its network address (axes stores a plain IP address). None when the request has
    no address at all (a login() made in code, as tests' force_login does)."""
    address = client_address(request).removesuffix("/64")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _without_port(hop: str) -> str:
    """'192.0.2.1:5678' and '[2001:db8::1]:5678' (as some load balancers write) to the
    address alone; anything else unchanged."""
    if hop.startswith("["):
        return hop[1 : hop.find("]")] if "]" in hop else hop
    if hop.count(":") == 1:
        return hop.partition(":")[0]
    return hop


def _counted(address: str) -> str:
    """What a client is counted as: its IPv4 address, or its IPv6 /64 (one subscriber's
    network, whose other 2^64 addresses it could otherwise rotate through)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _window_key(*parts: str) -> str:
    """A counter's key in the current fixed window."""
    return ":".join([*parts, str(int(time.time() // WINDOW_SECONDS))])


def _over_limit(limits: Mapping[str, int]) -> bool:
    """Whether any counter (key: limit) has reached its limit in this window."""
    counts = _counters().get_many(list(limits))
    return any(counts.get(key, 0) >= limit for key, limit in limits.items())


def _count_failure(keys: Iterable[str]) -> None:
    counters = _counters()
    for key in keys:
        if not counters.add(key, 1, timeout=WINDOW_SECONDS):
            try:
                counters.incr(key)
            except ValueError:  # expired between add and incr
                counters.add(key, 1, timeout=WINDOW_SECONDS)


def _client_key(request: HttpRequest) -> str:
    return _window_key("badlink", "client", client_address(request))


def _global_key() -> str:
    return _window_key("badlink", "all")


def link_attempts_blocked(request: HttpRequest) -> bool:
    """Whether this client has failed too often lately: refused even a right link."""
    return _over_limit({_client_key(request): PER_CLIENT_FAILURES})


def link_failures_over_global_limit() -> bool:
    """Whether all clients together have failed too often lately.

    Asked only of a link already found unknown or unusable: a flood of guesses from many
    addresses must never lock every council out of its own, right, link.
    """
    return _over_limit({_global_key(): GLOBAL_FAILURES})


def link_attempt_failed(request: HttpRequest) -> None:
    """Count a failed link; logged without the token or the client address."""
    _count_failure((_client_key(request), _global_key()))
    logger.warning("unknown or unusable access link")
