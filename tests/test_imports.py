"""Import of survey results: malformed files are rejected whole, good files replace data."""

import hashlib
import io
import json
import logging
import re
import zipfile
from datetime import date, timedelta

import pytest
from openpyxl import Workbook

from portal.domain.report import build_report
from portal.models import AuditEvent, Respondent, School, SchoolYear, SurveyImport, User, db

from .conftest import HTMX, school_id

ITEMS = ("A1", "A2", "A3", "A4", "V1", "V2", "V3", "V4", "W1", "W2", "W3", "W4", "X1")
HEADER = ["brin", "vestiging", "schooljaar", "respondent", "groep", "datum", *ITEMS]
PROZO_ITEMS = {
    "VB01": "V1", "VB02": "V2", "VB03": "V3", "VB04": "V4", "WB01": "W1", "WB02": "W2",
    "WB03": "W3", "WB04": "W4", "PE01": "A1", "PE02": "A2", "PE03": "A3", "PE04": "A4",
    "AL01": "X1",
}  # fmt: skip
PROZO_HEADER = ["Brinvest", "Respondentnummer", "Leerjaar", "Afnamedatum", *PROZO_ITEMS]


def own_rows(count: int = 12, brin: str = "15KU", vestiging: str = "00", year="2017-2018"):
    """Return rows of the own format: answers 1..4 in a fixed pattern, dates in the window."""
    rows = []
    for number in range(1, count + 1):
        answers = [str((number + position) % 4 + 1) for position in range(len(ITEMS))]
        rows.append(
            [brin, vestiging, year, str(number), f"groep {6 + number % 3}", "15-01-2018", *answers]
        )
    return rows


def csv_bytes(rows, header=HEADER, delimiter=";", encoding="utf-8", newline="\r\n") -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    return (newline.join(lines) + newline).encode(encoding)


def xlsx_bytes(rows, header=HEADER, sheet_empty=False) -> bytes:
    book = Workbook()
    sheet = book.active
    if not sheet_empty:
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot(app, code="15KU00"):
    """Return the count and a checksum of the school's respondents."""
    with app.app_context(), db.connection_context():
        school = School.get((School.brin == code[:4]) & (School.vestiging == code[4:]))
        rows = list(
            Respondent.select(
                Respondent.school_year,
                Respondent.group,
                Respondent.taken_on,
                Respondent.answers_json,
            )
            .where(Respondent.school == school)
            .order_by(Respondent.id)
            .tuples()
        )
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    return len(rows), digest


