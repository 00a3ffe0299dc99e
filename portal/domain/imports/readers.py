"""Read an uploaded CSV or XLSX file into a header and rows of stripped text cells.

CSV files come from Excel on Dutch Windows (semicolons, Windows-1252) as often as from
other tools (commas, UTF-8 with or without BOM), so both are detected. XLSX cells are
turned into the same text form as CSV cells, so one validation path serves both.
"""

import csv
import io
import logging
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime
from xml.etree.ElementTree import ParseError

from flask_babel import gettext as _

from .errors import FileRejected

UTF8_BOM = b"\xef\xbb\xbf"
ZIP_MAGIC = b"PK\x03\x04"
# Compound File Binary: the container of Excel 97-2003 .xls files.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_MAGIC = b"%PDF"
DELIMITERS = (";", ",")

# Exceptions openpyxl 3.1 raises on a damaged workbook: a bad zip member, a cut-off or
# malformed XML part, a bad cell reference or row number, a shared-string index out of
# range, or text in a number or date cell. Expat (2.4 and later) raises ParseError on an
# undefined entity and on an entity expansion bomb.
UNREADABLE_WORKBOOK = (
    zipfile.BadZipFile,
    zlib.error,
    ParseError,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
)

# Limits checked from the zip directory before openpyxl parses a workbook. A sheet of
# 10,000 respondents and 100 answer columns, as openpyxl 3.1 writes it, unpacks to 35 MB
# of XML (2.9 MB zipped), so 100 MB leaves about three times that. openpyxl holds the
# shared strings and each cell's text in memory whole.
XLSX_MAX_UNCOMPRESSED_BYTES = 100_000_000
# Sheets of survey answers packed 11 to 16 times in that measurement, also with every
# answer the same. One letter repeated packs about 1000 times, as in a decompression bomb.
XLSX_MAX_COMPRESSION_RATIO = 100
# Small parts such as styles are not held to the ratio: they cost little memory.
XLSX_RATIO_MIN_BYTES = 1_000_000
# openpyxl's read-only mode yields an empty row for every row number that a sheet skips,
# so a row numbered 1048576 costs a million rows. No survey sheet has such a gap.
XLSX_MAX_EMPTY_ROWS = 10_000

logger = logging.getLogger(__name__)


