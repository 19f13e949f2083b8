"""Production cookies: host-only, HTTPS-only, out of scripts' reach, not sent cross-site."""

import json

from .test_settings import PRODUCTION, manage

READ_COOKIE_SETTINGS = """
import json
from django.conf import settings as s
print(json.dumps({
    name: [getattr(s, f"{name}_COOKIE_{part}") for part in
           ("NAME", "SECURE", "HTTPONLY", "SAMESITE", "PATH", "DOMAIN")]
    for name in ("SESSION", "CSRF")
}))
"""


def test_production_cookies_are_host_only_secure_httponly_and_lax():
    result = manage("shell", "-c", READ_COOKIE_SETTINGS, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    cookies = json.loads(result.stdout.strip().splitlines()[-1])
    # A __Host- cookie is refused by browsers unless Secure, Path=/ and without Domain.
    assert cookies["SESSION"] == ["__Host-sessionid", True, True, "Lax", "/", None]
    assert cookies["CSRF"] == ["__Host-csrftoken", True, True, "Lax", "/", None]
