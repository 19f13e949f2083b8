"""Between its stages a release build of a big round collects and hands freed memory back
to the system: with glibc's ``malloc_trim`` where there is one, and without it elsewhere
(no error, nothing else). A small round's build skips both: its stages are small."""

from __future__ import annotations

import gc

from reporting import services

BIG = services.MEMORY_RELEASE_FROM


def test_memory_release_without_malloc_trim(monkeypatch):
    monkeypatch.setattr(services, "MALLOC_TRIM", None)
    services._memory_release(BIG)


def test_memory_release_calls_malloc_trim(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "MALLOC_TRIM", calls.append)
    services._memory_release(BIG)
    assert calls == [0]


def test_a_small_round_s_build_neither_collects_nor_trims(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "MALLOC_TRIM", calls.append)
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect"))
    services._memory_release(BIG - 1)
    assert calls == []
    services._memory_release(BIG)
    assert calls == ["collect", 0]
