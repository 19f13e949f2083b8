"""The spreadsheet round trip: download prefilled, upload validated, preview, confirm."""

import io
import re
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
    holder.post(
        PAY,
        {"provision": "yes", "channels": ["WEB", "PHONE"], "end_to_end": "partly",
         "figure_WEB": "1,000", "estimate_WEB": "on", "not_recorded_PHONE": "on"},
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
