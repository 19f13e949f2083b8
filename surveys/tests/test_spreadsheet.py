"""The spreadsheet round trip: download prefilled, upload validated, preview, confirm."""

import io
import re
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from openpyxl import load_workbook

from surveys.models import ChangeRecord, Figure
from surveys.services import link_issue

from .factories import make_authority, new_response, open_link, token_path

PAY = "/survey/transactions/pay-council-tax/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def holder(response, client):
    open_link(client, response)
    client.post(
        PAY,
        {"provision": "yes", "channels": ["WEB", "PHONE"], "end_to_end": "partly",
         "figure_WEB": "1,000", "not_recorded_PHONE": "on"},
    )  # fmt: skip
    return client


def download(client) -> bytes:
    reply = client.get("/survey/spreadsheet/download/")
    assert reply.status_code == 200
    assert reply["Content-Type"] == XLSX
    return reply.content


def upload(client, content: bytes, name: str = "figures.xlsx"):
    return client.post(
        "/survey/spreadsheet/",
        {"action": "upload", "spreadsheet": SimpleUploadedFile(name, content, XLSX)},
    )


def edited(content: bytes, edits: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(content))
    sheet = book["Figures"]
    for cell, value in edits.items():
        sheet[cell] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def figures(response) -> dict:
    return {
        (f.transaction.slug, f.channel.code): (f.value, f.not_recorded, f.estimate)
        for f in Figure.objects.filter(response=response).select_related("transaction", "channel")
    }


