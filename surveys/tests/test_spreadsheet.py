"""The spreadsheet round trip: download prefilled, upload validated, preview, confirm."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from surveys.models import ChangeRecord, Figure

from .factories import make_authority, new_response, open_link

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
    assert sheet.cell(2, phone).value == "not recorded"
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
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\0" * 100)
    return buffer.getvalue()


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
