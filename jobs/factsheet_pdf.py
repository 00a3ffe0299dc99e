"""The school factsheet as a PDF, drawn with reportlab."""

import io
from pathlib import Path

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.clock import today
from portal.domain.report import Report

# Debian's fonts-dejavu-core covers the Latin scripts (Ł, ş, ễ, ...).
# NOTE: without that package the PDF falls back to Helvetica, which shows such letters as boxes.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SCALE_LABELS = {
    "veiligheidsbeleving": "Veiligheidsbeleving",
    "welbevinden": "Welbevinden",
    "aantasting": "Aantasting (hoger is minder aantasting)",
}


def _fonts() -> tuple[str, str]:
    regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return "Helvetica", "Helvetica-Bold"
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
    return "DejaVuSans", "DejaVuSans-Bold"


def _number(value, pattern="0.00") -> str:
    return format_decimal(value, pattern) if value is not None else "–"


def _chart(report: Report, font: str) -> Drawing:
    """Bar chart of the school's scale means beside the comparison values."""
    drawing = Drawing(170 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 15 * mm, 12 * mm
    chart.width, chart.height = 150 * mm, 50 * mm
    scales = list(SCALE_LABELS)
    chart.data = [
        [report.scales[s].mean or 0 for s in scales],
        [report.comparison.get(s) or 0 for s in scales],
    ]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 4, 1
    chart.categoryAxis.categoryNames = ["Veiligheid", "Welbevinden", "Aantasting"]
    chart.categoryAxis.labels.fontName = font
    chart.valueAxis.labels.fontName = font
    chart.bars[0].fillColor = colors.HexColor("#154273")
    chart.bars[1].fillColor = colors.HexColor("#b3c7dc")
    drawing.add(chart)
    drawing.add(
        String(
            15 * mm,
            3 * mm,
            _("Donker: school. Licht: landelijk vergelijkingsgetal."),
            fontName=font,
            fontSize=8,
        )
    )
    return drawing


def render_factsheet(report: Report, school_name: str, delivery_text: str) -> bytes:
    """Return the PDF bytes of the factsheet for one school and year."""
    font, bold = _fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=10, leading=13)
    heading = ParagraphStyle("heading", parent=styles["Heading1"], fontName=bold, fontSize=16)
    subheading = ParagraphStyle("sub", parent=styles["Heading2"], fontName=bold, fontSize=12)

    story = [
        Paragraph(_("Factsheet Monitoring Sociale Veiligheid"), heading),
        Paragraph(f"{school_name} – {_('schooljaar')} {report.school_year.name}", subheading),
        Paragraph(
            _(
                "%(respondents)s respondenten, %(pupils)s leerlingen op 1 oktober, respons %(rate)s.",
                respondents=report.respondents,
                pupils=report.pupils if report.pupils is not None else "–",
                rate=format_percent(report.response_rate, "0%")
                if report.response_rate is not None
                else "–",
            ),
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph(_("Indicatoren"), subheading),
    ]

    rows = [[_("Schaal"), _("Gemiddelde"), _("Positief"), _("Landelijk")]]
    for scale, label in SCALE_LABELS.items():
        result = report.scales[scale]
        rows.append(
            [
                label,
                _number(result.mean),
                format_percent(result.positive_share, "0%")
                if result.positive_share is not None
                else "–",
                _number(report.comparison.get(scale)),
            ]
        )
    table = Table(rows, colWidths=[75 * mm, 30 * mm, 30 * mm, 30 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTNAME", (0, 0), (-1, 0), bold),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6edf5")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm), _chart(report, font), Spacer(1, 4 * mm)]
    story += [Paragraph(_("Levering aan de Inspectie"), subheading), Paragraph(delivery_text, body)]
    story += [
        Spacer(1, 4 * mm),
        Paragraph(_("Gemaakt op %(date)s.", date=format_date(today(), "d MMMM y")), body),
    ]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Factsheet {school_name} {report.school_year.name}",
        author="Portaal Monitoring Sociale Veiligheid",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    document.build(story)
    return buffer.getvalue()
