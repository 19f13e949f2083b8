"""Which address a rate limit counts: the client's, also behind reverse proxies."""

import pytest
from django.test import RequestFactory

from survey_site.ratelimit import client_address

from .test_settings import PRODUCTION, manage

PROXY = "10.0.0.2"


def request_from(forwarded_for: str | None = None, remote: str = PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    # A client cannot leave its own counter by writing the header itself.
    assert client_address(request_from("198.51.100.7", remote="203.0.113.5")) == "203.0.113.5"


@pytest.mark.parametrize(
    ("depth", "header", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # What the client wrote itself (left) is not trusted: our proxy's entry is.
        (1, "1.1.1.1, 198.51.100.7", "198.51.100.7"),
        (1, " 198.51.100.7 ", "198.51.100.7"),
        # An IPv6 client is counted by its /64: it cannot rotate through its own network.
        (1, "2001:db8::1", "2001:db8::/64"),
        (1, "2001:db8::ffff:1234", "2001:db8::/64"),
        # Some load balancers write the client's port too.
        (1, "198.51.100.7:4431", "198.51.100.7"),
        (1, "[2001:db8::1]:4431", "2001:db8::/64"),
        (2, "1.1.1.1, 198.51.100.7, 192.0.2.10", "198.51.100.7"),
        (2, "198.51.100.7, 192.0.2.10", "198.51.100.7"),
    ],
)
def test_behind_proxies_the_client_is_read_at_their_depth(settings, depth, header, expected):
    settings.TRUSTED_PROXY_COUNT = depth
    assert client_address(request_from(header)) == expected


@pytest.mark.parametrize(
    ("depth", "header"),
    [
        (1, None),
        (1, ""),
        (1, "   "),
        (1, "not-an-address"),
        (1, "198.51.100.7, "),
        (1, "198.51.100.7\x00"),
        (1, "unknown"),
        (2, "198.51.100.7"),  # fewer entries than proxies
        (2, "garbage, 192.0.2.10"),
    ],
)
def test_a_missing_or_malformed_header_falls_back_to_remote_addr(settings, depth, header):
    settings.TRUSTED_PROXY_COUNT = depth
    assert client_address(request_from(header)) == PROXY


def test_trusted_proxy_count_is_read_from_the_environment_and_checked():
    show = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
    assert manage("shell", "-c", show, **PRODUCTION).stdout.split()[-1] == "0"
    set_to_one = manage("shell", "-c", show, **(PRODUCTION | {"TRUSTED_PROXY_COUNT": "1"}))
    assert set_to_one.stdout.split()[-1] == "1", set_to_one.stderr
    bad = manage("check", **(PRODUCTION | {"TRUSTED_PROXY_COUNT": "one"}))
    assert bad.returncode != 0
    assert "TRUSTED_PROXY_COUNT='one' is not a whole number" in bad.stderr


def test_without_proxies_an_ipv6_client_is_counted_by_its_network(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from(remote="2001:db8:1:2::99")) == "2001:db8:1:2::/64"
    assert client_address(request_from(remote="::ffff:203.0.113.5")) == "203.0.113.5"
