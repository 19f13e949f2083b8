"""Between its stages a release build hands freed memory back to the system: with glibc's
``malloc_trim`` where there is one, and without it elsewhere (no error, nothing else)."""

from __future__ import annotations

from reporting import services


def test_memory_release_without_malloc_trim(monkeypatch):
    monkeypatch.setattr(services, "MALLOC_TRIM", None)
    services._memory_release()


def test_memory_release_calls_malloc_trim(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "MALLOC_TRIM", calls.append)
    services._memory_release()
    assert calls == [0]
