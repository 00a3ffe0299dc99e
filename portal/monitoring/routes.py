"""The report Monitoring Sociale Veiligheid of a school and year."""

from flask import Blueprint, abort, current_app, request
from flask_login import current_user, login_required

from portal.access import school_or_404, sees_whole_brin
from portal.clock import today
from portal.domain.calendar import current_school_year
from portal.domain.delivery import active_request, report_schools
from portal.domain.report import build_report
from portal.models import Respondent, SchoolYear
from portal.rendering import render

bp = Blueprint("monitoring", __name__)


def _report_years(school) -> list[SchoolYear]:
    """Return the years with respondents for the school, newest first, plus the current year."""
    years = set(
        SchoolYear.select()
        .join(Respondent, on=(Respondent.school_year == SchoolYear.id))
        .where(Respondent.school == school)
        .distinct()
    )
    current = current_school_year(today())
    if current:
        years.add(current)
    return sorted(years, key=lambda y: y.name, reverse=True)


@bp.route("/scholen/<int:school_id>/monitoring-sociale-veiligheid")
@login_required
def report(school_id: int):
    school = school_or_404(school_id)
    years = _report_years(school)
    year_name = request.args.get("schooljaar")
    if year_name:
        school_year = next((y for y in years if y.name == year_name), None)
        if school_year is None:
            abort(404)
    else:
        school_year = current_school_year(today()) or (years[0] if years else None)
        if school_year is None:
            abort(404)

    level = request.args.get("niveau", "vestiging")
    whole_brin = sees_whole_brin(current_user, school)
    if level not in ("vestiging", "brin") or (level == "brin" and not whole_brin):
        abort(404)
    schools = report_schools(school, level)
    result = build_report(schools, school_year, current_app.config["SUPPRESSION_THRESHOLD"])
    current = current_school_year(today())
    delivery = active_request(school, current) if current else None
    return render(
        "monitoring/report.html",
        "monitoring/_report.html",
        school=school,
        report=result,
        years=years,
        level=level,
        whole_brin=whole_brin,
        delivery=delivery,
        threshold=current_app.config["SUPPRESSION_THRESHOLD"],
    )
