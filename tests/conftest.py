"""Fixtures for cross-app tests: real browser, real services.

Outside CI a missing browser or service skips the tests that need it, saying why; with
CI=true it fails them, so nothing is silently skipped where it matters.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)
