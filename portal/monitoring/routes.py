"""The report Monitoring Sociale Veiligheid of a school, and of all schools of a board."""

import logging

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.access import roles_required, school_or_404, sees_whole_brin
from portal.clock import today
from portal.domain.calendar import current_school_year
from portal.domain.delivery import active_request, report_schools
from portal.domain.report import RELIABLE_RESPONSE_RATE, BoardRow, build_board_report, build_report
from portal.domain.spreadsheet import csv_bytes
from portal.models import SCALES, Board, Respondent, School, SchoolYear
from portal.rendering import render

from . import figures

bp = Blueprint("monitoring", __name__)
logger = logging.getLogger(__name__)

BOARD_REPORT_ROLES = ("board_secretary", "support", "admin")


def _years_with_respondents(schools_query) -> list[SchoolYear]:
    """Return the years with respondents at these schools, plus the current year, newest first."""
    years = set(
        SchoolYear.select()
        .join(Respondent, on=(Respondent.school_year == SchoolYear.id))
        .where(Respondent.school.in_(schools_query))
        .distinct()
    )
    current = current_school_year(today())
    if current:
        years.add(current)
    return sorted(years, key=lambda y: y.name, reverse=True)


def _chosen_year(years: list[SchoolYear]) -> SchoolYear:
    """Return the year of ?schooljaar=, or the current one. A year without a report is a 404."""
    year_name = request.args.get("schooljaar")
    if year_name:
        school_year = next((y for y in years if y.name == year_name), None)
        if school_year is None:
            abort(
                404,
                _l(
                    "Een rapport van schooljaar %(year)s bestaat niet. Kies een schooljaar uit de lijst.",
                    year=year_name[:20],
                ),
            )
        return school_year
    school_year = current_school_year(today()) or (years[0] if years else None)
    if school_year is None:
        abort(404)
    return school_year


@bp.route("/scholen/<int:school_id>/monitoring-sociale-veiligheid")
@login_required
def report(school_id: int):
    school = school_or_404(school_id)
    years = _years_with_respondents([school])
    school_year = _chosen_year(years)

    level = request.args.get("niveau", "vestiging")
    whole_brin = sees_whole_brin(current_user, school)
    if level not in ("vestiging", "brin") or (level == "brin" and not whole_brin):
        abort(404)
    schools = report_schools(school, level)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    result = build_report(schools, school_year, threshold)
    current = current_school_year(today())
    delivery = active_request(school, current) if current else None
    charts = {}
    if result.respondents and not result.suppressed:
        charts = {
            "scales": figures.scales_chart(result),
            "groups": figures.groups_chart(result, threshold),
            "victimisation": figures.victimisation_charts(result),
            "trend": figures.trend_chart(result) if len(result.trend) > 1 else None,
        }
    return render(
        "monitoring/report.html",
        "monitoring/_report.html",
        school=school,
        report=result,
        charts=charts,
        years=years,
        level=level,
        whole_brin=whole_brin,
        delivery=delivery,
        threshold=threshold,
        reliable_rate=RELIABLE_RESPONSE_RATE,
    )


def _board_or_404(board_id: int) -> Board:
    """Return the board if the current user may see its report, else abort with 404."""
    if current_user.role == "board_secretary" and current_user.board_id != board_id:
        abort(404)
    board = Board.get_or_none(Board.id == board_id)
    if board is None:
        abort(404)
    return board


def _board_rows(board: Board) -> tuple[list[SchoolYear], SchoolYear, list[BoardRow]]:
    years = _years_with_respondents(School.select(School.id).where(School.board == board))
    school_year = _chosen_year(years)
    rows = build_board_report(board, school_year, current_app.config["SUPPRESSION_THRESHOLD"])
    return years, school_year, rows


@bp.route("/besturen/<int:board_id>/monitoring-sociale-veiligheid")
@roles_required(*BOARD_REPORT_ROLES)
def board_report(board_id: int):
    board = _board_or_404(board_id)
    years, school_year, rows = _board_rows(board)
    shown = [row for row in rows if row.report.respondents and not row.report.suppressed]
    charts = {scale: figures.board_scale_chart(rows, scale) for scale in SCALES} if shown else {}
    return render(
        "monitoring/board_report.html",
        "monitoring/_board_report.html",
        board=board,
        years=years,
        school_year=school_year,
        rows=rows,
        charts=charts,
        threshold=current_app.config["SUPPRESSION_THRESHOLD"],
        scale_names=figures.SCALE_NAMES,
        scale_max=max((row.report.scale_max for row in rows), default=4),
        reliable_rate=RELIABLE_RESPONSE_RATE,
    )


@bp.route("/besturen/<int:board_id>/monitoring-sociale-veiligheid.csv")
@roles_required(*BOARD_REPORT_ROLES)
def board_report_csv(board_id: int):
    board = _board_or_404(board_id)
    _years, school_year, rows = _board_rows(board)

    def decimal(value) -> str:
        return format_decimal(value, "0.00") if value is not None else ""

    def share(value) -> str:
        return format_percent(value, "0%") if value is not None else ""

    header = [
        _("School"),
        _("Locatiecode"),
        _("Sector"),
        _("Respondenten"),
        _("Leerlingen op 1 oktober"),
        _("Respons"),
        _("Betrouwbaar"),
    ]
    for scale in SCALES:
        name = str(figures.SCALE_NAMES[scale])
        header += [
            _("%(scale)s gemiddelde", scale=name),
            _("%(scale)s positief", scale=name),
            _("%(scale)s landelijk", scale=name),
        ]
    header.append(_("Toelichting"))

    lines = []
    for row in rows:
        result = row.report
        line = [
            row.school.name,
            row.school.code,
            row.school.sector,
            result.respondents,
            result.pupils if result.pupils is not None else "",
            share(result.response_rate),
            _("ja") if result.reliable else _("nee"),
        ]
        hidden = result.suppressed or result.respondents == 0
        for scale in SCALES:
            scale_result = result.scales[scale]
            line += [
                "" if hidden else decimal(scale_result.mean),
                "" if hidden else share(scale_result.positive_share),
                decimal(result.comparison.get(scale)),
            ]
        if result.suppressed:
            note = _(
                "Te weinig respondenten: minder dan %(n)s, dus geen uitkomsten.",
                n=current_app.config["SUPPRESSION_THRESHOLD"],
            )
        elif result.respondents == 0:
            note = _("Geen resultaten in dit schooljaar.")
        else:
            note = ""
        line.append(note)
        lines.append(line)

    filename = f"monitoring-sociale-veiligheid-{board.number}-{school_year.name}.csv"
    logger.info(
        "board report exported board=%s year=%s rows=%d by user=%s",
        board.id,
        school_year.name,
        len(lines),
        current_user.id,
    )
    return Response(
        csv_bytes(header, lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