def test_download_is_prefilled_with_numbers_as_numbers(holder, response):
    book = load_workbook(io.BytesIO(download(holder)))
    assert book.sheetnames == ["Figures", "Notes", "About"]
    sheet = book["Figures"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == [
        "Number", "Transaction", "Does your council provide it?", "End to end online?",
        "Face to face",
    ]  # fmt: skip
    web, phone = header.index("Online self-service") + 1, header.index("Telephone (agent)") + 1
    assert sheet.cell(2, 2).value == "Pay council tax"
    assert sheet.cell(2, 3).value == "Yes"
    assert sheet.cell(2, 4).value == "Partly"
    assert sheet.cell(2, web).value == 1000
    assert isinstance(sheet.cell(2, web).value, int)
    assert sheet.cell(2, phone).value == "Not recorded"  # the web form's words
    assert sheet.data_validations.dataValidation  # lists and figure checks on the cells
    assert book["About"].sheet_state == "hidden"
    assert "estimate" in " ".join(str(r[0].value) for r in book["Notes"].iter_rows())


def test_upload_previews_every_change_and_writes_nothing_until_confirmed(holder, response):
    before = figures(response)
    content = edited(download(holder), {"H2": "1250e", "E2": 40, "C3": "Yes", "D3": "No",
                                        "H3": 7})  # fmt: skip
    preview = upload(holder, content)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "Check the changes from your spreadsheet" in text
    assert "1,250 (estimate)" in text
    assert figures(response) == before
    saved = holder.post("/survey/spreadsheet/", {"action": "confirm"})
    assert saved.status_code == 303
    after = figures(response)
    assert after[("pay-council-tax", "WEB")] == (1250, False, True)
    assert after[("pay-council-tax", "F2F")] == (40, False, False)
    assert after[("council-tax-discount", "WEB")] == (7, False, False)
    record = ChangeRecord.objects.filter(key="pay-council-tax/WEB").latest("pk")
    assert record.changed_by == "Council link holder (spreadsheet upload)"
    assert holder.post("/survey/spreadsheet/", {"action": "confirm"}).status_code == 303
    assert figures(response) == after


def test_upload_errors_name_sheet_row_and_column(holder, response):
    before = figures(response)
    content = edited(download(holder), {"H2": "lots", "C4": "Maybe", "C5": "Yes", "H5": 3})
    page = upload(holder, content)
    text = page.content.decode()
    assert "The spreadsheet has 3 problems: nothing has been saved" in text
    assert "Enter the number of online self-service transactions as a whole number" in text
    assert "Choose &quot;Yes&quot;" in text
    assert "Enter &quot;Yes&quot;, &quot;Partly&quot; or &quot;No&quot;" in text
    assert ">2<" in text and ">H (Online self-service)<" in text
    assert figures(response) == before
    assert holder.post("/survey/spreadsheet/", {"action": "confirm"}).status_code == 303
    assert figures(response) == before


def macro_workbook(content: bytes) -> bytes:
    return rewritten(content, {}, {"xl/vbaProject.bin": b"\0" * 100})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c: b"\xd0\xcf\x11\xe0" + b"\0" * 600, "password-protected or in the old .xls"),
        (lambda c: b"name,value\nx,1\n", "must be an Excel workbook"),
        (lambda c: b"PK\x03\x04 broken", "not a valid Excel workbook"),
        (macro_workbook, "contains macros"),
        (lambda c: c + b"\0" * (3 * 1024 * 1024), "smaller than 2 MB"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(holder, response, make, message):
    before = figures(response)
    page = upload(holder, make(download(holder)))
    assert page.status_code == 400
    assert message in page.content.decode()
    assert figures(response) == before


def test_another_councils_spreadsheet_is_refused(holder, survey, response):
    from django.test import Client

    other = new_response(survey, make_authority("E06000002", official_name="Other Council"))
    other_client = Client()
    open_link(other_client, other)
    page = upload(holder, download(other_client))
    assert page.status_code == 400
    assert "This spreadsheet is for another council (E06000002)" in page.content.decode()


def test_upload_without_a_file_says_so(holder):
    page = holder.post("/survey/spreadsheet/", {"action": "upload"})
    assert page.status_code == 400
    assert "Select a spreadsheet to upload" in page.content.decode()


class CountingPayload(FakePayload):
    """A request body that counts how much of it the server reads."""

    bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def csrf_client(response):
    """A person's browser: CSRF checks enforced, as in production."""
    client = Client(enforce_csrf_checks=True)
    open_link_enforcing_csrf(client, response)
    page = client.get("/survey/spreadsheet/").content.decode()
    return client, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def open_link_enforcing_csrf(client, response):
    path = token_path(link_issue(response=response))
    landing = client.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', landing).group(1)
    assert client.post(path, {"csrfmiddlewaretoken": token}).status_code == 303


def upload_counting_reads(client, token: str, content: bytes) -> tuple:
    """Upload as a browser would; return the page and how much of the body was read."""
    body = encode_multipart(
        BOUNDARY,
        {
            "csrfmiddlewaretoken": token,
            "action": "upload",
            "spreadsheet": SimpleUploadedFile("figures.xlsx", content, XLSX),
        },
    )
    payload = CountingPayload(body)
    page = client.generic(
        "POST", "/survey/spreadsheet/", body, MULTIPART_CONTENT, **{"wsgi.input": payload}
    )
    return page, payload.bytes_read, len(body)


def test_an_oversized_upload_is_refused_before_its_body_is_read(holder, response, settings):
    before = figures(response)
    # A change previewed earlier and not yet confirmed is kept too.
    preview = upload(holder, edited(download(holder), {"H2": 1500}))
    assert "Check the changes from your spreadsheet" in preview.content.decode()
    client, token = csrf_client(response)
    oversized = b"\0" * (settings.SURVEY_UPLOAD_MAX_BYTES + 2**20)
    page, read, _ = upload_counting_reads(client, token, oversized)
    assert page.status_code == 400
    assert "The selected file must be smaller than 2 MB" in page.content.decode()
    assert read == 0
    assert figures(response) == before
    assert holder.post("/survey/spreadsheet/", {"action": "confirm"}).status_code == 303
    assert figures(response)[("pay-council-tax", "WEB")] == (1500, False, False)


def test_a_file_over_the_cap_stops_being_stored_where_it_passes_it(
    holder, response, settings, monkeypatch
):
    before = figures(response)
    stored = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):

        def storing(self, raw_data, start, keep=handler.receive_data_chunk):
            if getattr(self, "activated", True):  # memory passes a large file on to disk
                stored.append(len(raw_data))
            return keep(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", storing)
    client, token = csrf_client(response)
    cap = settings.SURVEY_UPLOAD_MAX_BYTES
    # Within the body's cap as declared, but the file itself is over the cap.
    page, _, _ = upload_counting_reads(client, token, b"\0" * (cap + 10_000))
    assert page.status_code == 400
    assert "The selected file must be smaller than 2 MB" in page.content.decode()
    assert 0 < sum(stored) <= cap
    assert figures(response) == before


def test_an_upload_within_the_cap_is_read_whole(holder, response):
    client, token = csrf_client(response)
    page, read, length = upload_counting_reads(
        client, token, edited(download(holder), {"H2": 1750})
    )
    assert page.status_code == 200
    assert "Check the changes from your spreadsheet" in page.content.decode()
    assert read == length


def test_an_upload_or_confirmation_without_the_csrf_token_is_refused(holder, response):
    content = edited(download(holder), {"B2": 999})
    guarded = Client(enforce_csrf_checks=True)
    guarded.cookies = holder.cookies  # the same session, without the form's token
    for data in (
        {"action": "upload", "spreadsheet": SimpleUploadedFile("figures.xlsx", content, XLSX)},
        {"action": "confirm"},
    ):
        refused = guarded.post("/survey/spreadsheet/", data)
        assert refused.status_code == 403, data["action"]
    assert figures(response)[("pay-council-tax", "WEB")][0] == 1000  # nothing changed


def rewritten(content: bytes, changes: dict, added: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some parts changed (part name -> function) and some added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            part = source.read(item)
            target.writestr(item.filename, changes.get(item.filename, lambda p: p)(part))
        for name, part in (added or {}).items():
            target.writestr(name, part)
    return buffer.getvalue()


def with_figures_xml(content: bytes, change) -> bytes:
    """The workbook with its Figures sheet's XML rewritten, as a hostile or broken file."""
    return rewritten(content, {"xl/worksheets/sheet1.xml": change})


def with_rows(content: bytes, rows: str, dimension: str | None = None) -> bytes:
    def change(xml: bytes) -> bytes:
        xml = xml.replace(b"</sheetData>", rows.encode() + b"</sheetData>")
        if dimension:
            xml = re.sub(rb'<dimension ref="[^"]+"', f'<dimension ref="{dimension}"'.encode(), xml)
        return xml

    return with_figures_xml(content, change)


@pytest.fixture
def reading(monkeypatch):
    """Count the rows and cells openpyxl parses from any sheet; fail fast past a bound."""
    from openpyxl.worksheet._reader import WorkSheetParser

    counts = {"rows": 0, "cells": 0}
    parse, parse_cell = WorkSheetParser.parse, WorkSheetParser.parse_cell

    def counting_parse(self):
        for row in parse(self):
            counts["rows"] += 1
            if counts["rows"] > 1000:
                pytest.fail("the upload parser read far past the template's rows")
            yield row

    def counting_cell(self, element):
        counts["cells"] += 1
        return parse_cell(self, element)

    monkeypatch.setattr(WorkSheetParser, "parse", counting_parse)
    monkeypatch.setattr(WorkSheetParser, "parse_cell", counting_cell)
    return counts


def template_bounds(response) -> tuple[int, int]:
    """The most rows and cells an upload may read: the template's, the margin, the About sheet."""
    from surveys.spreadsheets import ABOUT_KEYS, FIRST_CHANNEL_COLUMN, MARGIN

    questionnaire = response.survey.questionnaire
    rows = 1 + questionnaire.transactions.count()
    columns = FIRST_CHANNEL_COLUMN - 1 + questionnaire.channels.count()
    about_rows = len(ABOUT_KEYS)
    # Streaming stops at the first row past the bound, which is parsed to be recognised.
    most_rows = (rows + MARGIN + 1) + (about_rows + MARGIN + 1)
    most_cells = (rows + MARGIN + 1) * (columns + MARGIN) + (about_rows + MARGIN + 1) * 2
    return most_rows, most_cells


def upload_measured(client, content: bytes):
    tracemalloc.start()
    try:
        page = upload(client, content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return page, peak


PEAK_BYTES = 20 * 1024 * 1024


def test_a_sheet_claiming_100000_rows_is_read_only_as_far_as_the_template(
    holder, response, reading
):
    empty_rows = "".join(f'<row r="{n}"/>' for n in range(60_000, 100_000))
    content = with_rows(download(holder), empty_rows, dimension="A1:XFD100000")
    assert len(content) < 200_000  # tiny, yet it once drove a worker past 4 GiB
    before = figures(response)
    page, peak = upload_measured(holder, content)
    assert page.status_code == 200
    assert "The spreadsheet matches your saved answers" in page.content.decode()
    most_rows, most_cells = template_bounds(response)
    assert reading["rows"] <= most_rows
    assert reading["cells"] <= most_cells
    assert peak < PEAK_BYTES
    assert figures(response) == before


def numbered_rows(content: bytes, count: int) -> bytes:
    rows = (f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(24, 24 + count))
    return with_rows(content, "".join(rows))


def many_shared_strings(content: bytes) -> bytes:
    """600,000 shared strings, which openpyxl reads whole before any row (13 MB unpacked)."""
    strings = "".join(f"<si><t>{n}</t></si>" for n in range(600_000))
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    return rewritten(
        content,
        {"[Content_Types].xml": lambda types: types.replace(b"</Types>", override)},
        {"xl/sharedStrings.xml": f'<sst xmlns="{SHEET_NS}">{strings}</sst>'.encode()},
    )


SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OUTSIDE = (
    "The Figures sheet has entries outside the survey&#x27;s table: delete anything below "
    "row 23 or to the right of column N and upload the spreadsheet again"
)
UNPACKED = "The workbook is too large once unpacked"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c: numbered_rows(c, 200_000), UNPACKED),  # 1.5 MB, once a 69 MB page
        (lambda c: numbered_rows(c, 15_000), OUTSIDE),  # small enough to be read: as far as row 24
        (many_shared_strings, UNPACKED),
    ],
    ids=["200,000 numbered rows", "15,000 numbered rows", "600,000 shared strings"],
)
def test_hostile_files_are_refused_with_one_message_at_bounded_cost(
    holder, response, reading, make, message
):
    content = make(download(holder))
    assert len(content) < 2 * 1024 * 1024  # all within the upload cap
    before = figures(response)
    page, peak = upload_measured(holder, content)
    assert page.status_code == 400
    text = page.content.decode()
    assert message in text
    assert "upload-errors" not in text  # one message, not a problem per row
    assert len(page.content) < 100_000
    most_rows, most_cells = template_bounds(response)
    assert reading["rows"] <= most_rows
    assert reading["cells"] <= most_cells
    assert peak < PEAK_BYTES
    assert figures(response) == before


