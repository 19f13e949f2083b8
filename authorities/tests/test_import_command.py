"""import_authorities: idempotent, validated row by row, all or nothing, with a dry run."""

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from authorities.models import Authority

from .conftest import REFERENCE_CSV

CONTACT_HEADER = ["gss_code", "chief_executive_name", "chief_executive_email"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_authorities", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path, *args: str) -> str:
    err = StringIO()
    with pytest.raises(CommandError, match=r"nothing was imported|not a valid|neither"):
        call_command("import_authorities", path, *args, stdout=StringIO(), stderr=err)
    return err.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Authority.objects.order_by("pk").values_list(
            "pk", "gss_code", "official_name", "chief_executive_email", "updated_at"
        )
    )


def test_import_twice_changes_nothing_the_second_time(councils):
    before = snapshot()
    out, _ = run(REFERENCE_CSV)
    assert "0 created, 0 updated, 365 unchanged" in out
    assert snapshot() == before


def test_dry_run_lists_changes_and_writes_nothing(councils, tmp_path):
    path = write_csv(
        tmp_path / "contacts.csv",
        CONTACT_HEADER,
        [["E06000001", "Pat Example", "Pat.Example@Hartlepool.gov.uk"]],
    )
    before = snapshot()
    out, _ = run(path, "--dry-run")
    assert "Would update E06000001 (row 2)" in out
    assert "chief_executive_email: '' -> 'pat.example@hartlepool.gov.uk'" in out
    assert "Dry run: 0 to create, 1 to update, 0 unchanged" in out
    assert snapshot() == before


def test_contacts_import_updates_only_the_named_columns(councils, tmp_path):
    path = write_csv(
        tmp_path / "contacts.csv",
        CONTACT_HEADER,
        [
            ["E06000001", "Pat Example", " pat@hartlepool.gov.uk "],
            ["e06000002", "Sam  Sample", "sam@middlesbrough.gov.uk"],
        ],
    )
    run(path)
    hartlepool = Authority.objects.get(gss_code="E06000001")
    assert hartlepool.chief_executive_email == "pat@hartlepool.gov.uk"
    assert hartlepool.official_name == "Hartlepool Borough Council"
    assert Authority.objects.get(gss_code="E06000002").chief_executive_name == "Sam Sample"
    out, _ = run(path)
    assert "0 created, 0 updated, 2 unchanged" in out


def test_contacts_import_reads_xlsx(councils, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CONTACT_HEADER)
    sheet.append(["E06000003", "Alex Person", "alex@redcar-cleveland.gov.uk"])
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    run(path)
    assert (
        Authority.objects.get(gss_code="E06000003").chief_executive_email
        == "alex@redcar-cleveland.gov.uk"
    )


def test_a_council_matched_by_former_gss_code_is_updated(councils, tmp_path):
    path = write_csv(
        tmp_path / "contacts.csv",
        CONTACT_HEADER,
        [["E07000097", "Old Code", "ce@eastherts.gov.uk"]],
    )
    run(path)
    assert Authority.objects.get(gss_code="E07000242").chief_executive_name == "Old Code"


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (CONTACT_HEADER, ["E06000001", "A", "not-an-email"], "Row 3, chief_executive_email"),
        (CONTACT_HEADER, ["E6000001", "A", "a@b.gov.uk"], "Row 3, gss_code: Enter a GSS code"),
        (CONTACT_HEADER, ["E06000002", "A", "a@b.gov.uk"], "Row 3, gss_code: E06000002 is also"),
        (
            ["gss_code", "authority_type"],
            ["E06000001", "Parish council"],
            "Row 3, authority_type: Unknown authority type 'Parish council'",
        ),
        (
            ["gss_code", "region"],
            ["E06000001", "Wessex"],
            "Row 3, region: Unknown region 'Wessex'",
        ),
        (
            ["gss_code", "official_name"],
            ["E06999999", "New Council"],
            "Row 3, local_authority_code: Enter the three-letter code",
        ),
        (
            ["gss_code", "chief_executive_emial"],
            ["E06000001", "a@b.gov.uk"],
            "Row 1, chief_executive_emial: Unknown column",
        ),
        (
            ["gss_code", "start_date"],
            ["E06000001", "01/04/2019"],
            "Row 3, start_date: Enter a date as YYYY-MM-DD",
        ),
        (
            ["gss_code", "switchboard_phone"],
            ["E06000001", "ring the town hall"],
            "Row 3, switchboard_phone: Enter a UK telephone number, like 01632 960 001",
        ),
        (
            ["gss_code", "switchboard_phone"],
            ["E06000001", "+1 212 555 0100"],
            "Row 3, switchboard_phone: Enter a UK telephone number",
        ),
    ],
)
def test_a_bad_row_is_reported_with_its_number_and_nothing_is_written(
    councils, tmp_path, header, row, expected
):
    good = ["E06000002"] + [""] * (len(header) - 1)
    if header == CONTACT_HEADER:
        good = ["E06000002", "Good Person", "good@middlesbrough.gov.uk"]
    path = write_csv(tmp_path / "bad.csv", header, [good, row])
    before = snapshot()
    err = run_failing(path)
    assert expected in err
    assert snapshot() == before


def test_switchboard_numbers_are_an_optional_column(councils, tmp_path):
    path = write_csv(
        tmp_path / "phones.csv",
        [*CONTACT_HEADER, "switchboard_phone"],
        [
            ["E06000001", "Pat Example", "pat@hartlepool.gov.uk", " 01632  960 001 "],
            ["E06000002", "Sam Sample", "sam@middlesbrough.gov.uk", "+44 (0)1632 960002"],
            ["E06000003", "Alex Person", "alex@redcar-cleveland.gov.uk", ""],
        ],
    )
    run(path)
    phones = dict(Authority.objects.values_list("gss_code", "switchboard_phone"))
    assert phones["E06000001"] == "01632 960 001"
    assert phones["E06000002"] == "+44 (0)1632 960002"
    assert phones["E06000003"] == ""
    out, _ = run(path)
    assert "0 created, 0 updated, 3 unchanged" in out
    # A contacts file without the column leaves the numbers alone.
    contacts = write_csv(
        tmp_path / "contacts.csv", CONTACT_HEADER, [["E06000001", "Pat", "p@x.uk"]]
    )
    run(contacts)
    assert Authority.objects.get(gss_code="E06000001").switchboard_phone == "01632 960 001"


def test_new_council_needs_type_region_and_name(db, tmp_path):
    path = write_csv(
        tmp_path / "new.csv",
        ["gss_code", "local_authority_code", "official_name", "authority_type", "region"],
        [["E06000999", "NEW", "New Unitary Council", "Unitary authority", "South West"]],
    )
    run(path)
    council = Authority.objects.get(gss_code="E06000999")
    assert (council.short_name, council.kind, council.region) == (
        "New Unitary Council",
        "unitary",
        "south_west",
    )


def test_a_district_cannot_name_a_non_county_as_its_county(councils, tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["gss_code", "county_la"], [["E07000242", "HPL"]])
    assert "HPL is not a county council" in run_failing(path)


def test_a_file_that_is_not_a_table_is_refused(db, tmp_path):
    path = tmp_path / "picture.csv"
    path.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(CommandError, match=r"neither an \.xlsx workbook nor a UTF-8 CSV"):
        call_command("import_authorities", path, stdout=StringIO())


def test_a_macro_enabled_workbook_is_refused(db, tmp_path):
    import zipfile

    path = tmp_path / "macro.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/vbaProject.bin", b"\x00" * 10)
    with pytest.raises(CommandError, match="contains macros"):
        call_command("import_authorities", path, stdout=StringIO())
