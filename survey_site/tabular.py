"""Reading a table from CSV or XLSX, telling them apart by content, not file name."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from openpyxl import load_workbook

XLSX_MAGIC = b"PK\x03\x04"
MAX_ZIP_ENTRIES = 200
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100


class TableError(ValueError):
    """The file cannot be read as a table; the message says why, for the person."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, Mapping[str, str]]]  # (row number as the person sees it, cells)


def check_xlsx_container(data: bytes, *, max_unpacked: int = MAX_UNCOMPRESSED_BYTES) -> None:
    """Refuse zip bombs, macro-enabled and encrypted workbooks before openpyxl sees them.

    ``max_unpacked`` bounds the parts' declared sizes, which zipfile enforces as it reads.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TableError("The file is not a valid Excel workbook (.xlsx)") from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise TableError("The workbook has too many parts to be a survey sheet")
    total = sum(e.file_size for e in entries)
    compressed = sum(e.compress_size for e in entries) or 1
    if total > max_unpacked or total / compressed > MAX_COMPRESSION_RATIO:
        raise TableError("The workbook is too large once unpacked")
    names = {e.filename for e in entries}
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise TableError("The workbook contains macros: save it as a plain .xlsx and try again")
    if "[Content_Types].xml" not in names:
        raise TableError("The file is not a valid Excel workbook (.xlsx)")
    content_types = archive.read("[Content_Types].xml")
    if b"macroEnabled" in content_types:
        raise TableError("The workbook contains macros: save it as a plain .xlsx and try again")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(data: bytes) -> Table:
    """Read the first sheet of an XLSX file, or a UTF-8 CSV file, into a header and rows."""
    if data.startswith(XLSX_MAGIC):
        check_xlsx_container(data)
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many types for damaged files
            raise TableError("The workbook could not be read: save it again as .xlsx") from error
        sheet = workbook.worksheets[0]
        rows_iter: Iterator = sheet.iter_rows(values_only=True)
        header = [_cell_text(v).strip() for v in next(rows_iter, ())]
        rows = []
        for number, values in enumerate(rows_iter, start=2):
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                rows.append((number, dict(zip(header, cells, strict=False))))
        workbook.close()
        return Table(header, rows)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError("The file is an old Excel format (.xls) or is password-protected")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("The file is neither an .xlsx workbook nor a UTF-8 CSV file") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    rows = []
    for number, values in enumerate(reader, start=2):
        if any(v.strip() for v in values):
            rows.append((number, dict(zip(header, values, strict=False))))
    return Table(header, rows)
