"""Everything an analyst can read about a round, as text: every page and every download."""

from __future__ import annotations

import io
import json

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from reporting import selectors
from surveys.models import Survey

PAGES = (
    "release-overview",
    "release-channels",
    "release-take-up",
    "release-costs",
    "release-answers",
)


def xlsx_texts(content: bytes) -> list[str]:
    """Every cell of every sheet, as text (the file itself is zipped: read it back)."""
    workbook = load_workbook(io.BytesIO(content))
    return [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]


def analyst_outputs(client: Client, survey: Survey) -> dict[str, str]:
    """Text of every analyst page (each transaction's channel page too) and every download.

    Fails unless each answers 200, so that an absent string is absent from a real page.
    """
    slug = survey.slug
    urls = [reverse("reporting:release-index")]
    urls += [reverse(f"reporting:{name}", args=[slug]) for name in PAGES]
    release = selectors.release_published(survey=survey)
    assert release is not None
    channels = reverse("reporting:release-channels", args=[slug])
    labels = selectors.release_labels(release=release)
    urls += [f"{channels}?transaction={t}" for t in labels.transactions]
    texts = {}
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        texts[url] = page.content.decode()
    for fmt in ("csv", "json", "xlsx"):
        url = reverse("reporting:release-download", args=[slug, fmt])
        download = client.get(url)
        assert download.status_code == 200, url
        if fmt == "xlsx":
            texts[url] = "\n".join(xlsx_texts(download.content))
        elif fmt == "json":
            # Decoded and dumped again without escapes, so "£" and quotes read as written.
            texts[url] = json.dumps(json.loads(download.content), ensure_ascii=False)
        else:
            texts[url] = download.content.decode()
    return texts
