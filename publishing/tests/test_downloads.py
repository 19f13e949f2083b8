"""The public release's files: read back, checked against the published cells, and served
to anyone (published and replaced versions), gone (withdrawn) or unknown (drafts)."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pandas as pd
import pytest
from django.conf import settings
from odf.namespaces import TABLENS
from odf.opendocument import load as odf_load
from odf.table import DatabaseRange, TableCell
from openpyxl import load_workbook

from publishing import exports, services
from publishing.downloads import MAX_AGE, file_url
from publishing.exports import CSV_COLUMNS, NOTE_NUMBERS, PublicSheet, public_sheets
from reporting.publication import Publication
from reporting.selectors import KEY_COLUMNS, Shown
from reporting.tests.census import Census
from survey_site.exports import safe_cell
from survey_site.formatting import date_text

pytestmark = [pytest.mark.django_db]

SHEET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
FORMATS = ("ods", "xlsx", "csv", "csv-metadata")


def publish_version(survey, user, *, summary: str = "", change_note: str = ""):
    draft = services.draft_start(survey=survey, user=user)
    services.draft_update(
        draft, title="Council digital channels", summary=summary, findings=[],
        change_note=change_note,
    )  # fmt: skip
    return services.publish(draft=draft, user=user)


@pytest.fixture
def live(published_round, publisher):
    """Version 1, published, whose summary quotes a published figure."""
    publication = Publication.of(published_round)
    figure = next(cell["value"] for cell in publication.cells() if cell["value"])
    return publish_version(
        published_round, publisher, summary=f"{figure:,.0f} is one of the figures."
    )


def get(client, public, fmt):
    response = client.get(file_url(public, fmt))
    assert response.status_code == 200, (fmt, response.status_code)
    return response


# --- Reading the workbooks back ---------------------------------------------------------


def ods_sheets(content: bytes) -> dict[str, list[list[object]]]:
    """Every sheet of an ODS as pandas reads it: rows of values, None where empty."""
    frames = pd.read_excel(
        io.BytesIO(content), sheet_name=None, header=None, engine="odf", keep_default_na=False
    )  # keep_default_na: the answer "None" is text, not a missing value
    return {name: _rows(frame.values.tolist()) for name, frame in frames.items()}


def xlsx_sheets(content: bytes) -> dict[str, list[list[object]]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: _rows(list(ws.iter_rows(values_only=True))) for ws in book.worksheets}


def _rows(rows) -> list[list[object]]:
    def value(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else v

    cleaned = [[value(v) for v in row] for row in rows]
    for row in cleaned:
        while row and row[-1] is None:
            row.pop()
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return cleaned


def check_workbook(sheets: dict[str, list[list[object]]], public, publication) -> list[str]:
    """Everything wrong with a workbook read back, against the published cells."""
    problems: list[str] = []
    cells = {cell["id"]: cell for cell in publication.cells()}
    layout = public_sheets(public=public, publication=publication)
    table_sheets = [s for s in layout if s.name not in ("Cover", "Contents", "Notes")]
    if list(sheets) != [s.name for s in layout]:
        return [f"sheets {list(sheets)}"]
    for name in sheets:
        if not SHEET_NAME.match(name):
            problems.append(f"sheet name {name!r}")
    contents = sheets["Contents"]
    listed = [row[0] for row in contents[3:]]
    if listed != ["Notes", *(s.name for s in table_sheets)]:
        problems.append(f"contents lists {listed}")
    titles = {row[0]: row[1] for row in contents[3:]}
    for sheet in [s for s in layout if s.table_row]:
        rows = sheets[sheet.name]
        where = sheet.name
        if not (isinstance(rows[0][0], str) and len(rows[0]) == 1):
            problems.append(f"{where}: A1 is not the title alone: {rows[0]}")
        if sheet in table_sheets and titles.get(sheet.name) != rows[0][0]:
            problems.append(f"{where}: the contents' title is not A1's")
        explained = any("Notes worksheet" in str(row[0]) for row in rows[1 : sheet.table_row - 1])
        if sheet in table_sheets and not explained:
            problems.append(f"{where}: no line says where notes and symbols are explained")
        for r, row in enumerate(rows, start=1):
            if not row:
                problems.append(f"{where}: row {r} is blank")
            if r < sheet.table_row and len(row) > 1:
                problems.append(f"{where}: row {r} above the table has more than column A")
        width = len(rows[sheet.table_row - 1])
        if len(rows) != len(sheet.rows):
            problems.append(f"{where}: {len(rows)} rows, the layout has {len(sheet.rows)}")
        for r, (row, expected) in enumerate(zip(rows, sheet.rows, strict=False), start=1):
            if r >= sheet.table_row and (len(row) != width or None in row):
                problems.append(f"{where}: row {r} of the table has empty cells: {row}")
            for c, (value, laid) in enumerate(zip(row, expected, strict=False), start=1):
                place = f"{where} row {r} column {c}"
                if not isinstance(laid, Shown):
                    if value != safe_cell(str(laid)):
                        problems.append(f"{place}: {value!r} is not {laid!r}")
                    continue
                if laid.number is None:
                    value_given = laid.cell and cells[laid.cell]["value"] is not None
                    if value != laid.symbol or value_given:
                        problems.append(f"{place}: {value!r} for a cell shown as {laid.text}")
                    if laid.symbol == "[c]" and cells[laid.cell]["symbol"] != "[c]":
                        problems.append(f"{place}: [c] for a published cell")
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    problems.append(f"{place}: {value!r} is not stored as a number")
                    continue
                published = (
                    laid.number if laid.constant else cells[laid.cell]["value"]
                )  # a constant of a definition (the All channels share) or a cell
                if published is None or not math.isclose(value, published, rel_tol=1e-12):
                    problems.append(f"{place}: {value!r}, the release has {published!r}")
    # Every hidden cell that a table shows reads [c], and every [c] is a hidden cell.
    for sheet in table_sheets:
        for r, row in enumerate(sheets[sheet.name], start=1):
            for value, laid in zip(row, sheet.rows[r - 1], strict=False):
                if value == "[c]" and not (isinstance(laid, Shown) and laid.cell):
                    problems.append(f"{sheet.name} row {r}: [c] that is no cell")
    return problems


def test_the_ods_reads_back_as_the_published_cells(client, live):
    publication = Publication(live.release)
    response = get(client, live, "ods")
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.spreadsheet"
    name = f"{live.survey.slug}-version-1.ods"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["Cache-Control"] == f"public, max-age={MAX_AGE}"
    sheets = ods_sheets(response.content)
    problems = check_workbook(sheets, live, publication)
    assert problems == [], "\n".join(problems)
    # Hidden cells are there, as [c], and figures are there, as numbers.
    values = [v for name, rows in sheets.items() for row in rows[4:] for v in row]
    assert "[c]" in values and any(isinstance(v, int | float) for v in values)

    document = odf_load(io.BytesIO(response.content))
    for cell in document.getElementsByType(TableCell):
        spans = [cell.getAttrNS(TABLENS, a) for a in ("number-columns-spanned",
                                                      "number-rows-spanned")]  # fmt: skip
        assert spans == [None, None], "merged cells"
    ranges = {r.getAttribute("name") for r in document.getElementsByType(DatabaseRange)}
    layout = public_sheets(public=live, publication=publication)
    assert ranges == {f"Table_{s.name}" for s in layout if s.table_row}


def test_the_xlsx_reads_back_as_the_published_cells(client, live):
    publication = Publication(live.release)
    response = get(client, live, "xlsx")
    name = f"{live.survey.slug}-version-1.xlsx"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert check_workbook(xlsx_sheets(response.content), live, publication) == []
    book = load_workbook(io.BytesIO(response.content))
    for sheet in public_sheets(public=live, publication=publication):
        ws = book[sheet.name]
        assert not ws.merged_cells.ranges, sheet.name
        if not sheet.table_row:
            assert not ws.tables, sheet.name
            continue
        (table,) = ws.tables.values()
        width = len(sheet.rows[sheet.table_row - 1])
        assert table.ref == f"A{sheet.table_row}:{chr(64 + width)}{len(sheet.rows)}"
        assert all(cell.font.b for cell in ws[sheet.table_row] if cell.value is not None)


def test_a_sheet_with_a_wrong_figure_is_found(live):
    """The check can fail: a figure that is not the cell's, a hidden cell given a value."""
    publication = Publication(live.release)
    layout = public_sheets(public=live, publication=publication)
    sheets = {s.name: [[_plain(v) for v in row] for row in s.rows] for s in layout}
    assert check_workbook(sheets, live, publication) == []
    mix = next(s for s in layout if s.name == "Channel_mix")
    r, c = next(
        (r, c)
        for r, row in enumerate(mix.rows)
        for c, v in enumerate(row)
        if isinstance(v, Shown) and v.number and v.cell
    )
    sheets["Channel_mix"][r][c] += 1
    hidden = next(
        (r, c)
        for r, row in enumerate(mix.rows)
        for c, v in enumerate(row)
        if isinstance(v, Shown) and v.symbol == "[c]"
    )
    sheets["Channel_mix"][hidden[0]][hidden[1]] = 7
    assert len(check_workbook(sheets, live, publication)) == 2