@pytest.mark.parametrize("cell", ["O2", "B24"])
def test_an_entry_just_outside_the_table_is_refused(holder, response, cell):
    page = upload(holder, edited(download(holder), {cell: "a note", "H2": 1500}))
    assert page.status_code == 400
    assert "entries outside the survey&#x27;s table" in page.content.decode()
    assert holder.post("/survey/spreadsheet/", {"action": "confirm"}).status_code == 303
    assert figures(response)[("pay-council-tax", "WEB")] == (1000, False, False)


def with_a_problem_in_every_cell(content: bytes) -> bytes:
    """Every transaction provided, with a wrong end to end answer and ten wrong figures."""
    cells = {f"{column}{row}": "lots" for row in range(2, 24) for column in "EFGHIJKLMN"}
    cells.update({f"C{row}": "Yes" for row in range(2, 24)})
    cells.update({f"D{row}": "?" for row in range(2, 24)})
    return edited(content, cells)


def test_only_the_first_50_problems_are_listed(holder, response):
    page = upload(holder, with_a_problem_in_every_cell(download(holder)))
    text = page.content.decode()
    problems = 22 * 11  # ten figures and end to end online on each row
    assert f"The spreadsheet has {problems} problems: nothing has been saved" in text
    table = text.split('id="upload-errors"')[1].split("</table>")[0]
    assert table.count('<tr class="govuk-table__row">') == 1 + 50
    assert f"And {problems - 50} more problems." in text