def detect_kind(data: bytes, filename: str) -> str:
    """Return "csv" or "xlsx" from the file's content and name; reject anything else."""
    name = filename.lower()
    if data.startswith(OLE2_MAGIC) or name.endswith(".xls"):
        raise FileRejected(
            _(
                "Dit is een oud Excel-bestand (.xls). Open het in Excel en sla het op als Excel-werkmap (.xlsx) of als CSV."
            )
        )
    if data.startswith(PDF_MAGIC):
        raise FileRejected(
            _(
                "Dit is een PDF-bestand, geen bestand met gegevens. Kies het CSV- of XLSX-bestand met de antwoorden."
            )
        )
    if name.endswith(".xlsx"):
        if not data.startswith(ZIP_MAGIC):
            raise FileRejected(
                _(
                    "Het bestand heet .xlsx, maar is geen geldige Excel-werkmap. Open het in Excel en sla het opnieuw op als .xlsx of als CSV."
                )
            )
        return "xlsx"
    if data.startswith(ZIP_MAGIC):
        raise FileRejected(
            _(
                "Het bestand is een gecomprimeerd bestand (ZIP), geen CSV. Geef een Excel-werkmap de naam .xlsx, of kies het CSV-bestand."
            )
        )
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise FileRejected(
        _(
            "Kies een CSV-bestand (.csv) of een Excel-werkmap (.xlsx). Andere bestanden worden niet ingelezen."
        )
    )


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM) first, then Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejected(
            _(
                "Het bestand is opgeslagen als Unicode-tekst (UTF-16). Sla het in Excel op als 'CSV (gescheiden door lijstscheidingsteken)' of als 'CSV UTF-8'."
            )
        )
    if b"\x00" in data:
        raise FileRejected(
            _(
                "Het bestand bevat binaire gegevens en is geen CSV-tekstbestand. Kies het CSV- of XLSX-bestand met de antwoorden."
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if data.startswith(UTF8_BOM):
            # A BOM promises UTF-8, so Windows-1252 bytes after it mean the file was
            # assembled from two sources; guessing would corrupt group names.
            line = data.count(b"\n", 0, error.start) + 1
            raise FileRejected(
                _(
                    "Het bestand begint als UTF-8, maar regel %(line)s bevat tekens die geen UTF-8 zijn. Sla het bestand opnieuw op als 'CSV UTF-8'.",
                    line=line,
                )
            ) from error
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileRejected(
            _(
                "Regel %(line)s bevat ongeldige tekens (byte %(byte)s): het bestand is geen UTF-8 en geen Windows-1252. Sla het opnieuw op als 'CSV UTF-8'.",
                line=line,
                byte=f"0x{data[error.start]:02X}",
            )
        ) from error


def detect_delimiter(header_line: str) -> str:
    """Return ";" or "," by counting them on the header line; column names contain neither."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    if counts[best] == 0:
        if "\t" in header_line:
            raise FileRejected(
                _(
                    "De kolommen zijn gescheiden door tabs. Het portaal leest CSV met een puntkomma (;) of komma (,) als scheidingsteken: sla het bestand op als CSV."
                )
            )
        raise FileRejected(
            _(
                "In de eerste regel staat geen puntkomma (;) of komma (,) tussen de kolomnamen. Controleer of het bestand een CSV-bestand met kolomkoppen is."
            )
        )
    return best


FIELD_TOO_LONG = "field_too_long"
UNCLOSED_QUOTE = "unclosed_quote"
CSV_SYNTAX = "syntax"


def csv_error_reason(error: csv.Error) -> str:
    """Return FIELD_TOO_LONG, UNCLOSED_QUOTE or CSV_SYNTAX for an error of the csv module.

    The csv module has one exception class, so its message text (as CPython 3.11 to 3.13
    write it) tells the reasons apart.
    """
    text = str(error)
    if text.startswith("field larger than field limit"):
        return FIELD_TOO_LONG
    if text == "unexpected end of data":
        return UNCLOSED_QUOTE
    return CSV_SYNTAX


def _csv_problem(error: csv.Error, line: int) -> FileRejected:
    """Return the Dutch rejection of a CSV error in the record that starts on ``line``."""
    reason = csv_error_reason(error)
    if reason == FIELD_TOO_LONG:
        return FileRejected(
            _(
                'Regel %(line)s bevat een cel van meer dan %(limit)s tekens. Meestal is een aanhalingsteken (") in die regel niet afgesloten: controleer de aanhalingstekens.',
                line=line,
                limit=csv.field_size_limit(),
            )
        )
    if reason == UNCLOSED_QUOTE:
        return FileRejected(
            _(
                'Het bestand eindigt binnen een cel: een aanhalingsteken (") in regel %(line)s is niet afgesloten. Sluit het af of verwijder het.',
                line=line,
            )
        )
    return FileRejected(
        _(
            'Regel %(line)s is geen geldige CSV-regel. Controleer de aanhalingstekens in die regel: na een afsluitend aanhalingsteken (") hoort een scheidingsteken.',
            line=line,
        )
    )


def read_csv(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Return the header and an iterator of (line number, cells) of a CSV file."""
    text = decode_text(data)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not text.strip():
        raise FileRejected(_("Het bestand is leeg. Kies het bestand met de antwoorden."))
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error as error:
        raise _csv_problem(error, 1) from error

    def rows():
        # A quoted cell can span lines, so a record starts on the line after the last one.
        start = reader.line_num + 1
        try:
            for cells in reader:
                yield reader.line_num, cells
                start = reader.line_num + 1
        except csv.Error as error:
            raise _csv_problem(error, start) from error

    return header, rows()


def _cell_text(value) -> str:
    """Write an XLSX cell value as the text a CSV export would contain."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unreadable_workbook(after_row: int | None = None) -> FileRejected:
    """Return the rejection of a workbook that openpyxl cannot parse."""
    if after_row:
        return FileRejected(
            _(
                "Het bestand is geen geldige Excel-werkmap (.xlsx): het werkblad kan na rij %(row)s niet worden gelezen. Open het in Excel en sla het opnieuw op als .xlsx, of exporteer het als CSV.",
                row=after_row,
            )
        )
    return FileRejected(
        _(
            "Het bestand is geen geldige Excel-werkmap (.xlsx). Open het in Excel en sla het opnieuw op als .xlsx, of exporteer het als CSV."
        )
    )


def check_xlsx_sizes(data: bytes) -> None:
    """Reject a workbook that unpacks to more than the limits, before anything is parsed.

    The sizes are the ones in the zip's central directory. zipfile (CPython 3.11) cuts a
    member's output at that declared file_size in ZipExtFile, and a member whose data
    does not match its CRC raises BadZipFile, so a header that understates a size cannot
    get more bytes out than it declares.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except UNREADABLE_WORKBOOK as error:
        logger.info("xlsx rejected while reading the zip directory: %s", type(error).__name__)
        raise _unreadable_workbook() from error
    total = sum(member.file_size for member in members)
    if total > XLSX_MAX_UNCOMPRESSED_BYTES:
        logger.info("xlsx rejected: unpacks to %d bytes", total)
        raise FileRejected(
            _(
                "De Excel-werkmap is uitgepakt %(size)s MB groot. Het portaal leest werkmappen tot %(max)s MB. Verwijder overbodige werkbladen en kolommen, of sla het werkblad op als CSV en lees dat bestand in.",
                size=total // 1_000_000,
                max=XLSX_MAX_UNCOMPRESSED_BYTES // 1_000_000,
            )
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > XLSX_RATIO_MIN_BYTES and ratio > XLSX_MAX_COMPRESSION_RATIO:
            logger.info(
                "xlsx rejected: member %r packed %d times", member.filename[:80], int(ratio)
            )
            raise FileRejected(
                _(
                    "De Excel-werkmap is veel sterker gecomprimeerd dan een werkmap met antwoorden kan zijn, en wordt daarom niet geopend. Open het bestand in Excel, controleer de inhoud en sla het werkblad op als CSV."
                )
            )


def read_xlsx(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Return the header and (row number, cells) of the first sheet of an XLSX workbook.

    A formula cell without a stored value (a workbook written by a program that never
    calculated it) is rejected, because its value is unknown. Rows are padded with empty
    cells to the width of the header, because a sheet stores no cells after the last
    filled one of a row.
    """
    from openpyxl import load_workbook

    check_xlsx_sizes(data)
    try:
        values_book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas_book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        if not values_book.worksheets:
            raise FileRejected(_("De Excel-werkmap bevat geen werkblad."))
        values_sheet = values_book.worksheets[0]
        formulas_sheet = formulas_book.worksheets[0]
    except UNREADABLE_WORKBOOK as error:
        logger.info("xlsx rejected while opening: %s", type(error).__name__)
        raise _unreadable_workbook() from error
    # In read-only mode openpyxl stops at the <dimension> element of the sheet, which a
    # program may have written too small; without it every stored row is read.
    values_sheet.reset_dimensions()
    formulas_sheet.reset_dimensions()

    def all_rows():
        pairs = zip(
            values_sheet.iter_rows(values_only=True),
            formulas_sheet.iter_rows(values_only=True),
            strict=False,
        )
        number = 0
        last_filled = 0
        try:
            # openpyxl parses the sheet while it is iterated, so a broken cell, row or XML
            # part raises here and not in load_workbook.
            for number, (values, formulas) in enumerate(pairs, start=1):
                _check_formulas(number, values, formulas)
                cells = [_cell_text(value) for value in values]
                if any(cells):
                    last_filled = number
                elif number - last_filled > XLSX_MAX_EMPTY_ROWS:
                    raise _too_many_empty_rows(last_filled)
                yield number, cells
        except UNREADABLE_WORKBOOK as error:
            logger.info("xlsx rejected after row %d: %s", number, type(error).__name__)
            raise _unreadable_workbook(number) from error
        finally:
            values_book.close()
            formulas_book.close()

    rows = all_rows()
    first = next(rows, None)
    if first is None:
        raise FileRejected(_("Het eerste werkblad van de Excel-werkmap is leeg."))
    header = first[1]
    while header and header[-1] == "":
        header.pop()
    if not header:
        rows.close()
        raise FileRejected(_("Het eerste werkblad van de Excel-werkmap is leeg."))
    width = len(header)

    def padded_rows():
        for number, cells in rows:
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            yield number, cells

    return header, padded_rows()


def _too_many_empty_rows(last_filled: int) -> FileRejected:
    logger.info("xlsx rejected: over %d empty rows after row %d", XLSX_MAX_EMPTY_ROWS, last_filled)
    return FileRejected(
        _(
            "Het werkblad heeft na rij %(row)s meer dan %(max)s lege rijen achter elkaar. Het portaal leest het bestand daarom niet. Verwijder in Excel de rijen onder de laatste respondent, of sla het werkblad op als CSV.",
            row=last_filled,
            max=XLSX_MAX_EMPTY_ROWS,
        )
    )


def _check_formulas(number: int, values: tuple, formulas: tuple) -> None:
    """Reject a row with a formula cell whose result the workbook does not store."""
    for column, (value, formula) in enumerate(zip(values, formulas, strict=False), 1):
        if value is None and isinstance(formula, str) and formula.startswith("="):
            raise FileRejected(
                _(
                    "Cel %(cell)s bevat een formule zonder opgeslagen uitkomst (%(formula)s). Open de werkmap in Excel, laat de formules berekenen en sla haar opnieuw op.",
                    cell=f"{_column_letter(column)}{number}",
                    formula=formula,
                )
            )


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def file_kind(data: bytes, filename: str) -> str:
    """Return "csv" or "xlsx" for an upload; reject an empty file or another file type."""
    if not data:
        raise FileRejected(_("Het bestand is leeg. Kies het bestand met de antwoorden."))
    return detect_kind(data, filename)


def read_table(
    data: bytes, filename: str
) -> tuple[str, list[str], Iterator[tuple[int, list[str]]]]:
    """Return the kind ("csv" or "xlsx"), the header and the rows of an uploaded file."""
    kind = file_kind(data, filename)
    header, rows = read_xlsx(data) if kind == "xlsx" else read_csv(data)
    return kind, header, rows
