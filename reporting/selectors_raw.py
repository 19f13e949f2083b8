"""Raw submitted figures for data stewards (the export_responses command), never for pages.

One row per council x transaction x channel: codes and numbers only, no free text and no
personal data.
"""

from __future__ import annotations

from collections.abc import Iterator

from surveys.choices import ResponseStatus
from surveys.models import Figure, Survey

RAW_HEADER = [
    "gss_code",
    "council_type",
    "region",
    "transaction",
    "channel",
    "figure",
    "not_recorded",
    "estimate",
]


def raw_figure_rows(*, survey: Survey) -> Iterator[list]:
    figures = (
        Figure.objects.filter(response__survey=survey, response__status=ResponseStatus.SUBMITTED)
        .order_by("response__authority__gss_code", "transaction__number", "channel__order")
        .values_list(
            "response__authority__gss_code",
            "response__authority__kind",
            "response__authority__region",
            "transaction__slug",
            "channel__code",
            "value",
            "not_recorded",
            "estimate",
        )
    )
    for gss, kind, region, transaction, channel, value, not_recorded, estimate in figures.iterator(
        chunk_size=5000
    ):
        yield [
            gss,
            kind,
            region,
            transaction,
            channel,
            "" if value is None else value,
            "yes" if not_recorded else "no",
            "yes" if estimate else "no",
        ]
