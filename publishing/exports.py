"""The public release's downloads: ODS, XLSX, a tidy CSV of the published cells and its
CSV on the Web metadata.

The spreadsheets follow the Analysis Function's guidance "Releasing statistics in
spreadsheets": a cover sheet, a contents sheet, a notes sheet, then one table per sheet. Each
table sheet has its title in A1, a line saying where notes and symbols are explained, then the
table with one header row; no merged cells, no blank rows in or above a table, numbers stored
as numbers, hidden cells as the text "[c]" and figures that do not apply as "[x]" or "[z]".
Sheet names are short, with underscores for spaces.

Every figure is a ``Shown`` read from the round's ``Publication`` (the analysts' workbook
layout, ``reporting.exports.workbook_sheets``, reads the same tables): the files hold the
audited cells, labels, and the words of the public release, nothing computed on the side.
The ODS is written with odfpy's document model (no hand-written XML), the XLSX with openpyxl.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from odf import dc as odf_dc
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TextProperties
from odf.table import DatabaseRange, DatabaseRanges, Table, TableCell, TableColumn, TableRow
from odf.text import A, P
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table as XlsxTable
from openpyxl.worksheet.table import TableStyleInfo

from publishing.models import PublicRelease, PublicReleaseStatus
from reporting.exports import NOTES, NUMBER_FORMATS, SHEET_NAMES, Sheet, xlsx_write
from reporting.publication import Publication
from reporting.selectors import KEY_COLUMNS, SYMBOL_MEANINGS, ReportTable, Shown
from survey_site.exports import safe_cell, write_csv
from survey_site.formatting import date_text

PUBLISHER = "Local Digital Alliance"
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

# Notes, in the order the Notes sheet numbers them ([note 1], [note 2]...). The analysts'
# notes (symbols, protection, take-up, unit costs) are reused as they are written there.
_ANALYST_NOTES = dict(NOTES)
COUNCIL_TYPES = (
    "Council types: the City of London is published with London boroughs and the Isles of "
    "Scilly with unitary authorities, so that no type of council has only one member."
)
NOTE_TEXTS: dict[str, str] = {
    **{symbol: f"{symbol} {meaning}" for symbol, meaning in SYMBOL_MEANINGS.items()},
    "estimates": "Estimates: " + _ANALYST_NOTES["[e]"].removeprefix("Estimated. "),
    "protection": "How confidentiality is protected: " + _ANALYST_NOTES["Protection"],
    "take-up": "Digital take-up: " + _ANALYST_NOTES["Digital take-up"],
    "unit-costs": "Unit costs: " + _ANALYST_NOTES["Unit costs"],
    "council-types": COUNCIL_TYPES,
    # The response: England's figures, cells of the release (see Publication.summary).
    "Invited councils": "Councils invited (the population): every council in England that "
    "the round invited to respond.",
    "Responding councils": "Councils that responded to the round.",
    "Response rate": "Response rate: councils that responded as a percentage of councils invited.",
}
NOTE_NUMBERS = {key: number for number, key in enumerate(NOTE_TEXTS, start=1)}
# The notes each table's title refers to (every table: protection and council types).
TABLE_NOTES = {
    "response-rates": ("Invited councils", "Responding councils", "Response rate"),
    "channel-mix": ("estimates",),
    "take-up": ("take-up", "estimates"),
    "take-up-type-region": ("take-up", "estimates"),
    "costs": ("unit-costs", "estimates"),
    "own-costs": ("unit-costs", "estimates"),
    "volumes": ("estimates",),
}
UNIT_HEADINGS = {"percent": " (%)", "pounds": " (£)"}
# "[c] confidential": a symbol's name, the first words of its meaning.
SYMBOL_NAMES = {symbol: text.split(":")[0].lower() for symbol, text in SYMBOL_MEANINGS.items()}


def note_marker(key: str) -> str:
    return f"[note {NOTE_NUMBERS[key]}]"


def sheet_name(slug: str, title: str) -> str:
    """A short worksheet name without spaces or special characters ("Channel_mix")."""
    words = SHEET_NAMES.get(slug, title)
    name = "".join(ch if ch.isalnum() else "_" for ch in words)
    return "_".join(part for part in name.split("_") if part)[:31]


@dataclass
class PublicSheet(Sheet):
    """A worksheet of the public release: ``table_row`` is its table's header row (1-based;
    0 when it has no table), ``headings`` the rows of text shown bold."""

    table_row: int = 0
    headings: tuple[int, ...] = ()
    title: str = ""

    @property
    def table_rows(self) -> list[list[str | Shown]]:
        """The table (header row first), or nothing."""
        return self.rows[self.table_row - 1 :] if self.table_row else []


def _table_title(table: ReportTable, publication: Publication) -> str:
    keys = (*TABLE_NOTES.get(table.slug, ()), "protection", "council-types")
    markers = " ".join(note_marker(key) for key in sorted(keys, key=NOTE_NUMBERS.get))
    return f"{table.title}, {publication.round.name} {markers}"


def _head(table: ReportTable) -> list[str]:
    """The table's headings, each naming its unit when every figure below it has one."""
    head = []
    for col, heading in enumerate(table.head):
        units = {row[col].unit for row in table.rows if isinstance(row[col], Shown)}
        unit = units.pop() if len(units) == 1 else ""
        head.append(heading + UNIT_HEADINGS.get(unit, ""))
    return head


