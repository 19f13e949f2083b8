"""Access links are bearer tokens: no log record ever carries one."""

import logging

from survey_site.logging import ScrubTokensFilter, scrub

TOKEN = "PV0Cl6dG4KIQbfXeUB3OLwAV3n4Ai4S8wbr51fdxl24"


def test_scrub_replaces_the_token_segment_of_link_paths():
    assert scrub(f'"GET /s/{TOKEN} HTTP/1.1" 200') == '"GET /s/[redacted] HTTP/1.1" 200'
    assert scrub("/survey/transactions/pay-council-tax/") == "/survey/transactions/pay-council-tax/"


def test_filter_scrubs_messages_and_arguments():
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s', (f"GET /s/{TOKEN}", 200), None
    )
    assert ScrubTokensFilter().filter(record)
    assert TOKEN not in record.getMessage()
    assert "/s/[redacted]" in record.getMessage()
