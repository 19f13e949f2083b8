"""The tracker's outstanding list as CSV and XLSX, for chasing councils by phone.

Both read the rows the page shows (campaigns.selectors.tracker_get and tracker_filter),
so the numbers agree. Text goes through survey_site.exports.safe_cell and is stored as
text in XLSX (openpyxl would turn "=..." into a formula); numbers stay numbers.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from authorities.choices import AuthorityKind, Region
from campaigns.schedule import london
from campaigns.selectors import TrackerRow
from survey_site.exports import safe_cell, write_csv

HEADER = [
    "GSS code",
    "Council",
    "Council type",
    "Region",
    "Status",
    "Chief executive",
    "Chief executive email",
    "Last contact (UK time)",
    "Last email",
    "Outcome",
    "Reminders",
    "Extended deadline (UK time)",
    "Submitted (UK time)",
    "Late",
    "Contact problem",
    # Appended after the original columns, so that existing readers keep their positions.
    "Switchboard phone",
]


def _when(moment) -> str:
    return f"{london(moment):%Y-%m-%d %H:%M}" if moment else ""


def tracker_lines(rows: list[TrackerRow]) -> list[list]:
    return [
        [
            row.authority.gss_code,
            row.authority.official_name,
            AuthorityKind(row.authority.kind).label,
            Region(row.authority.region).label,
            row.status_label,
            row.authority.chief_executive_name,
            row.authority.chief_executive_email,
            _when(row.last_contact_at),
            row.last_contact_kind,
            row.last_contact_outcome,
            row.reminders,
            _when(row.deadline_extended_to),
            _when(row.submitted_at),
            "Yes" if row.late else "No",
            row.contact_problem,
            row.authority.switchboard_phone,
        ]
        for row in rows
    ]


def tracker_csv(rows: list[TrackerRow]) -> str:
    buffer = io.StringIO()
    write_csv(buffer, HEADER, tracker_lines(rows))
    return buffer.getvalue()


def tracker_xlsx(rows: list[TrackerRow], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Outstanding councils"
    for column, heading in enumerate(HEADER, start=1):
        cell = sheet.cell(1, column)
        cell.value = heading
        cell.data_type = "s"
        cell.font = Font(bold=True)
    for number, line in enumerate(tracker_lines(rows), start=2):
        for column, value in enumerate(line, start=1):
            cell = sheet.cell(number, column)
            if isinstance(value, str):
                cell.value = safe_cell(value)
                cell.data_type = "s"
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    workbook.properties.title = title[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
