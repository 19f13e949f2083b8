"""Downloads of a ready release: XLSX workbook, CSV and JSON of every published cell.

All read the ``Publication`` that feeds the pages, and nothing else. Text goes through
``survey_site.exports.safe_cell`` (formula injection) and is stored as text in XLSX; numbers
stay numbers; hidden cells are "[c]". Rule parameters never appear.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from reporting.publication import Publication
from reporting.selectors import KEY_COLUMNS, SYMBOL_MEANINGS, Shown, Tally, plain_number
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


@dataclass
class Sheet:
    """One worksheet as written: rows of text and published figures (``Shown``)."""

    name: str
    rows: list[list[str | Shown | Tally]]
    widths: tuple[int, ...] = ()
    header_rows: int = 2  # frozen, bold


def workbook_sheets(*, publication: Publication) -> list[Sheet]:
    """The workbook, sheet by sheet: a cover, notes, and one sheet per table.

    Every figure, the cover's included, is a ``Shown`` read from a cell of the release; the
    notes end with the release's counts of hidden cells by table and why (``Tally``).
    """
    published = publication.finished_at
    cover: list[list[str | Shown]] = [
        ["Council digital channels survey", ""],
        ["Round", publication.round.name],
        ["Release", str(publication.number)],
        ["Published", datetime_text(published) + " (UK time)" if published else ""],
        *([label, figure] for label, figure in publication.summary()[:2]),
        ["Confidentiality", "No council can be identified; see the Notes sheet."],
    ]
    notes: list[list[str | Shown | Tally]] = [["Symbol or term", "Meaning"], *map(list, NOTES)]
    hidden = publication.hidden_shares()
    if hidden is not None:
        # The share of cells hidden by table and why, below the notes (counts, never cells).
        notes += [[""], [hidden.title], list(hidden.head), *hidden.rows]
    sheets = [
        Sheet("Cover", cover, (24, 60), header_rows=0),
        Sheet("Notes", notes, (26, 100, 12, 12, 16, 16, 16), 1),
    ]
    used = {"Cover", "Notes"}
    for table in publication.report_tables():
        name = _sheet_name(SHEET_NAMES.get(table.slug, table.title), used)
        rows: list[list[str | Shown]] = [[table.title], list(table.head), *table.rows]
        sheets.append(Sheet(name, rows, (18,) * len(table.head)))
    return sheets


# How figures are formatted in spreadsheets: the number stays the cell's, unrounded.
NUMBER_FORMATS = {"count": "#,##0", "percent": "0.0", "pounds": "#,##0"}


def xlsx_write(cell: Any, value: str | Shown | Tally) -> None:
    """One value of a sheet into a worksheet cell: a figure or a count of cells as a number
    (a hidden figure as its symbol, text), anything else as text."""
    if isinstance(value, Tally):
        cell.value = plain_number(value.number)
        if value.unit != "count":
            cell.number_format = NUMBER_FORMATS[value.unit]
    elif isinstance(value, Shown):
        if value.number is None:
            _text(cell, value.text)
        else:
            cell.value = value.number
            if value.unit != "count":
                cell.number_format = NUMBER_FORMATS[value.unit]
    else:
        _text(cell, str(value))


def release_xlsx(*, publication: Publication) -> bytes:
    """The workbook of ``workbook_sheets``; figures stay numbers, hidden ones read "[c]"."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in workbook_sheets(publication=publication):
        ws = workbook.create_sheet(sheet.name)
        for r, values in enumerate(sheet.rows, start=1):
            for col, value in enumerate(values, start=1):
                cell = ws.cell(r, col)
                xlsx_write(cell, value)
                if r <= sheet.header_rows:
                    cell.font = Font(bold=True)
        for col, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        if sheet.header_rows:
            ws.freeze_panes = f"A{sheet.header_rows + 1}"
    workbook["Cover"].cell(1, 1).font = Font(bold=True, size=14)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


CSV_HEADER = ["table", *KEY_COLUMNS, "value"]


def release_csv(*, publication: Publication, stream: IO[str]) -> None:
    """Every published cell, one row each; hidden cells are "[c]"."""
    rows = (
        [
            cell["table"],
            *[cell["keys"].get(k, "") for k in KEY_COLUMNS],
            cell["value"] if cell["value"] is not None else cell["symbol"],
        ]
        for cell in publication.cells()
    )
    write_csv(stream, CSV_HEADER, rows)


def release_json(*, publication: Publication) -> dict:
    """Every published cell and every additive relation between them, for anyone to audit."""
    return {
        "survey": publication.round.slug,
        "release": publication.number,
        "published_at": publication.finished_at.isoformat() if publication.finished_at else None,
        "symbols": {symbol: meaning for symbol, meaning in NOTES if symbol.startswith("[")},
        "cells": [
            {
                "id": cell["id"],
                "table": cell["table"],
                "keys": cell["keys"],
                "value": cell["value"],
                **({"symbol": cell["symbol"]} if cell["symbol"] else {}),
            }
            for cell in publication.cells()
        ],
        "relations": [{"total": total, "parts": parts} for total, parts in publication.relations],
    }
