"""Factsheet PDFs: start a build (POST), watch its progress, download the result."""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jobs.general_factsheet_pdf import render_general_factsheet
from portal.access import school_or_404, visible_schools
from portal.clock import today, utcnow
from portal.delivery.forms import ConfirmForm
from portal.domain import audit, factsheets
from portal.domain.calendar import current_school_year, school_year_name
from portal.models import FactsheetJob, Respondent, School, SchoolYear
from portal.rendering import render

bp = Blueprint("factsheets", __name__)
logger = logging.getLogger(__name__)


def _offered(school, school_year) -> bool:
    """Tell whether the report page offers this year: it has answers, or it is current."""
    current = current_school_year(today())
    if current is not None and current.id == school_year.id:
        return True
    return (
        Respondent.select()
        .where((Respondent.school == school) & (Respondent.school_year == school_year))
        .exists()
    )


@bp.route("/scholen/<int:school_id>/factsheets", methods=["POST"])
@login_required
def start(school_id: int):
    school = school_or_404(school_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    school_year = SchoolYear.get_or_none(SchoolYear.name == request.form.get("schooljaar", ""))
    if school_year is None or not _offered(school, school_year):
        abort(404)

    job = FactsheetJob.create(
        school=school, school_year=school_year, requested_by=current_user, created_at=utcnow()
    )
    if not factsheets.enqueue(job):
        flash(_("De factsheet kon niet worden gestart. Probeer het later opnieuw."), "error")
        return redirect(url_for("factsheets.status", job_id=job.id), 303)
    audit.record("factsheet.requested", current_user, school, job, school_year=school_year.name)
    return redirect(url_for("factsheets.status", job_id=job.id), 303)


def _job_or_404(job_id: int) -> FactsheetJob:
    job = (
        FactsheetJob.select()
        .join(School)
        .where(
            (FactsheetJob.id == job_id)
            & (School.id.in_(visible_schools(current_user).select(School.id)))
        )
        .first()
    )
    if job is None:
        abort(404)
    return job


@bp.route("/factsheets/algemeen.pdf")
@login_required
def general():
    # Built on request rather than by a worker: the PDF takes well under a second, contains no
    # school data, and so always shows the calendar's current leverdata without a stored
    # copy going stale when an admin changes the dates.
    pdf = render_general_factsheet(
        today(), current_app.config["HELPDESK_EMAIL"], current_app.config["PORTAL_BASE_URL"]
    )
    response = make_response(pdf)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="factsheet-levering-{school_year_name(today())}.pdf"'
    )
    return response


@bp.route("/factsheets/<int:job_id>")
@login_required
def status(job_id: int):
    job = _job_or_404(job_id)
    factsheets.mark_dead_jobs([job])
    return render(
        "factsheets/status.html",
        "factsheets/_status.html",
        job=job,
        poll_seconds=current_app.config.get("FACTSHEET_POLL_SECONDS", 1),
    )


@bp.route("/factsheets/<int:job_id>/opnieuw", methods=["POST"])
@login_required
def retry(job_id: int):
    job = _job_or_404(job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    factsheets.mark_dead_jobs([job])
    if factsheets.retry(job):
        audit.record("factsheet.retried", current_user, job.school, job)
    else:
        flash(_("Alleen een mislukte factsheet kan opnieuw worden gemaakt."), "error")
    back = request.form.get("terug")
    if back == "batch" and job.batch_id:
        return redirect(url_for("factsheets.batch", batch_id=job.batch_id), 303)
    return redirect(url_for("factsheets.status", job_id=job.id), 303)


@bp.route("/factsheets/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = _job_or_404(job_id)
    if job.status != "done" or not job.file_path:
        abort(404)
    path = current_app.config["PORTAL_DATA_DIR"] / job.file_path
    if not path.is_file():
        abort(404)
    filename = f"factsheet-{job.school.code}-{job.school_year.name}.pdf"
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=filename)


from . import batches  # noqa: E402,F401 - registers the batch routes on bp
