"""Sessions in PostgreSQL, read through the cache (Redis), and working without it.

Django's cached_db store saves every session to the database and keeps a copy in the
cache, so a page view reads the session from Redis instead of PostgreSQL. Stock
cached_db fails a request when the cache is down on a read miss, a delete or a key
check; this store falls back to the database and logs instead, because saving answers
must never depend on Redis (docs: fail closed, lose nothing).

A cached copy lives at most CACHE_SECONDS: a delete that missed the cache (Redis was
down during a sign-out) can't keep a session alive longer than that, and the database
row, which is deleted, stays the authority.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    CACHE_SECONDS = 300

    def _cache_set(self, data: dict, expiry_age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, min(expiry_age, self.CACHE_SECONDS))
        except Exception:
            logger.warning("session cache unavailable: session kept in the database only")

    def load(self) -> dict:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("session cache unavailable: reading the session from the database")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._cache_set(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        try:
            if self.cache_key_prefix + session_key in self._cache:
                return True
        except Exception:
            logger.warning("session cache unavailable: checking the database only")
        return super(cached_db.SessionStore, self).exists(session_key)

    def save(self, must_create: bool = False) -> None:
        super(cached_db.SessionStore, self).save(must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def delete(self, session_key: str | None = None) -> None:
        super(cached_db.SessionStore, self).delete(session_key)
        session_key = session_key or self.session_key
        if session_key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            logger.warning(
                "session cache unavailable: a deleted session's copy expires within %s s",
                self.CACHE_SECONDS,
            )
