"""The spreadsheet round trip: a council's figures out as XLSX, and back in, validated.

Sheet "Figures": one row per key transaction, one column per channel. A cell holds a
whole number, a number marked as an estimate ("1250 (estimate)"; "1250e" is read too),
or "Not recorded" (the web form's words);
blank means the channel is not offered. An upload is validated exactly like the web
form and turned into the same inputs; nothing is written until the person confirms.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection

from survey_site.exports import safe_cell
from survey_site.tabular import TableError, check_xlsx_container
from surveys.choices import EndToEnd, Provision
from surveys.forms import lower_first, parse_whole_number
from surveys.models import Response
from surveys.selectors import ResponseData, describe_value
from surveys.services import FigureInput, TransactionInput, channel_names

FORMAT = "figures/1"
FIGURES = "Figures"
ABOUT = "About"
# The web form's words, which hold no comma (Excel's list validation separates by commas).
PROVISION_LABELS = dict(Provision.choices)
# Words of spreadsheets downloaded before both used the same ones, still read.
PROVISION_FORMER = {
    "another organisation provides it": Provision.OTHER_ORGANISATION,
    "no, not our responsibility": Provision.NOT_RESPONSIBLE,
}
END_TO_END_LABELS = {EndToEnd.YES: "Yes", EndToEnd.PARTLY: "Partly", EndToEnd.NO: "No"}
FIRST_CHANNEL_COLUMN = 5  # A number, B transaction, C provides, D end to end
ESTIMATE = re.compile(r"^(?P<number>[\d,\s]+?)\s*(e|estimate|\(estimate\))$", re.IGNORECASE)
NOT_RECORDED = {"not recorded", "nr", "n/r"}
# Cells read around the template's table, to notice rows or columns added to it; nothing
# further is ever read, whatever the sheet's <dimension> or row count says.
MARGIN = 10
ABOUT_KEYS = ("format", "council", "round")
ERRORS_SHOWN = 50
# openpyxl reads a workbook's shared strings and styles whole, before any row: a file
# under the upload cap could unpack to 600,000 strings and cost a worker 20 seconds. The
# template unpacks to about 25 KB; Excel or LibreOffice saving it again adds little.
MAX_UNPACKED_BYTES = 1024 * 1024
UNREADABLE = "The file could not be read: save it again as .xlsx"


class UploadRefused(Exception):
    """The file as a whole cannot be used; the message says why, for the person."""


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _figure_cell(figure: FigureInput) -> Any:
    if figure.not_recorded:
        return "Not recorded"
    if figure.value is None:
        return None
    return f"{figure.value} (estimate)" if figure.estimate else figure.value


def workbook_bytes(*, data: ResponseData, stored: dict[str, TransactionInput]) -> bytes:
    """The council's figures as an XLSX workbook, prefilled with its current answers."""
    response = data.response
    book = Workbook()
    sheet = book.active
    sheet.title = FIGURES
    header = ["Number", "Transaction", "Does your council provide it?", "End to end online?"]
    header += [c.name for c in data.channels]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
    for key_transaction in data.transactions:
        answer = stored[key_transaction.slug]
        row = [
            key_transaction.number,
            safe_cell(key_transaction.name),
            PROVISION_LABELS.get(answer.provision),
            END_TO_END_LABELS.get(answer.end_to_end),
        ]
        for channel in data.channels:
            offered = channel.code in answer.channels_offered
            row.append(_figure_cell(answer.figures[channel.code]) if offered else None)
        sheet.append(row)
    last_row = len(data.transactions) + 1
    provision = DataValidation(
        type="list",
        formula1='"' + ",".join(PROVISION_LABELS.values()) + '"',
        allow_blank=True,
        error="Choose from the list",
    )
    end_to_end = DataValidation(
        type="list", formula1='"Yes,Partly,No"', allow_blank=True, error="Choose from the list"
    )
    first, last = (
        _column(FIRST_CHANNEL_COLUMN),
        _column(FIRST_CHANNEL_COLUMN + len(data.channels) - 1),
    )
    figures = DataValidation(
        type="custom",
        formula1=(
            f"OR(AND(ISNUMBER({first}2),{first}2>=0,INT({first}2)={first}2),"
            f'LOWER({first}2)="not recorded",RIGHT(LOWER({first}2),1)="e",'
            f'RIGHT(LOWER({first}2),10)="(estimate)",RIGHT(LOWER({first}2),8)="estimate")'
        ),
        allow_blank=True,
        error='Enter a whole number, a number followed by (estimate), or "Not recorded"',
    )
    for validation in (provision, end_to_end, figures):
        sheet.add_data_validation(validation)
    provision.add(f"C2:C{last_row}")
    end_to_end.add(f"D2:D{last_row}")
    figures.add(f"{first}2:{last}{last_row}")
    sheet.column_dimensions["B"].width = 60
    sheet.column_dimensions["C"].width = 30
    sheet.column_dimensions["D"].width = 18
    sheet.freeze_panes = "C2"

    notes = book.create_sheet("Notes")
    for line in [
        f"{response.survey.name}: figures for {response.authority.official_name}",
        "",
        "One row per key transaction, one column per channel, for the period your figures cover.",
        "In each channel cell, enter the number of transactions as a whole number, like 1250.",
        'If the figure is an estimate, add "(estimate)" after it, like 1250 (estimate).',
        'If you offer the channel but do not record the number, enter "Not recorded".',
        "Leave the cell blank if you do not offer that channel for the transaction.",
        'Column C: "Yes", "Not our responsibility" or "Provided by another organisation for us".',
        'Column D: can a resident complete it end to end online: "Yes", "Partly" or "No".',
        "Do not change the Number and Transaction columns or the sheet names.",
        "Upload the file from the survey's task list. You will see every change before "
        "anything is saved.",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 110

    about = book.create_sheet(ABOUT)
    about.append(["format", FORMAT])
    about.append(["council", response.authority.gss_code])
    about.append(["round", response.survey.slug])
    about.sheet_state = "hidden"
    about.protection = SheetProtection(sheet=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class UploadError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Sheet {FIGURES}, row {self.row}, column {self.column}: {self.message}"


@dataclass
class UploadPlan:
    inputs: dict[str, TransactionInput] = field(default_factory=dict)
    changes: list[dict[str, str]] = field(default_factory=list)
    errors: list[UploadError] = field(default_factory=list)

    @property
    def errors_shown(self) -> list[UploadError]:
        """The first problems, enough to start correcting; the page says how many more."""
        return self.errors[:ERRORS_SHOWN]

    @property
    def errors_not_shown(self) -> int:
        return max(0, len(self.errors) - ERRORS_SHOWN)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read(raw: bytes) -> tuple[Any, Any]:
    if len(raw) > settings.SURVEY_UPLOAD_MAX_BYTES:
        raise UploadRefused(
            f"The file must be smaller than {settings.SURVEY_UPLOAD_MAX_BYTES // (1024 * 1024)} MB"
        )
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRefused(
            "The file is password-protected or in the old .xls format: save it as an "
            "Excel workbook (.xlsx) without a password"
        )
    if not raw.startswith(b"PK\x03\x04"):
        raise UploadRefused("The file must be an Excel workbook (.xlsx)")
    try:
        check_xlsx_container(raw, max_unpacked=MAX_UNPACKED_BYTES)
    except TableError as error:
        raise UploadRefused(str(error)) from None
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for damaged files
        raise UploadRefused(UNREADABLE) from None
    if FIGURES not in book.sheetnames or ABOUT not in book.sheetnames:
        raise UploadRefused(
            "This is not the survey spreadsheet: download the spreadsheet for your council "
            "from the task list and use that"
        )
    return book[FIGURES], book[ABOUT]


def _bounded_rows(sheet: Any, *, rows: int, columns: int) -> list[tuple[Any, ...]]:
    """The sheet's first rows and columns, as many as the template holds, and no more.

    Streams the sheet row by row, reading at most MARGIN rows and columns past the
    template's table, and stops there: what the file says about its own size (its
    <dimension>, thousands of empty or numbered rows) never decides how much is read.
    Anything in that margin is refused; a damaged sheet is refused like a damaged file.
    """
    table: list[tuple[Any, ...]] = []
    try:
        for number, row in enumerate(
            sheet.iter_rows(
                min_row=1,
                max_row=rows + MARGIN,
                min_col=1,
                max_col=columns + MARGIN,
                values_only=True,
            ),
            start=1,
        ):
            if number > rows or any(_text(value) for value in row[columns:]):
                if any(_text(value) for value in row):
                    raise UploadRefused(
                        f"The {sheet.title} sheet has entries outside the survey's table: delete "
                        f"anything below row {rows} or to the right of column {_column(columns)} "
                        "and upload the spreadsheet again"
                    )
                continue
            table.append(tuple(row[:columns]))
    except UploadRefused:
        raise
    except Exception:  # truncated XML, numbers openpyxl cannot read (NaN, inf), bad zip parts
        raise UploadRefused(UNREADABLE) from None
    return table


def _whole_number(value: Any) -> int | None:
    """A cell's number as a whole number, or None (not a number, NaN, infinite, fractional)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():  # NaN and inf are not integers
        return None
    return int(value)


def _parse_figure(value: Any, what: str) -> FigureInput:
    if isinstance(value, bool):
        raise ValueError(f"Enter the number of {what} as a whole number, like 1,250")
    if isinstance(value, int | float):
        number = _whole_number(value)
        if number is None:
            raise ValueError(f"The number of {what} must be a whole number")
        return FigureInput(parse_whole_number(str(number), what))
    text = _text(value)
    if text.lower() in NOT_RECORDED:
        return FigureInput(None, not_recorded=True)
    estimate = ESTIMATE.match(text)
    if estimate:
        return FigureInput(parse_whole_number(estimate.group("number"), what), estimate=True)
    return FigureInput(parse_whole_number(text, what))


def upload_plan(
    *, raw: bytes, response: Response, data: ResponseData, stored: dict[str, TransactionInput]
) -> UploadPlan:
    """Validate an uploaded workbook against this council's response; write nothing."""
    from django.core.exceptions import ValidationError

    figures_sheet, about_sheet = _read(raw)
    channels = data.channels
    about_rows = _bounded_rows(about_sheet, rows=len(ABOUT_KEYS), columns=2)
    about = {_text(r[0]): _text(r[1]) for r in about_rows}
    if about.get("format") != FORMAT:
        raise UploadRefused("This is not the survey spreadsheet, or it is from an older version")
    if about.get("council") != response.authority.gss_code:
        raise UploadRefused(
            f"This spreadsheet is for another council ({about.get('council') or 'unknown'}), "
            f"not {response.authority.official_name}"
        )
    if about.get("round") != response.survey.slug:
        raise UploadRefused("This spreadsheet is for another survey round")
    plan = UploadPlan()
    rows = _bounded_rows(
        figures_sheet,
        rows=1 + len(data.transactions),
        columns=FIRST_CHANNEL_COLUMN - 1 + len(channels),
    )
    expected = [c.name for c in channels]
    header = [_text(v) for v in (rows[0] if rows else ())]
    if header[FIRST_CHANNEL_COLUMN - 1 : FIRST_CHANNEL_COLUMN - 1 + len(channels)] != expected:
        raise UploadRefused("The channel columns have been changed: download a new spreadsheet")
    by_number = {t.number: t for t in data.transactions}
    provision_values = PROVISION_FORMER | {v.lower(): k for k, v in PROVISION_LABELS.items()}
    end_values = {v.lower(): k for k, v in END_TO_END_LABELS.items()}
    seen: set[int] = set()
    for row_number, row in enumerate(rows[1:], start=2):
        cells = list(row) + [None] * (FIRST_CHANNEL_COLUMN + len(channels))
        if not any(_text(c) for c in cells):
            continue
        number = _whole_number(cells[0])
        key_transaction = by_number.get(number)
        if key_transaction is None or number in seen:
            plan.errors.append(
                UploadError(row_number, "A", "Do not change or repeat the transaction numbers")
            )
            continue
        seen.add(key_transaction.number)
        errors_before = len(plan.errors)
        provision_text = _text(cells[2]).lower()
        if not provision_text:
            continue  # not answered in the sheet: leave the saved answer alone
        provision = provision_values.get(provision_text)
        if provision is None:
            plan.errors.append(
                UploadError(
                    row_number,
                    "C",
                    'Choose "Yes", "Not our responsibility" or "Provided by another organisation '
                    'for us"',
                )
            )
            continue
        current = stored[key_transaction.slug]
        if provision != Provision.YES:
            plan.inputs[key_transaction.slug] = TransactionInput(
                provision=provision,
                channels_offered=current.channels_offered,
                end_to_end=current.end_to_end,
                figures=current.figures,
            )
            continue
        end_to_end = end_values.get(_text(cells[3]).lower())
        if end_to_end is None:
            plan.errors.append(
                UploadError(row_number, "D", 'Enter "Yes", "Partly" or "No" for end to end online')
            )
        figures: dict[str, FigureInput] = {}
        for index, channel in enumerate(channels):
            value = cells[FIRST_CHANNEL_COLUMN - 1 + index]
            if _text(value) == "":
                figures[channel.code] = FigureInput()
                continue
            try:
                figures[channel.code] = _parse_figure(
                    value, f"{lower_first(channel.name)} transactions"
                )
            except (ValidationError, ValueError) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                plan.errors.append(
                    UploadError(
                        row_number,
                        f"{_column(FIRST_CHANNEL_COLUMN + index)} ({channel.name})",
                        message,
                    )
                )
        offered = [c.code for c in channels if figures.get(c.code, FigureInput()) != FigureInput()]
        if not offered and len(plan.errors) == errors_before:
            plan.errors.append(
                UploadError(
                    row_number, "E", 'Give a figure or "not recorded" for at least one channel'
                )
            )
        if len(plan.errors) == errors_before:
            plan.inputs[key_transaction.slug] = TransactionInput(
                provision=provision,
                channels_offered=offered,
                end_to_end=end_to_end or "",
                figures={c.code: figures.get(c.code, FigureInput()) for c in channels},
            )
    names = channel_names(channels)
    for key_transaction in data.transactions:
        new = plan.inputs.get(key_transaction.slug)
        if new is None:
            continue
        old = stored[key_transaction.slug]
        if new.provision != old.provision:
            plan.changes.append(
                _change(
                    key_transaction,
                    "Provides it",
                    PROVISION_LABELS.get(old.provision, "blank"),
                    PROVISION_LABELS[new.provision],
                )
            )
        if new.provision != Provision.YES:
            continue
        if new.end_to_end != old.end_to_end:
            plan.changes.append(
                _change(
                    key_transaction,
                    "End to end online",
                    END_TO_END_LABELS.get(old.end_to_end, "blank"),
                    END_TO_END_LABELS.get(new.end_to_end, "blank"),
                )
            )
        for code, figure in new.figures.items():
            before = old.figures[code] if code in old.channels_offered else FigureInput()
            if figure != before:
                plan.changes.append(
                    _change(
                        key_transaction,
                        names[code],
                        describe_value(before.as_json()),
                        describe_value(figure.as_json()),
                    )
                )
    return plan


def _change(key_transaction, what: str, old: str, new: str) -> dict[str, str]:
    return {"transaction": key_transaction.name, "what": what, "old": old, "new": new}


def inputs_to_json(inputs: dict[str, TransactionInput]) -> dict[str, Any]:
    return {
        slug: {
            "provision": i.provision,
            "channels_offered": i.channels_offered,
            "end_to_end": i.end_to_end,
            "figures": {code: f.as_json() for code, f in i.figures.items()},
        }
        for slug, i in inputs.items()
    }


def inputs_from_json(data: dict[str, Any]) -> dict[str, TransactionInput]:
    return {
        slug: TransactionInput(
            provision=i["provision"],
            channels_offered=list(i["channels_offered"]),
            end_to_end=i["end_to_end"],
            figures={code: FigureInput(**f) for code, f in i["figures"].items()},
        )
        for slug, i in data.items()
    }