def _table_sheet(table: ReportTable, name: str, publication: Publication) -> PublicSheet:
    title = _table_title(table, publication)
    rows: list[list[str | Shown]] = [
        [title],
        ["This worksheet contains one table. Notes and symbols are explained in the Notes "
         "worksheet."],
    ]  # fmt: skip
    symbols = table.symbols()
    if symbols:
        used = ", ".join(f"{symbol} {SYMBOL_NAMES[symbol]}" for symbol in symbols)
        rows.append([f"Some cells show a symbol instead of a figure: {used}."])
    head = _head(table)
    if len(set(head)) != len(head):  # an Excel table needs unique headings
        raise ValueError(f"{table.slug}: headings are not unique: {head}")
    rows += [head, *table.rows]
    widths = tuple(40 if col < table.label_columns else 18 for col in range(len(table.head)))
    return PublicSheet(
        name, rows, widths, header_rows=0, table_row=len(rows) - len(table.rows), title=title
    )


def public_sheets(*, public: PublicRelease, publication: Publication) -> list[PublicSheet]:
    """The public workbook, sheet by sheet: cover, contents, notes, one sheet per table.

    Every figure is a ``Shown`` read from a cell of the release: the notes' response figures
    are England's cells (``Publication.summary``), as on the analysts' cover sheet.
    """
    round_name = publication.round.name
    tables = publication.report_tables()
    names = [sheet_name(table.slug, table.title) for table in tables]
    if len(set(names)) != len(names):
        raise ValueError(f"worksheet names are not unique: {names}")
    table_sheets = [
        _table_sheet(table, name, publication) for table, name in zip(tables, names, strict=True)
    ]

    cover: list[list[str | Shown]] = [[public.title]]
    headings: list[int] = []

    def section(heading: str, *texts: str) -> None:
        cover.append([heading])
        headings.append(len(cover))
        cover.extend([text] for text in texts if text)

    section(
        "About these statistics",
        f"Results of the council digital channels survey of English councils, {round_name}: "
        "the transactions councils handle by each channel (online, telephone, face to face and "
        "others), digital take-up, estimated costs and a channel-shift scenario, and councils' "
        "platforms and capability. Figures are for England, council types and regions: no "
        "council's own figures are published.",
        public.summary,
    )
    section("Round", round_name)
    section("Version", f"Version {public.version}")
    if public.published_at:
        section("Date published", date_text(public.published_at))
    if public.status == PublicReleaseStatus.SUPERSEDED and public.superseded_at:
        section(
            "Replaced",
            f"This version was replaced by a later version on {date_text(public.superseded_at)}.",
        )
    if public.change_note:
        section("What changed in this version", public.change_note)
    section(
        "Source",
        f"The council digital channels survey, run by the {PUBLISHER}. Every figure is a cell "
        "of the round's audited release of results.",
    )
    section(
        "Notes, symbols and confidentiality",
        "The Notes worksheet explains the notes referred to in table titles, the symbols "
        "[c], [x] and [z], and how no council can be identified from these statistics.",
    )
    section("Contact", f"Email {settings.SURVEY_TEAM_EMAIL}")
    section(
        "Licence",
        f"You may re-use these statistics free of charge under the {LICENCE}.",
        LICENCE_URL,
    )

    contents: list[list[str | Shown]] = [
        ["Contents"],
        ["This worksheet contains one table. Each sheet name links to its worksheet."],
        ["Sheet name", "Table title"],
        ["Notes", "Notes, symbols and the response to the round"],
        *([sheet.name, sheet.title] for sheet in table_sheets),
    ]
    figures = dict(publication.summary())
    notes: list[list[str | Shown]] = [
        ["Notes"],
        ["This worksheet contains one table. Table titles refer to these notes by number, "
         "for example [note 1]. The last column holds England's figure where a note has one."],
        ["Note number", "Note text", "England"],
        *(
            [note_marker(key), text, figures.get(key, Shown(None, symbol="[z]"))]
            for key, text in NOTE_TEXTS.items()
        ),
    ]  # fmt: skip
    return [
        PublicSheet("Cover", cover, (100,), header_rows=0, headings=(1, *headings)),
        PublicSheet("Contents", contents, (28, 100), header_rows=0, table_row=3),
        PublicSheet("Notes", notes, (14, 100, 14), header_rows=0, table_row=3),
        *table_sheets,
    ]


