"""The school factsheet as a PDF, laid out with reportlab's platypus."""

from dataclasses import dataclass, field

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from portal.clock import today
from portal.domain.report import SMALL_VESTIGING, Report

from .pdf_layout import BRAND, FONT, FONT_BOLD, build_pdf, styles, text

SCALE_LABELS = {
    "veiligheidsbeleving": "Veiligheidsbeleving",
    "welbevinden": "Welbevinden",
    "aantasting": "Aantasting",
}
SCALE_COLOURS = {
    "veiligheidsbeleving": BRAND,
    "welbevinden": colors.HexColor("#39870c"),
    "aantasting": colors.HexColor("#ca005d"),
}
SUPPRESSED_MARK = "*"


@dataclass
class DeliveryState:
    """What the factsheet says about delivery to the Inspectie: one line and its details."""

    summary: str
    details: list[tuple[str, str]] = field(default_factory=list)


def _number(value, pattern="0.00") -> str:
    return format_decimal(value, pattern) if value is not None else "–"


def _percent(value) -> str:
    return format_percent(value, "0%") if value is not None else "–"


def _grid(rows: list[list], widths: list[float], numeric_from: int = 1) -> Table:
    """Return a table whose header row repeats on every page it continues on."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6edf5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _indicator_table(report: Report) -> Table:
    rows = [[_("Indicator"), _("Gemiddelde"), _("Positief"), _("Landelijk")]]
    for scale, label in SCALE_LABELS.items():
        result = report.scales[scale]
        rows.append(
            [
                label,
                _number(result.mean),
                _percent(result.positive_share),
                _number(report.comparison.get(scale)),
            ]
        )
    return _grid(rows, [70 * mm, 32 * mm, 32 * mm, 32 * mm])


def _trend_chart(report: Report) -> Drawing:
    """Line chart of the three scale means over the school's survey years."""
    drawing = Drawing(170 * mm, 72 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y = 12 * mm, 20 * mm
    chart.width, chart.height = 150 * mm, 48 * mm
    years = [year.name for year in report.trend]
    # A suppressed year has None for every scale, which leaves a gap in the lines.
    chart.data = [[year.means.get(scale) for year in report.trend] for scale in SCALE_LABELS]
    chart.categoryAxis.categoryNames = years
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 1, 4, 0.5
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labelTextFormat = lambda value: format_decimal(value, "0.0")
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    for index, scale in enumerate(SCALE_LABELS):
        chart.lines[index].strokeColor = SCALE_COLOURS[scale]
        chart.lines[index].strokeWidth = 1.5
    chart.joinedLines = True
    drawing.add(chart)

    legend = Legend()
    legend.x, legend.y = 12 * mm, 6 * mm
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.fontName = FONT
    legend.fontSize = 8
    legend.colorNamePairs = [(SCALE_COLOURS[s], label) for s, label in SCALE_LABELS.items()]
    drawing.add(legend)
    return drawing


def _group_table(report: Report, style) -> Table:
    # "Veiligheidsbeleving" is too wide for a column of five, so the header says "Veiligheid".
    header = [_("Leerjaar / groep"), _("Respondenten"), _("Veiligheid")]
    rows = [header + [SCALE_LABELS["welbevinden"], SCALE_LABELS["aantasting"]]]
    for group in report.groups:
        row = [text(group.name, style), str(group.respondents)]
        for scale in SCALE_LABELS:
            if group.suppressed:
                row.append(SUPPRESSED_MARK)
            else:
                row.append(_number(group.scales[scale].mean))
        rows.append(row)
    return _grid(rows, [40 * mm, 32 * mm, 34 * mm, 34 * mm, 34 * mm])


def _figures_story(report: Report, threshold: int, style) -> list:
    """Return the indicators, the trend and the groups of a report that shows figures."""
    story = [
        text(_("Indicatoren"), style.heading),
        text(
            _(
                "Scores van 1 tot 4; hoger is gunstiger (bij aantasting: minder pesten, geweld en discriminatie). "
                "Positief is het aandeel respondenten met een score boven het midden van de schaal. "
                "Landelijk is het gemiddelde van alle scholen van dezelfde sector."
            ),
            style.small,
        ),
        Spacer(1, 2 * mm),
        _indicator_table(report),
        text(_("Ontwikkeling over de jaren"), style.heading),
    ]
    if len(report.trend) > 1:
        story.append(_trend_chart(report))
    else:
        story.append(text(_("Er zijn nog geen gegevens van eerdere schooljaren."), style.body))
    small_years = [year.name for year in report.trend if year.suppressed]
    if len(report.trend) > 1 and small_years:
        story.append(
            text(
                _(
                    "Te weinig respondenten (minder dan %(threshold)s) in %(years)s: "
                    "die schooljaren hebben geen punt in de grafiek.",
                    threshold=threshold,
                    years=", ".join(small_years),
                ),
                style.small,
            )
        )

    story.append(text(_("Per leerjaar of groep"), style.heading))
    if report.groups:
        story.append(_group_table(report, style.cell))
        if any(group.suppressed for group in report.groups):
            story.append(
                text(
                    _(
                        "%(mark)s Niet getoond: minder dan %(threshold)s respondenten, of "
                        "verborgen omdat een kleine groep anders uit het totaal af te leiden is. "
                        "Zo blijven de antwoorden van afzonderlijke leerlingen onherkenbaar.",
                        mark=SUPPRESSED_MARK,
                        threshold=threshold,
                    ),
                    style.small,
                )
            )
    else:
        story.append(text(_("Er zijn geen respondenten in dit schooljaar."), style.body))
    return story


def _suppressed_story(report: Report, threshold: int, style) -> list:
    """Return the notice that replaces every figure and chart of a suppressed report."""
    if report.suppression_reason == SMALL_VESTIGING:
        reason = _(
            "Een vestiging van deze instelling (%(codes)s) heeft minder dan %(threshold)s "
            "respondenten. Het verschil met de rapporten van de andere vestigingen zou "
            "haar uitkomsten tonen.",
            codes=", ".join(report.small_vestigingen),
            threshold=threshold,
        )
    else:
        reason = _(
            "Deze school heeft %(n)s respondenten. Uitkomsten worden pas getoond bij "
            "minstens %(threshold)s respondenten, omdat antwoorden van minder leerlingen "
            "tot die leerlingen te herleiden zijn.",
            n=report.respondents,
            threshold=threshold,
        )
    return [
        text(_("Indicatoren"), style.heading),
        text(_("Te weinig respondenten: geen uitkomsten."), style.body),
        text(reason, style.body),
        text(
            _(
                "Daarom staan in deze factsheet geen indicatoren, geen antwoorden per vraag, "
                "geen uitkomsten per leerjaar of groep en geen grafieken."
            ),
            style.body,
        ),
    ]


def render_factsheet(
    report: Report, school_name: str, delivery: DeliveryState, threshold: int
) -> bytes:
    """Return the PDF of the factsheet of one school (or BRIN) and school year."""
    style = styles()
    year = report.school_year.name
    story = [
        text(_("Factsheet Monitoring Sociale Veiligheid"), style.title),
        text(f"{school_name} – {_('schooljaar')} {year}", style.heading),
        text(
            _(
                "%(respondents)s respondenten, %(pupils)s leerlingen op 1 oktober, respons %(rate)s.",
                respondents=report.respondents,
                pupils=report.pupils if report.pupils is not None else "–",
                rate=_percent(report.response_rate),
            ),
            style.body,
        ),
    ]
    if report.unreliable_reason == "more_than_pupils":
        story.append(
            text(
                _(
                    "Er zijn meer respondenten dan leerlingen op 1 oktober: het ingelezen bestand of het leerlingaantal klopt niet."
                ),
                style.body,
            )
        )
    elif report.respondents and not report.reliable:
        story.append(
            text(
                _(
                    "De respons is laag: de uitkomsten zijn mogelijk niet representatief voor alle leerlingen."
                ),
                style.body,
            )
        )

    if report.suppressed:
        story += _suppressed_story(report, threshold, style)
    else:
        story += _figures_story(report, threshold, style)

    story += [
        text(_("Levering aan de Inspectie"), style.heading),
        text(delivery.summary, style.body),
    ]
    # Details are paragraphs, not table cells: a table row cannot split across pages, so a
    # long explanation in a cell would not fit on one page and stop the layout.
    for label, value in delivery.details:
        story += [Spacer(1, 1.5 * mm), text(label, style.cell_bold), text(value, style.body)]

    created = _("Gemaakt op %(date)s", date=format_date(today(), "d MMMM y"))
    return build_pdf(
        story,
        title=f"Factsheet {school_name} {year}",
        header_right=f"{school_name} – {year}",
        footer_left=created,
    )