SENTINEL = 987654321


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("H2", b"NaN", "The file could not be read: save it again as .xlsx"),
        ("H2", b"inf", "The file could not be read: save it again as .xlsx"),
        ("A2", b"NaN", "The file could not be read: save it again as .xlsx"),
        ("A2", b"1e999", "Do not change or repeat the transaction numbers"),
        ("H2", b"1e999", "The number of online self-service transactions must be a whole number"),
        ("H2", b"-1e999", "The number of online self-service transactions must be a whole number"),
    ],
)
def test_nan_and_infinite_numbers_are_explained_not_a_500(holder, response, where, value, message):
    before = figures(response)
    sentinel = edited(download(holder), {where: SENTINEL})
    content = with_figures_xml(
        sentinel, lambda xml: xml.replace(f"<v>{SENTINEL}</v>".encode(), b"<v>" + value + b"</v>")
    )
    page = upload(holder, content)
    assert page.status_code in (200, 400)
    assert message in page.content.decode()
    assert "Check the changes from your spreadsheet" not in page.content.decode()
    assert figures(response) == before


@pytest.mark.parametrize(
    "cut",
    [lambda xml: xml[: len(xml) // 2], lambda xml: xml[:60], lambda xml: b"PK\x03\x04" + xml],
    ids=["in its rows", "before its dimension", "not XML"],
)
def test_a_truncated_sheet_is_refused_like_a_broken_file(holder, response, cut):
    before = figures(response)
    content = with_figures_xml(download(holder), cut)
    page = upload(holder, content)
    assert page.status_code == 400
    assert "The file could not be read: save it again as .xlsx" in page.content.decode()
    assert figures(response) == before


def test_the_preview_names_the_figures_an_upload_would_flag_for_checking(holder, response):
    quiet = upload(holder, edited(download(holder), {"H2": 1200}))
    assert 'id="upload-to-confirm"' not in quiet.content.decode()
    preview = upload(holder, edited(download(holder), {"H2": 1_000_000, "E2": 50}))
    page = preview.content.decode()
    assert "Check the changes from your spreadsheet" in page
    flagged = page.split('id="upload-to-confirm"', 1)[1].split("</ul>", 1)[0]
    assert "Pay council tax: Online self-service: 1,000,000 is more than 100 times" in flagged
    assert "Council tax discount" not in flagged


def test_the_spreadsheet_uses_the_web_forms_words_for_estimates(holder, response):
    # The page's own state: without it, changing a saved figure is shown as a clash.
    state = re.search(r'name="state" value="([^"]*)"', holder.get(PAY).content.decode())
    holder.post(
        PAY,
        {"provision": "yes", "channels": ["WEB", "PHONE"], "end_to_end": "partly",
         "figure_WEB": "1,000", "estimate_WEB": "on", "not_recorded_PHONE": "on",
         "state": state.group(1)},
    )  # fmt: skip
    sheet = load_workbook(io.BytesIO(download(holder)))["Figures"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("Online self-service") + 1).value == "1000 (estimate)"
    notes = " ".join(
        str(c.value) for c in load_workbook(io.BytesIO(download(holder)))["Notes"]["A"]
    )
    assert '"Not recorded"' in notes and "(estimate)" in notes
    for typed, number in (("1250 estimate", 1250), ("1,300 (Estimate)", 1300), ("1400e", 1400)):
        preview = upload(holder, edited(download(holder), {"H2": typed}))
        assert "Check the changes from your spreadsheet" in preview.content.decode(), typed
        holder.post("/survey/spreadsheet/", {"action": "confirm"})
        assert figures(response)[("pay-council-tax", "WEB")] == (number, False, True), typed


def test_the_spreadsheet_offers_the_web_forms_words_and_reads_the_old_ones(holder, response):
    """Issue 12.18: the same words for the same answer in the workbook and on the page."""
    from surveys.choices import Provision
    from surveys.models import TransactionAnswer

    content = download(holder)
    listed = " ".join(v.formula1 for v in load_workbook(io.BytesIO(content))["Figures"]
                      .data_validations.dataValidation)  # fmt: skip
    for _code, words in Provision.choices:
        assert words in listed
        assert words in holder.get(PAY).content.decode()
    # A spreadsheet downloaded before the words changed still uploads.
    preview = upload(holder, edited(content, {"C3": "Another organisation provides it"}))
    assert "Check the changes from your spreadsheet" in preview.content.decode()
    assert holder.post("/survey/spreadsheet/", {"action": "confirm"}).status_code == 303
    answer = TransactionAnswer.objects.get(
        response=response, transaction__slug="council-tax-discount"
    )
    assert answer.provision == Provision.OTHER_ORGANISATION