def post_file(client, school, data, filename="antwoorden.csv", year="2017-2018", fmt="msv",
              instrument="msv", headers=None):  # fmt: skip
    return client.post(
        f"/scholen/{school}/importeren",
        data={
            "schooljaar": year,
            "instrument": instrument,
            "formaat": fmt,
            "bestand": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
        headers=headers or {},
    )


@pytest.fixture
def staff(client, auth, app):
    auth.login("school@demo.test")
    return school_id(app, "15KU00")


def test_import_own_csv_replaces_respondents(client, app, staff):
    response = post_file(client, staff, csv_bytes(own_rows(12)))
    assert response.status_code == 303, response.text
    assert snapshot(app)[0] > 12
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        assert (
            Respondent.select()
            .where((Respondent.school == staff) & (Respondent.school_year == year))
            .count()
            == 12
        )


def with_cell(rows, column: str, value: str, index: int = 0):
    """Return a copy of rows with one cell changed."""
    rows = [list(row) for row in rows]
    rows[index][HEADER.index(column)] = value
    return rows


def formula_xlsx(stored_values: bool) -> bytes:
    """Return an XLSX whose V1 answers are formulas, with or without their stored result."""
    rows = [row[:] for row in own_rows()]
    position = HEADER.index("V1")
    for row in rows:
        row[position] = "=1+2"
    data = xlsx_bytes([[int(c) if c.isdigit() else c for c in row] for row in rows])
    if not stored_values:
        return data
    # openpyxl never calculates formulas, so the stored results are written in as Excel would.
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<f>1+2</f><v />", b"<f>1+2</f><v>3</v>")
            target.writestr(entry, content)
    return target_buffer.getvalue()


def numeric_rows(rows):
    """Return rows with digit-only cells as numbers, as Excel stores typed numbers."""
    return [[int(cell) if cell.isdigit() else cell for cell in row] for row in rows]


def rewritten_xlsx(change, rows=None) -> bytes:
    """Return a good workbook whose first sheet's XML text was passed through ``change``."""
    data = xlsx_bytes(numeric_rows(rows or own_rows()))
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(entry.filename, content)
    return target_buffer.getvalue()


def entity_bomb(sheet: str) -> str:
    """Return the sheet with a DTD whose nested entities expand to 10**9 characters."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{level} "{f"&l{level - 1};" * 10}">' for level in range(1, 10)
    )
    body = sheet.split("?>", 1)[-1].replace("<t>15KU</t>", "<t>&l9;</t>", 1)
    return f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>{body}'


def prozo_rows(count: int = 12, code: str = "23PR00"):
    rows = []
    for number in range(1, count + 1):
        answers = [str((number + position) % 4) for position in range(len(PROZO_ITEMS))]
        rows.append([code, f"R{number:04d}", str(1 + number % 4), "2018-02-05", *answers])
    return rows


def inline_string_xlsx(text: str) -> bytes:
    """Return a good workbook whose first group cell holds ``text`` as an inline string."""
    return rewritten_xlsx(lambda x: x.replace("<t>groep 7</t>", f"<t>{text}</t>", 1))


def last_row_moved_xlsx(number: int) -> bytes:
    """Return a good workbook whose last row (13) claims to be row ``number``."""
    return rewritten_xlsx(lambda x: x.replace('<row r="13"', f'<row r="{number}"'))


MALFORMED = [
    ("tab", lambda: csv_bytes(own_rows(), delimiter="\t"), "a.csv", "msv", "gescheiden door tabs"),
    (
        "bom-broken",
        lambda: b"\xef\xbb\xbf" + csv_bytes(with_cell(own_rows(), "groep", "groep 8 \u2013 Zo\xeb"), encoding="cp1252"),
        "a.csv", "msv", "begint als UTF-8",
    ),
    (
        "invalid-bytes",
        lambda: csv_bytes(own_rows()).replace(b"groep 7", b"groep \x81", 1),
        "a.csv", "msv", "ongeldige tekens",
    ),
    ("utf16", lambda: csv_bytes(own_rows(), encoding="utf-16"), "a.csv", "msv", "UTF-16"),
    (
        "unknown-column",
        lambda: csv_bytes([row + ["1"] for row in own_rows()], header=HEADER + ["Z9"]),
        "a.csv", "msv", "kolom Z9 is onbekend",
    ),
    (
        "missing-column",
        lambda: csv_bytes([row[:4] + row[5:] for row in own_rows()], header=HEADER[:4] + HEADER[5:]),
        "a.csv", "msv", "verplichte kolom groep ontbreekt",
    ),
    ("empty", lambda: b"", "a.csv", "msv", "Het bestand is leeg"),
    ("blank-lines", lambda: b"\r\n\r\n", "a.csv", "msv", "Het bestand is leeg"),
    ("header-only", lambda: csv_bytes([]), "a.csv", "msv", "alleen kolomkoppen"),
    ("above-scale", lambda: csv_bytes(with_cell(own_rows(), "V1", "5")), "a.csv", "msv", "buiten de schaal"),
    ("zero", lambda: csv_bytes(with_cell(own_rows(), "V2", "0")), "a.csv", "msv", "buiten de schaal"),
    ("negative", lambda: csv_bytes(with_cell(own_rows(), "W1", "-1")), "a.csv", "msv", "buiten de schaal"),
    ("decimal", lambda: csv_bytes(with_cell(own_rows(), "A1", "2,5")), "a.csv", "msv", "geen geheel getal"),
    ("text-answer", lambda: csv_bytes(with_cell(own_rows(), "A2", "vaak")), "a.csv", "msv", "geen getal"),
    (
        "date-after-window",
        lambda: csv_bytes(with_cell(own_rows(), "datum", "15-06-2018")),
        "a.csv", "msv", "buiten de afnameperiode",
    ),
    # Day first this is 1 May 2018, one day after the window; month first it would be
    # 5 January 2018, inside it. Rejection proves the day is read first.
    (
        "day-first-after-window",
        lambda: csv_bytes(with_cell(own_rows(), "datum", "01-05-2018")),
        "a.csv", "msv", "01-05-2018 ligt buiten de afnameperiode",
    ),
    # Month first this would be 30 November 2017; day first the month 30 does not exist.
    (
        "month-first",
        lambda: csv_bytes(with_cell(own_rows(), "datum", "11/30/2017")),
        "a.csv", "msv", "De datum is ongeldig",
    ),
    ("impossible-date", lambda: csv_bytes(with_cell(own_rows(), "datum", "31-02-2018")), "a.csv", "msv", "De datum is ongeldig"),
    (
        "date-other-year",
        lambda: csv_bytes(with_cell(own_rows(), "datum", "15-01-2017")),
        "a.csv", "msv", "afnameperiode van schooljaar 2016-2017",
    ),
    ("formula-without-value", lambda: formula_xlsx(False), "a.xlsx", "msv", "formule zonder opgeslagen uitkomst"),
    ("xlsx-not-zip", lambda: csv_bytes(own_rows()), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xlsx-broken-zip", lambda: b"PK\x03\x04" + b"\x00" * 200, "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xlsx-bad-cell-reference", lambda: rewritten_xlsx(lambda x: x.replace('r="A2"', 'r="G!2"')), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xlsx-column-beyond-zzz", lambda: rewritten_xlsx(lambda x: x.replace('r="A2"', 'r="ZZZZZZ2"')), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xlsx-cut-off-sheet", lambda: rewritten_xlsx(lambda x: x[: len(x) // 2]), "a.xlsx", "msv", "na rij 6 niet worden gelezen"),
    ("xlsx-row-number-text", lambda: rewritten_xlsx(lambda x: x.replace('<row r="3"', '<row r="abc"')), "a.xlsx", "msv", "na rij 2 niet worden gelezen"),
    ("xlsx-undefined-entity", lambda: rewritten_xlsx(lambda x: x.replace("<t>15KU</t>", "<t>&foo;</t>", 1)), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xlsx-entity-bomb", lambda: rewritten_xlsx(entity_bomb), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    (
        "xlsx-shared-string-missing",
        lambda: rewritten_xlsx(lambda x: x.replace('t="inlineStr"><is><t>15KU</t></is>', 't="s"><v>99</v>', 1)),
        "a.xlsx", "msv", "geen geldige Excel-werkmap",
    ),
    ("xlsx-text-in-number", lambda: rewritten_xlsx(lambda x: x.replace('t="n"><v>1</v>', 't="n"><v>abc</v>', 1)), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xlsx-invalid-date", lambda: rewritten_xlsx(lambda x: x.replace('t="n"><v>1</v>', 't="d"><v>2018-13-45</v>', 1)), "a.xlsx", "msv", "geen geldige Excel-werkmap"),
    ("xls-renamed", lambda: bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 512, "a.xlsx", "msv", "oud Excel-bestand"),
    ("pdf-renamed", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a.csv", "msv", "PDF-bestand"),
    ("zip-as-csv", lambda: formula_xlsx(True), "a.csv", "msv", "ZIP"),
    ("other-extension", lambda: csv_bytes(own_rows()), "a.ods", "msv", "Kies een CSV-bestand"),
    ("other-school", lambda: csv_bytes(own_rows(brin="04XY")), "a.csv", "msv", "hoort bij school 04XY00"),
    ("other-year-column", lambda: csv_bytes(own_rows(year="2016-2017")), "a.csv", "msv", "niet het gekozen schooljaar"),
    (
        "duplicate-respondent",
        lambda: csv_bytes(with_cell(own_rows(), "respondent", "2")),
        "a.csv", "msv", "staat al in regel",
    ),
    ("missing-group", lambda: csv_bytes(with_cell(own_rows(), "groep", "")), "a.csv", "msv", "groep of het leerjaar ontbreekt"),
    ("xlsx-empty-sheet", lambda: xlsx_bytes([], sheet_empty=True), "a.xlsx", "msv", "werkmap is leeg"),
    (
        "too-many-cells",
        lambda: csv_bytes([row + ["4"] if i == 3 else row for i, row in enumerate(own_rows())]),
        "a.csv", "msv", "De regel heeft 20 cellen",
    ),
    (
        "unclosed-quote",
        lambda: csv_bytes(own_rows()) + b'15KU;00;"2017-2018\r\n',
        "a.csv", "msv", "aanhalingsteken (&#34;) in regel 14 is niet afgesloten",
    ),
    (
        "field-over-limit",
        lambda: csv_bytes(with_cell(own_rows(), "groep", "x" * 140_000, index=2)),
        "a.csv", "msv", "Regel 4 bevat een cel van meer dan 131072 tekens",
    ),
    ("quote-then-text", lambda: csv_bytes(with_cell(own_rows(), "groep", '"groep" 7', index=4)), "a.csv", "msv", "Regel 6 is geen geldige CSV-regel"),
    (
        "prozo-unknown-code",
        lambda: csv_bytes([r[:5] + ["7"] + r[6:] for r in prozo_rows(code="15KU00")], header=PROZO_HEADER),
        "a.csv", "prozo", "Onbekende antwoordcode",
    ),
    ("prozo-own-header", lambda: csv_bytes(own_rows()), "a.csv", "prozo", "verplichte kolom Brinvest ontbreekt"),
    ("row-without-answers", lambda: csv_bytes([r[:6] + [""] * len(ITEMS) for r in own_rows()]), "a.csv", "msv", "geen enkel antwoord"),
    # 5 MB of one letter packs into about 5 KB, the ratio of a decompression bomb.
    ("xlsx-compression-bomb", lambda: inline_string_xlsx("x" * 5_000_000), "a.xlsx", "msv", "sterker gecomprimeerd"),
    ("xlsx-last-row-moved", lambda: last_row_moved_xlsx(1_048_576), "a.xlsx", "msv", "meer dan 10000 lege rijen"),
    ("header-too-wide", lambda: csv_bytes([], header=["c"] * 100_000), "a.csv", "msv", "100000 kolommen"),
    ("full-width-digit", lambda: csv_bytes(with_cell(own_rows(), "V1", "\uff14")), "a.csv", "msv", "geen geheel getal"),
    ("arabic-indic-digit", lambda: csv_bytes(with_cell(own_rows(), "V1", "\u0663")), "a.csv", "msv", "cijfers 0 tot en met 9"),
    ("underscore-digit", lambda: csv_bytes(with_cell(own_rows(), "V1", "1_0")), "a.csv", "msv", "geen geheel getal"),
    ("group-right-to-left-override", lambda: csv_bytes(with_cell(own_rows(), "groep", "groep \u202e8")), "a.csv", "msv", "U+202E"),
    ("group-zero-width-space", lambda: csv_bytes(with_cell(own_rows(), "groep", "groep\u200b7")), "a.csv", "msv", "U+200B"),
    ("group-control-character", lambda: csv_bytes(with_cell(own_rows(), "groep", "groep\x077")), "a.csv", "msv", "U+0007"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "filename", "fmt", "message"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_file_rejected(client, app, staff, data, filename, fmt, message):
    before = snapshot(app)

    response = post_file(client, staff, data(), filename=filename, fmt=fmt)

    assert response.status_code == 422
    assert message in response.text
    assert "niet ingelezen" in response.text
    assert snapshot(app) == before
    with app.app_context(), db.connection_context():
        survey_import = SurveyImport.get()
        assert survey_import.status == "failed"
        assert survey_import.error_count >= 1
        assert AuditEvent.select().where(AuditEvent.action == "import.failed").count() == 1


def test_report_names_row_column_and_value(client, app, staff):
    rows = with_cell(own_rows(), "V1", "7", index=4)

    response = post_file(client, staff, csv_bytes(rows))

    assert response.status_code == 422
    # The header is line 1, so the fifth data row is line 6.
    assert "<td>6</td><td>V1</td><td>7</td>" in response.text


def test_report_shows_first_fifty_and_total(client, app, staff):
    rows = own_rows(80)
    for row in rows:
        row[HEADER.index("V1")] = "9"

    response = post_file(client, staff, csv_bytes(rows))

    assert response.status_code == 422
    assert "De eerste 50 van 80 problemen" in response.text
    assert response.text.count("buiten de schaal") == 50


def imported(app, code="15KU00", year="2017-2018"):
    """Return (group, taken_on, answers) of the school's respondents of the year, sorted."""
    with app.app_context(), db.connection_context():
        school = School.get((School.brin == code[:4]) & (School.vestiging == code[4:]))
        rows = (
            Respondent.select(Respondent.group, Respondent.taken_on, Respondent.answers_json)
            .join(SchoolYear, on=(Respondent.school_year == SchoolYear.id))
            .where((Respondent.school == school) & (SchoolYear.name == year))
            .tuples()
        )
        return sorted(
            ((group, taken_on, json.loads(answers)) for group, taken_on, answers in rows), key=repr
        )


def expected(rows):
    return sorted(
        (
            (
                row[4],
                date(2018, 1, 15),
                {code: int(value) for code, value in zip(ITEMS, row[6:], strict=True) if value},
            )
            for row in rows
        ),
        key=repr,
    )


def test_semicolon_cp1252_imports_group_name(client, app, staff):
    rows = with_cell(own_rows(), "groep", "groep 8 \u2013 Zo\xeb", index=2)

    response = post_file(client, staff, csv_bytes(rows, encoding="cp1252"))

    assert response.status_code == 303
    assert imported(app) == expected(rows)
    assert "groep 8 \u2013 Zo\xeb" in {group for group, _day, _answers in imported(app)}


def test_comma_utf8_bom_imports(client, app, staff):
    rows = with_cell(own_rows(), "V3", "", index=1)

    response = post_file(client, staff, b"\xef\xbb\xbf" + csv_bytes(rows, delimiter=","))

    assert response.status_code == 303
    assert imported(app) == expected(rows)
    assert sum("V3" not in answers for _group, _day, answers in imported(app)) == 1


def test_day_first_dates_are_stored(client, app, staff):
    rows = with_cell(with_cell(own_rows(), "datum", "02-12-2017"), "datum", "12/2/2018", index=1)

    response = post_file(client, staff, csv_bytes(rows))

    assert response.status_code == 303
    days = {day for _group, day, _answers in imported(app)}
    assert date(2017, 12, 2) in days
    assert date(2018, 2, 12) in days
    assert date(2018, 12, 2) not in days


def test_xlsx_with_formula_values_imports(client, app, staff):
    response = post_file(client, staff, formula_xlsx(True), filename="antwoorden.xlsx")

    assert response.status_code == 303
    answers = [answers for _group, _day, answers in imported(app)]
    assert len(answers) == 12
    assert all(a["V1"] == 3 for a in answers)


def test_xlsx_dates_and_numbers_import(client, app, staff):
    from datetime import datetime

    rows = own_rows()
    cells = [
        [r[0], 0, r[2], int(r[3]), r[4], datetime(2018, 1, 15), *(int(v) for v in r[6:])]
        for r in rows
    ]

    response = post_file(client, staff, xlsx_bytes(cells), filename="antwoorden.xlsx")

    assert response.status_code == 303, response.text
    assert imported(app) == expected(rows)


def test_prozo_file_imports_translated_answers(client, app, auth):
    auth.login("school@demo.test")
    school = school_id(app, "23PR00")
    rows = prozo_rows()
    rows[0][PROZO_HEADER.index("VB01")] = "9"

    response = post_file(client, school, csv_bytes(rows, header=PROZO_HEADER), fmt="prozo",
                         instrument="prozo")  # fmt: skip

    assert response.status_code == 303, response.text
    result = imported(app, "23PR00")
    assert len(result) == 12
    first = next(r for r in result if r[0] == "leerjaar 2" and "V1" not in r[2])
    assert first[1] == date(2018, 2, 5)
    # ProZO! code 0 is the lowest answer 1; the item code PE01 is the portal's A1.
    assert first[2]["A1"] == int(rows[0][PROZO_HEADER.index("PE01")]) + 1


def test_reimport_replaces_and_audits(client, app, staff):
    assert post_file(client, staff, csv_bytes(own_rows(12))).status_code == 303
    assert post_file(client, staff, csv_bytes(own_rows(15))).status_code == 303

    assert len(imported(app)) == 15
    with app.app_context(), db.connection_context():
        event = (
            AuditEvent.select()
            .where(AuditEvent.action == "import.replaced")
            .order_by(AuditEvent.id.desc())
            .get()
        )
        assert json.loads(event.details_json)["removed"] == 12
        assert event.school_id == staff
    auth_events = client.get(f"/scholen/{staff}/importeren").text
    assert "antwoorden.csv" in auth_events


def test_report_shows_imported_count(client, app, staff):
    assert post_file(client, staff, csv_bytes(own_rows(23))).status_code == 303

    page = client.get(f"/scholen/{staff}/monitoring-sociale-veiligheid?schooljaar=2017-2018")

    assert page.status_code == 200
    with app.app_context(), db.connection_context():
        report = build_report(
            [School.get_by_id(staff)], SchoolYear.get(SchoolYear.name == "2017-2018"), 10
        )
    assert report.respondents == 23
    assert ">23<" in page.text.replace(" ", "")


def test_same_file_twice_rejected_with_date(client, app, staff):
    data = csv_bytes(own_rows())
    assert post_file(client, staff, data).status_code == 303
    before = snapshot(app)

    response = post_file(client, staff, data)

    assert response.status_code == 422
    assert "al ingelezen op 15 maart 2018" in response.text
    assert snapshot(app) == before


def test_file_over_limit_gets_413(config, redis, tmp_path):
    from portal import create_app

    from .conftest import Auth

    config["UPLOAD_MAX_BYTES"] = 2000
    app = create_app(config)
    client = app.test_client()
    Auth(client).login("school@demo.test")
    school = school_id(app, "15KU00")
    before = snapshot(app)

    response = post_file(client, school, csv_bytes(own_rows(40)))

    assert response.status_code == 413
    assert "Het bestand is groter dan" in response.text
    assert snapshot(app) == before


def test_upload_page_htmx_and_plain(client, app, staff):
    page = client.get(f"/scholen/{staff}/importeren")
    partial = client.get(f"/scholen/{staff}/importeren", headers=HTMX)

    assert page.status_code == 200
    assert "<html" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert 'id="import-upload"' in partial.text
    assert partial.headers["Vary"] == "HX-Request" or "HX-Request" in partial.headers["Vary"]


def test_rejected_upload_htmx_returns_partial(client, app, staff):
    response = post_file(client, staff, csv_bytes(own_rows(brin="04XY")), headers=HTMX)

    assert response.status_code == 422
    assert "<html" not in response.text
    assert "hoort bij school 04XY00" in response.text


def test_form_without_file_is_422(client, app, staff):
    response = client.post(
        f"/scholen/{staff}/importeren",
        data={"schooljaar": "2017-2018", "instrument": "msv", "formaat": "msv"},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "Kies het bestand" in response.text


def test_unknown_year_in_form_is_422(client, app, staff):
    response = post_file(client, staff, csv_bytes(own_rows()), year="2030-2031")

    assert response.status_code == 422
    with app.app_context(), db.connection_context():
        assert SurveyImport.select().count() == 0


@pytest.mark.parametrize("email", ["school2@demo.test", "bestuur@demo.test"])
def test_import_page_hidden_from_others(client, app, auth, email):
    auth.login(email)
    school = school_id(app, "15KU00")

    assert client.get(f"/scholen/{school}/importeren").status_code == 404
    assert post_file(client, school, csv_bytes(own_rows())).status_code == 404
    assert (
        client.get(f"/scholen/{school}/importeren/export.csv?schooljaar=2017-2018").status_code
        == 404
    )


def test_support_imports_any_school(client, app, auth):
    auth.login("helpdesk@demo.test")
    school = school_id(app, "04XY00")

    response = post_file(client, school, csv_bytes(own_rows(brin="04XY")))

    assert response.status_code == 303
    assert len(imported(app, "04XY00")) == 12


def test_import_status_of_other_school_is_404(client, app, auth, staff):
    response = post_file(client, staff, csv_bytes(own_rows()))
    status_url = response.headers["Location"]
    auth.logout()
    auth.login("school2@demo.test")

    assert client.get(status_url).status_code == 404


def test_export_then_import_round_trip(client, app, staff):
    before = imported(app)
    export = client.get(
        f"/scholen/{staff}/importeren/export.csv?schooljaar=2017-2018&instrument=msv"
    )
    assert export.status_code == 200
    assert export.data.startswith(b"\xef\xbb\xbf")

    response = post_file(client, staff, export.data)

    assert response.status_code == 303, response.text
    assert imported(app) == before


def test_template_has_header_only(client, app, staff):
    response = client.get(
        f"/scholen/{staff}/importeren/sjabloon.csv?schooljaar=2017-2018&instrument=msv"
    )

    assert response.status_code == 200
    lines = response.data.decode("utf-8-sig").splitlines()
    in_position_order = [
        "V1",
        "V2",
        "V3",
        "V4",
        "W1",
        "W2",
        "W3",
        "W4",
        "A1",
        "A2",
        "A3",
        "A4",
        "X1",
    ]
    assert lines == [";".join(HEADER[:6] + in_position_order)]


def test_venster_links_to_import(client, app, staff):
    assert f"/scholen/{staff}/importeren" in client.get("/managementvenster").text


def test_import_refreshes_delivery_payload(client, app, staff):
    from .factories import make_approved_request

    with app.app_context(), db.connection_context():
        request = make_approved_request(date(2018, 7, 1), School.get_by_id(staff))
        old_sha = request.payload_sha256

    assert post_file(client, staff, csv_bytes(own_rows(14))).status_code == 303

    with app.app_context(), db.connection_context():
        from portal.models import DeliveryRequest

        request = DeliveryRequest.get_by_id(request.id)
        assert request.payload_sha256 != old_sha
        assert '"respondents":14' in request.payload.replace(" ", "")


def _request_of(app, code: str, level: str):
    """Create an approved request of the vestiging with a summary at ``level``."""
    from dataclasses import replace

    from portal.domain.delivery import build_payload
    from portal.domain.payload import sha256_hex

    from .factories import ANSWERS, make_approved_request

    with app.app_context(), db.connection_context():
        school = School.get_by_id(school_id(app, code))
        request = make_approved_request(date(2018, 7, 1), school)
        payload = build_payload(school, request.school_year, replace(ANSWERS, level=level), 10)
        request.level = level
        request.payload = payload.decode()
        request.payload_sha256 = sha256_hex(payload)
        request.save()
        return request.id, request.payload_sha256


def _summary_of(app, request_id: int) -> tuple[str, dict]:
    from portal.models import DeliveryRequest

    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        return request.payload_sha256, json.loads(request.payload)


def test_import_refreshes_brin_request_of_sibling(client, app, staff):
    # 15KU01 is another vestiging of the BRIN of 15KU00, the school that imports.
    brin_request, brin_sha = _request_of(app, "15KU01", "brin")

    assert post_file(client, staff, csv_bytes(own_rows(14))).status_code == 303

    sha, summary = _summary_of(app, brin_request)
    assert sha != brin_sha
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        sibling = Respondent.select().where(
            (Respondent.school == school_id(app, "15KU01")) & (Respondent.school_year == year)
        )
        assert summary["respondents"] == 14 + sibling.count()


def test_import_keeps_vestiging_request_of_sibling(client, app, staff):
    sibling_request, sibling_sha = _request_of(app, "15KU01", "vestiging")

    assert post_file(client, staff, csv_bytes(own_rows(14))).status_code == 303

    assert _summary_of(app, sibling_request)[0] == sibling_sha


def test_xlsx_stale_dimension_reads_all_rows(client, app, staff):
    rows = own_rows(30)
    # A program that wrote the sheet left a <dimension> of 3 columns and 5 rows.
    data = rewritten_xlsx(
        lambda x: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:C5"', x), rows
    )

    response = post_file(client, staff, data, filename="antwoorden.xlsx")

    assert response.status_code == 303, response.text
    assert len(imported(app)) == 30
    assert imported(app) == expected(rows)


def test_unexpected_reader_error_fails_import(client, app, staff, monkeypatch, caplog):
    from openpyxl.worksheet._reader import WorkSheetParser

    def broken_parse_row(self, row):
        raise RuntimeError("parser bug")

    # The fault is put into openpyxl, a third-party parser, to stand for a bug there.
    monkeypatch.setattr(WorkSheetParser, "parse_row", broken_parse_row)
    before = snapshot(app)

    response = post_file(client, staff, xlsx_bytes(numeric_rows(own_rows())), filename="a.xlsx")

    assert response.status_code == 422
    assert "fout in het portaal niet worden gecontroleerd" in response.text
    assert snapshot(app) == before
    with app.app_context(), db.connection_context():
        survey_import = SurveyImport.get()
        assert survey_import.status == "failed"
        assert survey_import.finished_at is not None
    assert f"import={survey_import.id} school={staff} failed unexpectedly" in caplog.text


def test_latest_import_is_highest_id(client, app, staff):
    first = csv_bytes(own_rows(12))
    second = csv_bytes(own_rows(14))
    assert post_file(client, staff, first, filename="eerste.csv").status_code == 303
    assert post_file(client, staff, second, filename="tweede.csv").status_code == 303
    # Under PORTAL_TODAY the clock goes back a day at midnight, so the older import can
    # carry the later timestamps.
    with app.app_context(), db.connection_context():
        older, newer = SurveyImport.select().order_by(SurveyImport.id)
        SurveyImport.update(
            finished_at=newer.finished_at + timedelta(hours=23),
            created_at=newer.created_at + timedelta(hours=23),
        ).where(SurveyImport.id == older.id).execute()

    again = post_file(client, staff, second, filename="tweede.csv")
    page = client.get(f"/scholen/{staff}/importeren").text

    assert again.status_code == 422
    assert "al ingelezen op" in again.text
    assert len(imported(app)) == 14
    assert page.index("tweede.csv") < page.index("eerste.csv")


@pytest.mark.parametrize("group", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)"])
def test_export_quotes_formula_group(client, app, staff, group):
    rows = with_cell(own_rows(), "groep", group, index=0)
    assert post_file(client, staff, csv_bytes(rows, delimiter=",")).status_code == 303

    export = client.get(
        f"/scholen/{staff}/importeren/export.csv?schooljaar=2017-2018&instrument=msv"
    )
    cells = [line.split(";")[4] for line in export.data.decode("utf-8-sig").splitlines()[1:]]
    guarded = [cell for cell in cells if cell.strip('"').startswith("'")]

    assert len(guarded) == 1
    assert guarded[0].strip('"') == "'" + group.replace('"', '""')
    assert post_file(client, staff, export.data).status_code == 303
    assert group.strip() in {name for name, _day, _answers in imported(app)}


def test_xlsx_over_size_limit_rejected(client, app, staff, monkeypatch):
    from portal.domain.imports import readers

    data = xlsx_bytes(numeric_rows(own_rows()))
    unpacked = sum(entry.file_size for entry in zipfile.ZipFile(io.BytesIO(data)).infolist())
    # A real over-limit workbook is over 100 MB, so the limit is lowered below this one.
    monkeypatch.setattr(readers, "XLSX_MAX_UNCOMPRESSED_BYTES", unpacked - 1)

    response = post_file(client, staff, data, filename="a.xlsx")

    assert response.status_code == 422
    assert "sla het werkblad op als CSV" in response.text
    with app.app_context(), db.connection_context():
        assert SurveyImport.get().status == "failed"


def test_xlsx_gap_below_limit_imports(client, app, staff):
    response = post_file(client, staff, last_row_moved_xlsx(5_000), filename="a.xlsx")

    assert response.status_code == 303, response.text
    assert len(imported(app)) == 12


def test_duplicate_column_reported_once(client, app, staff):
    header = HEADER + ["V1", "v1", "V1"]
    rows = [row + ["1", "1", "1"] for row in own_rows()]

    response = post_file(client, staff, csv_bytes(rows, header=header))

    assert response.status_code == 422
    assert response.text.count("staat meer dan één keer") == 1


def test_group_control_character_value_shown_escaped(client, app, staff):
    rows = with_cell(own_rows(), "groep", "groep \u202e8", index=2)

    response = post_file(client, staff, csv_bytes(rows))

    assert response.status_code == 422
    assert "<td>4</td><td>groep</td><td>groep U+202E8</td>" in response.text
    assert "\u202e" not in response.text


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("x.exe", "Kies een CSV-bestand (.csv) of een Excel-werkmap (.xlsx)"),
        ("x.pdf", "Kies een CSV-bestand (.csv) of een Excel-werkmap (.xlsx)"),
        ("x.xls", "oud Excel-bestand (.xls)"),
    ],
)
def test_file_type_checked_before_duplicate(client, app, staff, filename, message):
    data = csv_bytes(own_rows())
    assert post_file(client, staff, data).status_code == 303

    response = post_file(client, staff, data, filename=filename)

    assert response.status_code == 422
    assert message in response.text
    assert "Dit bestand is al ingelezen" not in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", "2030-2031", "Kies een schooljaar uit de lijst."),
        ("instrument", "onbekend", "Kies een instrument uit de lijst."),
        ("fmt", "onbekend", "Kies een formaat uit de lijst."),
    ],
)
def test_tampered_choice_gets_dutch_message(client, app, staff, field, value, message):
    response = post_file(client, staff, csv_bytes(own_rows()), **{field: value})

    assert response.status_code == 422
    assert message in response.text
    assert "Ongeldige keuze" not in response.text
    assert "Not a valid choice" not in response.text


