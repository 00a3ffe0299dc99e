"""The charts of the school and board reports, with their Dutch titles and descriptions.

The geometry is in portal.domain.charts. This module adds the translated text and states
every figure in the chart's description, so that a screen reader reads them out too.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from portal.domain.charts import (
    Bar,
    BarGroup,
    Series,
    StackRow,
    bar_chart,
    line_chart,
    number,
    percent,
    stacked_bar_chart,
)
from portal.domain.report import BoardRow, Report
from portal.models import SCALES

SCALE_NAMES = {
    "veiligheidsbeleving": _l("Veiligheidsbeleving"),
    "welbevinden": _l("Welbevinden"),
    "aantasting": _l("Aantasting"),
}


def _scale_intro(report_or_max) -> str:
    scale_max = report_or_max if isinstance(report_or_max, int) else report_or_max.scale_max
    return _(
        "Schaal van 1 tot %(max)s, hoger is gunstiger (bij aantasting: minder aantasting).",
        max=scale_max,
    )


def scales_chart(report: Report) -> Markup:
    """Bars of the three scale means, each with the national comparison value as a marker."""
    bars, parts = [], []
    for scale in SCALES:
        name = str(SCALE_NAMES[scale])
        mean = report.scales[scale].mean
        reference = report.comparison.get(scale)
        bars.append(Bar(name, mean, reference, note=_("geen gegevens")))
        if reference is None:
            parts.append(_("%(scale)s: %(mean)s.", scale=name, mean=number(mean)))
        else:
            parts.append(
                _(
                    "%(scale)s: %(mean)s, landelijk %(reference)s.",
                    scale=name,
                    mean=number(mean),
                    reference=number(reference),
                )
            )
    return bar_chart(
        "grafiek-indicatoren",
        _("Gemiddelde per indicator en het landelijk vergelijkingsgetal"),
        " ".join([_scale_intro(report), *parts]),
        [BarGroup(None, bars)],
        axis_max=report.scale_max,
        reference_label=_("landelijk"),
    )


def trend_chart(report: Report) -> Markup:
    """Lines of the scale means over the years of the trend; a suppressed year has no point."""
    years = [year.name for year in report.trend]
    series, parts = [], []
    for scale in SCALES:
        name = str(SCALE_NAMES[scale])
        values = [year.means.get(scale) for year in report.trend]
        series.append(Series(name, values))
        figures = ", ".join(
            f"{year.name} {_('te weinig respondenten') if year.suppressed else number(value)}"
            for year, value in zip(report.trend, values, strict=True)
        )
        parts.append(f"{name}: {figures}.")
    return line_chart(
        "grafiek-ontwikkeling",
        _("Gemiddelde per indicator over de schooljaren"),
        " ".join([_scale_intro(report), *parts]),
        years,
        series,
        axis_min=1,
        axis_max=report.scale_max,
    )


def victimisation_charts(report: Report) -> list[Markup]:
    """Stacked bars of the answer shares per aantasting item, one chart per answer scale.

    Items with different answer options cannot share a legend, so each set of options
    gets its own chart. A suppressed report has no shares, so it gets no chart.
    """
    if report.suppressed:
        return []
    by_labels: dict[tuple[str, ...], list] = {}
    for shares in report.victimisation:
        labels = tuple(option.label for option in shares.options)
        by_labels.setdefault(labels, []).append(shares)

    charts = []
    for index, (labels, items) in enumerate(by_labels.items(), start=1):
        rows, parts = [], []
        for item in items:
            values = [option.share for option in item.options]
            if any(value is None for value in values):
                # Too few respondents answered this item to show how they answered.
                rows.append(StackRow(item.text, [0.0] * len(values), _("te weinig antwoorden")))
                parts.append(f"{item.text}: {_('te weinig antwoorden')}.")
                continue
            answered = any(value > 0 for value in values)
            rows.append(StackRow(item.text, values, None if answered else _("geen antwoorden")))
            figures = ", ".join(
                f"{option.label} {percent(option.share)}" for option in item.options
            )
            parts.append(f"{item.text} {figures}.")
        charts.append(
            stacked_bar_chart(
                f"grafiek-aantasting-{index}",
                _("Aantasting: aandeel leerlingen per antwoord"),
                " ".join(parts),
                rows,
                list(labels),
            )
        )
    return charts


def groups_chart(report: Report, threshold: int) -> Markup:
    """Bars of the scale means per leerjaar or groep, with only a note for a small group."""
    groups, parts = [], []
    for group in report.groups:
        heading = _("%(group)s (%(n)s respondenten)", group=group.name, n=group.respondents)
        if group.suppressed:
            if group.respondents < threshold:
                note = _("te weinig respondenten")
            else:
                note = _("niet getoond, zodat een kleinere groep niet af te leiden is")
            groups.append(BarGroup(heading, note=note))
            parts.append(f"{heading}: {note}.")
            continue
        bars = []
        figures = []
        for scale in SCALES:
            name = str(SCALE_NAMES[scale])
            mean = group.scales[scale].mean
            bars.append(Bar(name, mean, note=_("geen gegevens")))
            figures.append(f"{name} {number(mean)}")
        groups.append(BarGroup(heading, bars))
        parts.append(f"{heading}: {', '.join(figures)}.")
    return bar_chart(
        "grafiek-groepen",
        _("Gemiddelde per indicator per groep of leerjaar"),
        " ".join(
            [
                _scale_intro(report),
                _(
                    "Groepen met minder dan %(n)s respondenten worden niet getoond, en zo nodig "
                    "ook de kleinste andere groepen.",
                    n=threshold,
                ),
                *parts,
            ]
        ),
        groups,
        axis_max=report.scale_max,
    )


def board_scale_chart(rows: list[BoardRow], scale: str) -> Markup:
    """Bars of one scale's mean per school, each with its sector's comparison value."""
    name = str(SCALE_NAMES[scale])
    bars, parts = [], []
    scale_max = max((row.report.scale_max for row in rows), default=4)
    for row in rows:
        label = f"{row.school.name} ({row.school.code})"
        if row.suppressed:
            note = _("te weinig respondenten")
            bars.append(Bar(label, None, note=note))
            parts.append(f"{label}: {note}.")
            continue
        if row.report.respondents == 0:
            note = _("geen resultaten")
            bars.append(Bar(label, None, note=note))
            parts.append(f"{label}: {note}.")
            continue
        mean = row.report.scales[scale].mean
        reference = row.report.comparison.get(scale)
        bars.append(Bar(label, mean, reference, note=_("geen gegevens")))
        if reference is None:
            parts.append(f"{label}: {number(mean)}.")
        else:
            parts.append(
                _(
                    "%(school)s: %(mean)s, landelijk %(reference)s.",
                    school=label,
                    mean=number(mean),
                    reference=number(reference),
                )
            )
    return bar_chart(
        f"grafiek-bestuur-{scale}",
        _("%(scale)s per school en het landelijk vergelijkingsgetal", scale=name),
        " ".join([_scale_intro(scale_max), *parts]),
        [BarGroup(None, bars)],
        axis_max=scale_max,
        reference_label=_("landelijk"),
    )
