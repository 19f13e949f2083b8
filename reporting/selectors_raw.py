"""Raw submitted figures for data stewards (the export_responses command), never for pages.

One row per council x transaction x channel: codes and numbers only, no free text and no
personal data.
"""

from __future__ import annotations

from collections.abc import Iterator

from reporting.services import transaction_answers_frame
from reporting.tables import standing_channels
from surveys.choices import ResponseStatus
from surveys.models import Figure, Response, Survey, TransactionAnswer

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
# Councils read at a time: memory stays bounded however many councils a round has.
BATCH = 500


def raw_figure_rows(*, survey: Survey) -> Iterator[list]:
    """Each submitted figure the council's answer stands behind now, by the releases' rule
    (``reporting.tables.standing_channels``): figures kept for a transaction the council no
    longer provides, or a channel it took off, are left out."""
    responses = list(
        Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
        .order_by("authority__gss_code")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(responses), BATCH):
        batch = responses[start : start + BATCH]
        answers = transaction_answers_frame(TransactionAnswer.objects.filter(response__in=batch))
        standing = set(standing_channels(answers).itertuples(index=False, name=None))
        figures = (
            Figure.objects.filter(response__in=batch)
            .order_by("response__authority__gss_code", "transaction__number", "channel__order")
            .values_list(
                "response_id",
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
        for (
            response,
            gss,
            kind,
            region,
            transaction,
            channel,
            value,
            not_recorded,
            estimate,
        ) in figures.iterator(chunk_size=5000):
            if (response, transaction, channel) not in standing:
                continue
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