def test_export_logged_with_user_and_school(client, app, staff, caplog):
    with app.app_context(), db.connection_context():
        user_id = User.get(User.email == "school@demo.test").id

    with caplog.at_level(logging.INFO, logger="portal.imports.routes"):
        response = client.get(
            f"/scholen/{staff}/importeren/export.csv?schooljaar=2017-2018&instrument=msv"
        )

    assert response.status_code == 200
    assert f"user={user_id} school={staff}" in caplog.text


@pytest.mark.parametrize(
    ("age", "status"), [(timedelta(minutes=3), "failed"), (timedelta(seconds=20), "queued")]
)
def test_inline_import_of_dead_request_fails(client, app, staff, age, status):
    assert post_file(client, staff, csv_bytes(own_rows())).status_code == 303
    # The request that ran the import died: the row stayed queued, without job or file.
    with app.app_context(), db.connection_context():
        survey_import = SurveyImport.get()
        SurveyImport.update(
            status="queued",
            created_at=survey_import.created_at - age,
            started_at=None,
            finished_at=None,
        ).execute()

    page = client.get(f"/importen/{survey_import.id}")

    assert page.status_code == 200
    assert f'data-status="{status}"' in page.text
    with app.app_context(), db.connection_context():
        assert SurveyImport.get().status == status


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"kop\r\n1\r\n2\r\n3\r\n", 3),
        (b"kop\n1\n2\n3", 3),
        (b"kop\n", 0),
        (b"", 0),
        (b"PK\x03\x04rest of a workbook", None),
    ],
)
def test_expected_rows_from_line_breaks(data, expected):
    from portal.domain.imports.queueing import expected_rows

    assert expected_rows(data) == expected


def test_status_shows_share_of_rows_checked(client, app, staff):
    from portal.clock import now
    from portal.domain.imports import create_import
    from portal.models import Instrument

    with app.app_context(), db.connection_context():
        survey_import = create_import(
            School.get_by_id(staff),
            SchoolYear.get(SchoolYear.name == "2017-2018"),
            Instrument.get(Instrument.code == "msv"),
            "msv",
            "groot.csv",
            b"",
            None,
        )
        survey_import.status = "running"
        survey_import.started_at = now()
        survey_import.progress = 50
        survey_import.rows_expected = 200
        survey_import.save()

    html = client.get(f"/importen/{survey_import.id}", headers=HTMX).text

    assert 'max="200" value="50"' in html
    assert "50 van ongeveer 200 regels gecontroleerd" in html
