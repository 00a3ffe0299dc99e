"""The school factsheet PDF: its text, its fonts, its layout limits, and pdftoppm."""

import io
import shutil
import subprocess
from datetime import date

import pypdf
import pytest
from babel.numbers import format_decimal

from jobs import pdf_layout
from jobs.factsheet_pdf import DeliveryState, render_factsheet
from jobs.factsheets import build_factsheet
from portal.clock import utcnow
from portal.domain.indicators import GroupResult, ScaleResult
from portal.domain.report import build_report
from portal.models import FactsheetJob, School, SchoolYear

from .factories import make_approved_request

NAMES = ("Łukasz Wiśniewski", "Ayşe Yıldız", "Nguyễn Văn An")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def page_count(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def pdftoppm() -> str:
    """Return the path of pdftoppm, or fail with how to install it."""
    path = shutil.which("pdftoppm")
    if path is None:
        pytest.fail(
            "pdftoppm not found: install the Debian package poppler-utils (make browser-deps)"
        )
    return path


def assert_renders(data: bytes, tmp_path) -> None:
    """Render every page with pdftoppm and fail on any error or warning it prints."""
    source = tmp_path / "render.pdf"
    source.write_bytes(data)
    run = subprocess.run(
        [pdftoppm(), "-png", "-r", "40", str(source), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", run.stderr
    assert len(list(tmp_path.glob("page*.png"))) == page_count(data)


@pytest.fixture
def demo_school(app_context):
    school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    school.name = f"Basisschool {NAMES[2]}"
    school.save()
    request = make_approved_request(date(2018, 4, 1), school=school)
    request.consent_name = NAMES[0]
    request.contact_name = NAMES[1]
    request.save()
    return school


def _built_pdf(app, school: School) -> bytes:
    job = FactsheetJob.create(
        school=school,
        school_year=SchoolYear.get(SchoolYear.name == "2017-2018"),
        created_at=utcnow(),
    )
    relative = build_factsheet(job.id)
    return (app.config["PORTAL_DATA_DIR"] / relative).read_bytes()


def test_factsheet_contains_figures(app_context, demo_school):
    data = _built_pdf(app_context, demo_school)
    text = pdf_text(data)

    assert demo_school.name in text
    assert "2017-2018" in text
    report = build_report([demo_school], SchoolYear.get(SchoolYear.name == "2017-2018"), 10)
    for scale, result in report.scales.items():
        value = format_decimal(result.mean, "0.00", locale="nl")
        assert value in text, f"{scale} mean {value} missing"
    for scale, value in report.comparison.items():
        assert format_decimal(value, "0.00", locale="nl") in text, f"{scale} comparison missing"
    assert str(report.respondents) in text
    assert "Ontwikkeling over de jaren" in text
    assert "Geleverd" in text or "Levering aangevraagd" in text


def test_factsheet_names_keep_letters(app_context, demo_school):
    text = pdf_text(_built_pdf(app_context, demo_school))
    for name in NAMES:
        assert name in text, f"{name} not found as text in the PDF"


def test_factsheet_pages_numbered(app_context, demo_school):
    data = _built_pdf(app_context, demo_school)
    total = page_count(data)
    reader = pypdf.PdfReader(io.BytesIO(data))
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert f"pagina {number} van {total}" in page_text
        assert demo_school.name in page_text
        assert "2017-2018" in page_text


def test_factsheet_renders_with_pdftoppm(app_context, demo_school, tmp_path):
    assert_renders(_built_pdf(app_context, demo_school), tmp_path)


def test_factsheet_marks_suppressed_groups(app_context):
    school = School.get((School.brin == "30SO") & (School.vestiging == "00"))
    data = _built_pdf(app_context, school)
    text = pdf_text(data)
    assert "Niet getoond: minder dan 10 respondenten" in text


def test_factsheet_no_temporary_file_left(app_context, demo_school):
    _built_pdf(app_context, demo_school)
    folder = app_context.config["PORTAL_DATA_DIR"] / "factsheets"
    assert list(folder.glob("*.partial")) == []
    assert len(list(folder.glob("*.pdf"))) == 1


def _large_report(app_context, groups: int):
    school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    report = build_report([school], SchoolYear.get(SchoolYear.name == "2017-2018"), 10)
    report.groups = []
    for n in range(groups):
        scales = {s: ScaleResult(s, 12, 3.0 + n % 10 / 100, 0.8) for s in report.scales}
        report.groups.append(GroupResult(f"klas {n:03d}", 12, n % 7 == 0, scales))
    return report


def test_factsheet_400_rows_repeat_header(app_context, tmp_path):
    report = _large_report(app_context, 400)
    data = render_factsheet(report, "OBS De Regenboog", DeliveryState("Geen levering."), 10)

    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 3
    text = pdf_text(data)
    assert "klas 000" in text
    assert "klas 399" in text
    for page in reader.pages[2:]:
        assert "Leerjaar / groep" in page.extract_text(), "header row not repeated"
    assert_renders(data, tmp_path)


def test_factsheet_long_text_wraps(app_context, tmp_path):
    report = _large_report(app_context, 3)
    words = "Een toelichting over de steekproef die lang doorloopt. " * 120
    unbroken = "x" * 400
    state = DeliveryState(
        "Levering aangevraagd.", [("Toelichting representativiteit", words[:5600] + unbroken)]
    )
    assert len(state.details[0][1]) == 6000

    data = render_factsheet(report, "OBS De Regenboog " + "Lange Naam " * 30, state, 10)

    text = pdf_text(data)
    assert "lang doorloopt" in text
    assert_renders(data, tmp_path)


def test_factsheet_escapes_markup(app_context):
    report = _large_report(app_context, 1)
    state = DeliveryState("<b>Levering</b> & meer", [("Contact", "A & B <script>")])
    text = pdf_text(render_factsheet(report, "School <De Brug> & Co", state, 10))
    assert "School <De Brug> & Co" in text
    assert "A & B <script>" in text


def test_missing_font_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf_layout, "DEJAVU_DIR", tmp_path)
    monkeypatch.setattr(pdf_layout.pdfmetrics, "getRegisteredFontNames", lambda: [])
    with pytest.raises(pdf_layout.FontMissing, match="fonts-dejavu-core"):
        pdf_layout.register_fonts()


def test_dejavu_font_installed():
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        path = pdf_layout.DEJAVU_DIR / name
        assert path.is_file(), f"{path} missing: install fonts-dejavu-core (make browser-deps)"
