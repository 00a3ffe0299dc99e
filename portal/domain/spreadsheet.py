"""CSV files that Excel on Dutch Windows opens as they are, and cannot run as formulas."""

import csv
import io
from collections.abc import Iterable

# Spreadsheet programs read a cell that starts with one of these characters as a formula,
# or drop the character and read the rest as one, so a name like =HYPERLINK(...) could run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """Return ``value`` as text, prefixed with a single quote when it could start a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_bytes(header: Iterable, rows: Iterable[Iterable]) -> bytes:
    """Return a semicolon-separated CSV file in UTF-8 with a byte order mark.

    Excel with Dutch regional settings expects ";" between fields, because "," is the
    decimal separator, and reads the file as UTF-8 only when it starts with the BOM.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
