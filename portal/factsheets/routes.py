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
from redis.exceptions import RedisError

from jobs.general_factsheet_pdf import render_general_factsheet
from portal.access import school_or_404, visible_schools
from portal.clock import today, utcnow
from portal.delivery.forms import ConfirmForm
from portal.domain import audit
from portal.domain.calendar import school_year_name
from portal.models import FactsheetJob, School, SchoolYear
from portal.queue import get_queue
from portal.rendering import render

bp = Blueprint("factsheets", __name__)
logger = logging.getLogger(__name__)

# A school factsheet of the largest school takes well under a second; this leaves room.
JOB_TIMEOUT_SECONDS = 120


@bp.route("/scholen/<int:school_id>/factsheets", methods=["POST"])
@login_required
def start(school_id: int):
    school = school_or_404(school_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    school_year = SchoolYear.get_or_none(SchoolYear.name == request.form.get("schooljaar", ""))
    if school_year is None:
        abort(404)

    job = FactsheetJob.create(
        school=school, school_year=school_year, requested_by=current_user, created_at=utcnow()
    )
    try:
        rq_job = get_queue().enqueue(
            "jobs.factsheets.build_factsheet",
            job.id,
            job_timeout=JOB_TIMEOUT_SECONDS,
            failure_ttl=7 * 24 * 3600,
        )
    except RedisError:
        logger.exception("factsheet job=%s could not be queued", job.id)
        job.status = "failed"
        job.error = "queue unavailable"
        job.save()
        flash(_("De factsheet kon niet worden gestart. Probeer het later opnieuw."), "error")
        return redirect(url_for("factsheets.status", job_id=job.id), 303)

    job.rq_job_id = rq_job.id
    job.save(only=[FactsheetJob.rq_job_id])
    audit.record("factsheet.requested", current_user, school, job, school_year=school_year.name)
    logger.info(
        "factsheet job=%s school=%s year=%s queued rq=%s",
        job.id,
        school.id,
        school_year.name,
        rq_job.id,
    )
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
    # Built on request rather than by a worker: the PDF takes well under a second, holds no
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
    return render(
        "factsheets/status.html",
        "factsheets/_status.html",
        job=job,
        poll_seconds=current_app.config.get("FACTSHEET_POLL_SECONDS", 1),
    )


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