def file_name(public: PublicRelease) -> str:
    return f"{public.survey.slug}-version-{public.version}"


def _document_title(public: PublicRelease, publication: Publication) -> str:
    round_name = publication.round.name
    title = public.title if round_name in public.title else f"{public.title}: {round_name}"
    return f"{title}, version {public.version}"


# --- XLSX ---------------------------------------------------------------------------


def public_xlsx(*, public: PublicRelease, publication: Publication) -> bytes:
    """The public workbook as XLSX: each table an Excel table with one bold header row."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = _document_title(public, publication)
    workbook.properties.creator = PUBLISHER
    workbook.properties.language = "en-GB"
    sheets = public_sheets(public=public, publication=publication)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.name)
        for r, values in enumerate(sheet.rows, start=1):
            for col, value in enumerate(values, start=1):
                cell = ws.cell(r, col)
                xlsx_write(cell, value)
                if isinstance(value, Shown) and value.number is not None:
                    cell.number_format = NUMBER_FORMATS[value.unit]
                if r == sheet.table_row or r in sheet.headings:
                    cell.font = Font(bold=True)
        ws["A1"].font = Font(bold=True, size=14)
        for col, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        if sheet.table_row:
            last = f"{get_column_letter(len(sheet.rows[sheet.table_row - 1]))}{len(sheet.rows)}"
            table = XlsxTable(displayName=f"Table_{sheet.name}", ref=f"A{sheet.table_row}:{last}")
            table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
            ws.add_table(table)
            ws.freeze_panes = f"A{sheet.table_row + 1}"
    contents = workbook["Contents"]
    for row in contents.iter_rows(min_row=4, max_col=1):
        cell = row[0]
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{cell.value}'!A1")
        cell.style = "Hyperlink"
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


# --- ODS ----------------------------------------------------------------------------


def _ods_number(shown: Shown) -> str:
    """How a spreadsheet displays the number (the stored value is the cell's, unrounded)."""
    return f"{shown.number:.1f}" if shown.unit == "percent" else f"{shown.number:,.0f}"


class _OdsStyles:
    def __init__(self, doc: OpenDocumentSpreadsheet) -> None:
        styles = doc.automaticstyles
        self.numbers = {}
        for unit, decimals in (("count", 0), ("percent", 1), ("pounds", 0)):
            data = NumberStyle(name=f"N{unit}")
            data.addElement(
                Number(decimalplaces=decimals, minintegerdigits=1, grouping=unit != "percent")
            )
            styles.addElement(data)
            cell = Style(name=f"figure-{unit}", family="table-cell", datastylename=f"N{unit}")
            styles.addElement(cell)
            self.numbers[unit] = cell
        self.bold = Style(name="bold", family="table-cell")
        self.bold.addElement(TextProperties(fontweight="bold"))
        self.title = Style(name="title", family="table-cell")
        self.title.addElement(TextProperties(fontweight="bold", fontsize="14pt"))
        styles.addElement(self.bold)
        styles.addElement(self.title)
        self._doc, self._widths = doc, {}

    def column(self, width: int) -> Style:
        if width not in self._widths:
            style = Style(name=f"col{width}", family="table-column")
            style.addElement(TableColumnProperties(columnwidth=f"{width * 0.19:.2f}cm"))
            self._doc.automaticstyles.addElement(style)
            self._widths[width] = style
        return self._widths[width]


def _ods_cell(
    value: str | Shown, styles: _OdsStyles, style: Style | None, link: str = ""
) -> TableCell:
    if isinstance(value, Shown) and value.number is not None:
        cell = TableCell(
            valuetype="float", value=value.number, stylename=styles.numbers[value.unit]
        )
        cell.addElement(P(text=_ods_number(value)))
        return cell
    text = safe_cell(value.text if isinstance(value, Shown) else str(value))
    cell = TableCell(valuetype="string", **({"stylename": style} if style else {}))
    if link:
        paragraph = P()
        paragraph.addElement(A(href=link, text=text))
    else:
        paragraph = P(text=text)
    cell.addElement(paragraph)
    return cell


def _ods_range(sheet: PublicSheet) -> str:
    last = get_column_letter(len(sheet.rows[sheet.table_row - 1]))
    return f"'{sheet.name}'.A{sheet.table_row}:'{sheet.name}'.{last}{len(sheet.rows)}"


def public_ods(*, public: PublicRelease, publication: Publication) -> bytes:
    """The public workbook as an OpenDocument spreadsheet (odfpy): numbers as floats, text
    as strings, each table a named database range with its header row."""
    doc = OpenDocumentSpreadsheet()
    doc.meta.addElement(odf_dc.Title(text=_document_title(public, publication)))
    doc.meta.addElement(odf_dc.Language(text="en-GB"))
    doc.meta.addElement(odf_dc.Creator(text=PUBLISHER))
    styles = _OdsStyles(doc)
    sheets = public_sheets(public=public, publication=publication)
    ranges = DatabaseRanges()
    for sheet in sheets:
        table = Table(name=sheet.name)
        for width in sheet.widths:
            table.addElement(TableColumn(stylename=styles.column(width)))
        for r, values in enumerate(sheet.rows, start=1):
            row = TableRow()
            bold = r == sheet.table_row or r in sheet.headings
            style = styles.title if r == 1 else (styles.bold if bold else None)
            for col, value in enumerate(values):
                link = sheet.name == "Contents" and r > sheet.table_row and col == 0
                row.addElement(_ods_cell(value, styles, style, f"#'{value}'.A1" if link else ""))
            table.addElement(row)
        doc.spreadsheet.addElement(table)
        if sheet.table_row:
            ranges.addElement(
                DatabaseRange(
                    name=f"Table_{sheet.name}",
                    targetrangeaddress=_ods_range(sheet),
                    containsheader="true",
                )
            )
    doc.spreadsheet.addElement(ranges)
    stream = io.BytesIO()
    doc.write(stream)
    return stream.getvalue()


# --- CSV and its CSV on the Web metadata ----------------------------------------------

CSVW = "http://www.w3.org/ns/csvw"
CSV_COLUMNS = ["cell", "table", *KEY_COLUMNS, "value", "symbol"]
KEY_TITLES = {
    "transaction": "Transaction",
    "channel": "Channel",
    "council_type": "Council type",
    "region": "Region",
    "section": "Questionnaire section",
    "question": "Question",
    "answer": "Answer",
    "scenario": "Scenario",
    "measure": "Measure",
}
# What each of the release's tables of cells counts, and in what unit.
CELL_TABLES = {
    "invited": "Councils invited to respond (count).",
    "responded": "Councils that responded (count).",
    "response_rate": "Councils that responded as a percentage of councils invited (per cent).",
    "volume": "Transactions handled in a year, by transaction and channel (count).",
    "share": "A channel's share of a transaction's transactions (per cent).",
    "take_up": "Digital take-up: online self-service and mobile app as a percentage of all "
    "recorded channels (per cent).",
    "cost_default": "Estimated cost at published unit costs (pounds).",
    "cost_own": "Estimated cost at councils' own unit costs, published defaults where none "
    "given (pounds).",
    "scenario": "Channel-shift scenario: transactions moved (count) or change in cost "
    "(pounds), by measure.",
    "provision": "Councils giving each answer on providing a transaction (count).",
    "end_to_end": "Councils providing a transaction, by whether it can be completed end to "
    "end online (count).",
    "offered": "Councils offering a channel for a transaction they provide (count).",
    "not_offered": "Councils not offering a channel for a transaction they provide (count).",
    "answers": "Councils giving each answer to a question on platforms and capability (count).",
}


def public_csv(*, public: PublicRelease, publication: Publication, stream: IO[str]) -> None:
    """Every published cell, one row each (tidy): its id, table and keys, then its value as
    a plain number, or no value and the symbol that stands for it ([c] hidden, [z] not
    applicable)."""
    rows = (
        [
            cell["id"],
            cell["table"],
            *[cell["keys"].get(key, "") for key in KEY_COLUMNS],
            "" if cell["value"] is None else cell["value"],
            cell["symbol"],
        ]
        for cell in publication.cells()
    )
    write_csv(stream, CSV_COLUMNS, rows)


def csvw_metadata(*, public: PublicRelease, publication: Publication, csv_url: str) -> dict:
    """CSV on the Web (W3C tabular metadata) describing ``public_csv``'s file at ``csv_url``."""
    symbols = "; ".join(f"{symbol} {meaning}" for symbol, meaning in SYMBOL_MEANINGS.items())
    described = {
        "cell": ("Cell", "string", "The cell's identifier: its table and keys."),
        "table": (
            "Table",
            "string",
            "The release's table the cell belongs to: "
            + " ".join(f"{name}: {text}" for name, text in CELL_TABLES.items()),
        ),
        **{
            key: (
                KEY_TITLES[key],
                "string",
                f"{KEY_TITLES[key]}: a code; empty where the table has no such key, "
                "'total' for all of them.",
            )
            for key in KEY_COLUMNS
        },
        "value": (
            "Value",
            "number",
            "The published figure, unrounded; empty where the symbol column has a symbol.",
        ),
        "symbol": ("Symbol", "string", f"Empty where the cell has a value, else {symbols}"),
    }
    columns = [
        {
            "name": name,
            "titles": described[name][0],
            "datatype": described[name][1],
            "null": "",
            "dc:description": described[name][2],
            **({"required": True} if name in ("cell", "table") else {}),
        }
        for name in CSV_COLUMNS
    ]
    return {
        "@context": CSVW,
        "url": csv_url,
        "dc:title": _document_title(public, publication) + ": published cells",
        "dc:description": (
            "Every cell of the round's audited release of results, one row each. Hidden cells "
            "have no value and the symbol [c]."
        ),
        "dc:issued": {
            "@value": public.published_at.isoformat() if public.published_at else "",
            "@type": "xsd:dateTime",
        },
        "dc:publisher": PUBLISHER,
        "dc:license": {"@id": LICENCE_URL},
        "dialect": {"header": True, "encoding": "utf-8"},
        "tableSchema": {"columns": columns, "primaryKey": "cell"},
        "notes": [
            {"dc:title": note_marker(key), "dc:description": text}
            for key, text in NOTE_TEXTS.items()
        ],
    }