def _plain(value):
    if isinstance(value, Shown):
        return value.number if value.number is not None else value.text
    return safe_cell(str(value))


def test_the_csv_is_every_published_cell(client, live):
    publication = Publication(live.release)
    response = get(client, live, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == CSV_COLUMNS
    cells = publication.cells()
    assert len(rows) == len(cells)
    for row, cell in zip(rows, cells, strict=True):
        keys = {k: row[k] for k in KEY_COLUMNS if row[k]}
        assert (row["cell"], row["table"], keys) == (cell["id"], cell["table"], cell["keys"])
        assert row["symbol"] == cell["symbol"]
        if cell["value"] is None:
            assert row["value"] == "", cell["id"]
        else:  # a plain number: no thousands separator, no unit
            assert re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", row["value"]), row["value"]
            assert float(row["value"]) == cell["value"]
    assert {row["symbol"] for row in rows} >= {"", "[c]"}


def test_the_csvw_metadata_describes_the_csv(client, live):
    metadata = json.loads(get(client, live, "csv-metadata").content)
    assert metadata["@context"] == "http://www.w3.org/ns/csvw"
    assert metadata["url"] == settings.SURVEY_BASE_URL + file_url(live, "csv")
    assert metadata["dc:title"].startswith(live.title)
    assert metadata["dc:issued"]["@value"] == live.published_at.isoformat()
    assert metadata["dc:publisher"] and "open-government-licence" in metadata["dc:license"]["@id"]
    header = next(csv.reader(io.StringIO(get(client, live, "csv").content.decode())))
    columns = metadata["tableSchema"]["columns"]
    assert [column["name"] for column in columns] == header
    types = {column["name"]: column["datatype"] for column in columns}
    assert types == {name: "number" if name == "value" else "string" for name in header}
    assert all(column["titles"] and column["null"] == "" for column in columns)
    symbol = next(column for column in columns if column["name"] == "symbol")
    assert all(s in symbol["dc:description"] for s in ("[c]", "[x]", "[z]"))
    assert [note["dc:title"] for note in metadata["notes"]] == [
        f"[note {n}]" for n in NOTE_NUMBERS.values()
    ]


def test_files_are_for_anyone_and_only_by_get(client, live):
    assert "_auth_user_id" not in client.session
    for fmt in FORMATS:
        get(client, live, fmt)
        assert client.post(file_url(live, fmt)).status_code == 405


def test_a_replaced_version_keeps_its_files_a_withdrawn_one_is_gone(
    client, live, published_round, publisher
):
    second = publish_version(published_round, publisher, change_note="Clearer words.")
    live.refresh_from_db()
    for fmt in FORMATS:
        get(client, live, fmt)  # superseded: the same audited cells
    cover = ods_sheets(get(client, live, "ods").content)["Cover"]
    assert ["Replaced"] in cover
    cover = xlsx_sheets(get(client, second, "xlsx").content)["Cover"]
    assert ["Clearer words."] in cover and [f"Version {second.version}"] in cover

    services.withdraw(public=second, user=publisher, reason="A council was counted twice.")
    second.refresh_from_db()
    for fmt in FORMATS:
        response = client.get(file_url(second, fmt))
        assert response.status_code == 410, fmt
        page = response.content.decode()
        assert "A council was counted twice." in page
        assert date_text(second.withdrawn_at) in page
        assert f'href="/statistics/{published_round.slug}/"' in page
        assert "attachment" not in response.get("Content-Disposition", "")


def test_drafts_and_unknown_versions_are_not_found(client, live, published_round, publisher):
    draft = services.draft_start(survey=published_round, user=publisher)
    for fmt in FORMATS:
        assert client.get(file_url(draft, fmt)).status_code == 404, fmt
    base = f"/statistics/{published_round.slug}/version-1/"
    for path in (
        f"/statistics/{published_round.slug}/version-9/{published_round.slug}-version-9.ods",
        "/statistics/no-such-round/version-1/no-such-round-version-1.ods",
        f"{base}{published_round.slug}-version-2.ods",  # another version's name
        f"{base}{published_round.slug}-version-1.pdf",
        f"{base}cells.json",
    ):
        assert client.get(path).status_code == 404, path


# --- The census: every number in the files is a cell, a label or a documented constant ---


def public_census(public, publication, contents: dict[str, bytes]) -> list[str]:
    """Every number anyone can read in the public files, traced as ``reporting.tests.census``
    traces the analysts' (rule parameters, intervals and counts on the side are reported)."""
    check = Census(publication)
    # The words of the release: its summary may quote only published figures (checked when
    # it is saved and published; checked again here) and is then allowed as written.
    assert services.figure_problems(publication, summary=public.summary, findings=[]) == []
    extra = {
        public.summary: "the release's summary, figures checked against the cells",
        f"Version {public.version}": "the version's number",
        f"version {public.version}": "the version's number",
        f"version-{public.version}": "the version's number (file names and addresses)",
        date_text(public.published_at): "the date published",
        public.published_at.isoformat(): "the date published (CSVW dc:issued)",
        exports.LICENCE_URL: "the licence's address",
        exports.CSVW: "the CSV on the Web vocabulary's address",
        "utf-8": "the CSV's encoding (CSVW dialect)",
        settings.SURVEY_BASE_URL: "the site's address",
        **{f"[note {n}]": "a note's number" for n in NOTE_NUMBERS.values()},
    }
    if public.superseded_at:
        extra[date_text(public.superseded_at)] = "the date replaced"
    check.allowed = sorted(
        {*check.allowed, *(a for a in extra if re.search(r"\d", a))}, key=len, reverse=True
    )
    layout: list[PublicSheet] = public_sheets(public=public, publication=publication)
    for fmt, read in (("ods", ods_sheets), ("xlsx", xlsx_sheets)):
        sheets = read(contents[fmt])
        for sheet in layout:
            check.text(f"{fmt} sheet name", sheet.name)
            for r, row in enumerate(sheets.get(sheet.name, []), start=1):
                for c, value in enumerate(row, start=1):
                    if value is None:
                        continue
                    place = f"{fmt} {sheet.name} row {r} column {c}"
                    laid = sheet.rows[r - 1][c - 1] if c <= len(sheet.rows[r - 1]) else None
                    if isinstance(laid, Shown) and laid.constant:
                        check.constant(place, laid, value)
                    elif isinstance(laid, Shown):
                        check.figure(place, laid.cell, value)
                    elif laid is not None and value == safe_cell(str(laid)):
                        check.text(place, str(value))
                    else:
                        check.problems.append(f"{place}: {value!r} is not in the layout")
    for number, row in enumerate(csv.DictReader(io.StringIO(contents["csv"].decode())), 2):
        value = row["value"] or row["symbol"]
        check.figure(f"csv row {number}", row["cell"], value)
    metadata = json.loads(contents["csv-metadata"])
    for text in _strings(metadata):
        check.text("csv metadata", text)
    return check.problems


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else [str(value)]


def files(client, public) -> dict[str, bytes]:
    return {fmt: get(client, public, fmt).content for fmt in FORMATS}


def test_census_every_number_in_the_files_is_a_cell_a_label_or_a_constant(client, live):
    publication = Publication(live.release)
    problems = public_census(live, publication, files(client, live))
    assert problems == [], "\n".join(problems)


def test_census_finds_a_number_on_the_side(client, live, monkeypatch):
    """A rule parameter or a count printed in a note is found (the census can fail)."""
    publication = Publication(live.release)
    monkeypatch.setitem(
        exports.NOTE_TEXTS, "protection", "Cells with fewer than 3 councils are hidden."
    )
    problems = public_census(live, publication, files(client, live))
    assert problems and all("'3'" in problem for problem in problems), problems
