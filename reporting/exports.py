"""Downloads of a ready release: XLSX workbook, CSV and JSON of every published cell.

All read the selectors that feed the pages. Text goes through ``survey_site.exports.safe_cell``
(formula injection) and is stored as text in XLSX; numbers stay numbers; hidden cells are
"[c]". Rule parameters never appear.
"""

from __future__ import annotations

import io
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reporting.models import Release
from reporting.selectors import (
    KEY_COLUMNS,
    SYMBOL_MEANINGS,
    Shown,
    published_cells,
    report_tables,
)
from survey_site.exports import safe_cell, write_csv
from survey_site.formatting import datetime_text

NOTES = [
    *SYMBOL_MEANINGS.items(),
    ("[e]", "Estimated. Councils could mark figures as estimates; figures include them."),
    (
        "Protection",
        "Cells are hidden where they could reveal or closely estimate one council's figures, "
        "and further cells are hidden so that hidden ones cannot be worked out from totals. "
        "Shares, take-up and costs are shown only when every figure they use is published.",
    ),
    (
        "Digital take-up",
        "(Online self-service + mobile app) / all recorded channels, as the GDS KPI.",
    ),
    (
        "Unit costs",
        "Published defaults: Socitm Channel Value Benchmarking 2012 (face to face £8.62, "
        "telephone £2.83, web £0.15) and PwC / Socitm North West (post £12.10, IVR £0.20). "
        "Channels without a published figure are not costed.",
    ),
]


def _text(cell: Any, value: str) -> None:
    cell.value = safe_cell(value)
    cell.data_type = "s"


SHEET_NAMES = {
    "response-rates": "Response rates",
    "channel-mix": "Channel mix",
    "take-up": "Digital take-up",
    "take-up-type-region": "Take-up by type and region",
    "costs": "Costs and scenario",
    "own-costs": "Costs at own unit costs",
    "provision": "Provision",
    "end-to-end": "End to end online",
    "offered": "Channels offered",
    "platforms-capability": "Platforms and capability",
    "volumes": "Transactions in detail",
}


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def release_xlsx(*, release: Release) -> bytes:
    """The workbook: a cover sheet, a notes sheet, and one sheet per table."""
    workbook = Workbook()
    cover = workbook.active
    cover.title = "Cover"
    survey = release.survey
    lines = [
        ("Council digital channels survey", ""),
        ("Round", survey.name),
        ("Release", str(release.number)),
        (
            "Published",
            datetime_text(release.finished_at) + " (UK time)" if release.finished_at else "",
        ),
        ("Responding councils", release.counts.get("respondents", 0)),
        ("Invited councils", release.counts.get("invited", 0)),
        ("Confidentiality", "No council can be identified; see the Notes sheet."),
    ]
    for row, (label, value) in enumerate(lines, start=1):
        _text(cover.cell(row, 1), label)
        if isinstance(value, str):
            _text(cover.cell(row, 2), value)
        else:
            cover.cell(row, 2).value = value
    cover.cell(1, 1).font = Font(bold=True, size=14)
    cover.column_dimensions["A"].width = 24
    cover.column_dimensions["B"].width = 60
    notes = workbook.create_sheet("Notes")
    _text(notes.cell(1, 1), "Symbol or term")
    _text(notes.cell(1, 2), "Meaning")
    for row, (symbol, meaning) in enumerate(NOTES, start=2):
        _text(notes.cell(row, 1), symbol)
        _text(notes.cell(row, 2), meaning)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 100
    used = {"Cover", "Notes"}
    for table in report_tables(release=release):
        sheet = workbook.create_sheet(_sheet_name(SHEET_NAMES.get(table.slug, table.title), used))
        _text(sheet.cell(1, 1), table.title)
        sheet.cell(1, 1).font = Font(bold=True)
        for col, heading in enumerate(table.head, start=1):
            _text(sheet.cell(2, col), heading)
            sheet.cell(2, col).font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(col)].width = 18
        for r, values in enumerate(table.rows, start=3):
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(r, col)
                if isinstance(value, Shown):
                    if value.number is None:
                        _text(cell, value.text)
                    else:
                        cell.value = value.number
                        if value.unit == "percent":
                            cell.number_format = "0.0"
                        elif value.unit == "pounds":
                            cell.number_format = "#,##0"
                else:
                    _text(cell, str(value))
        sheet.freeze_panes = "A3"
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


CSV_HEADER = ["table", *KEY_COLUMNS, "value"]


def release_csv(*, release: Release, stream: IO[str]) -> None:
    """Every published cell, one row each; hidden cells are "[c]"."""
    rows = (
        [
            cell["table"],
            *[cell["keys"].get(k, "") for k in KEY_COLUMNS],
            cell["value"] if cell["value"] is not None else cell["symbol"],
        ]
        for cell in published_cells(release=release)
    )
    write_csv(stream, CSV_HEADER, rows)


def release_json(*, release: Release) -> dict:
    """Every published cell and every additive relation between them, for anyone to audit."""
    return {
        "survey": release.survey.slug,
        "release": release.number,
        "published_at": release.finished_at.isoformat() if release.finished_at else None,
        "symbols": {symbol: meaning for symbol, meaning in NOTES if symbol.startswith("[")},
        "cells": [
            {
                "id": cell["id"],
                "table": cell["table"],
                "keys": cell["keys"],
                "value": cell["value"],
                **({"symbol": cell["symbol"]} if cell["symbol"] else {}),
            }
            for cell in published_cells(release=release)
        ],
        "relations": [{"total": total, "parts": parts} for total, parts in release.relations],
    }
