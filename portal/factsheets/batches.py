"""Bulk factsheets for the support desk: start a batch, follow it, retry failures, get the ZIP."""

import logging

from flask import abort, current_app, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.access import roles_required
from portal.domain import audit, factsheets
from portal.models import Board, FactsheetBatch, FactsheetJob, School, SchoolYear
from portal.rendering import render

from .forms import BatchForm
from .routes import bp

logger = logging.getLogger(__name__)

SUPPORT_ROLES = ("support", "admin")


def _batch_or_404(batch_id: int) -> FactsheetBatch:
    batch = FactsheetBatch.get_or_none(FactsheetBatch.id == batch_id)
    if batch is None:
        abort(404)
    return batch


def _form() -> BatchForm:
    form = BatchForm()
    form.schooljaar.choices = [
        SelectChoice(year.name, year.name)
        for year in SchoolYear.select().order_by(SchoolYear.name.desc())
    ]
    return form


def _render_new(form: BatchForm, status: int = 200):
    recent = FactsheetBatch.select().order_by(FactsheetBatch.id.desc()).limit(20)
    return render(
        "factsheets/batch_new.html",
        "factsheets/_batch_form.html",
        status=status,
        form=form,
        recent=recent,
    )


@bp.route("/helpdesk/factsheets")
@roles_required(*SUPPORT_ROLES)
def batches():
    return _render_new(_form())


@bp.route("/helpdesk/factsheets", methods=["POST"])
@roles_required(*SUPPORT_ROLES)
def start_batch():
    form = _form()
    if not form.validate_on_submit():
        return _render_new(form, 422)

    school_year = SchoolYear.get(SchoolYear.name == form.schooljaar.data)
    school = board = None
    if form.scope.data == "school":
        code = form.school_code.data or ""
        school = School.get_or_none((School.brin == code[:4]) & (School.vestiging == code[4:]))
        if len(code) != 6 or school is None:
            form.school_code.errors.append(
                _("Geen school gevonden met locatiecode %(code)s.", code=code)
            )
            return _render_new(form, 422)
    elif form.scope.data == "board":
        board = Board.get_or_none(Board.number == (form.board_number.data or ""))
        if board is None:
            form.board_number.errors.append(
                _(
                    "Geen bestuur gevonden met nummer %(number)s.",
                    number=form.board_number.data or "",
                )
            )
            return _render_new(form, 422)

    batch = factsheets.start_batch(form.scope.data, school_year, current_user, school, board)
    if not batch.jobs.count():
        flash(_("Er zijn geen scholen gevonden voor deze keuze."), "info")
    audit.record(
        "factsheet.batch_started",
        current_user,
        school,
        batch,
        scope=batch.scope,
        board=board.number if board else None,
        school_year=school_year.name,
    )
    return redirect(url_for("factsheets.batch", batch_id=batch.id), 303)


@bp.route("/helpdesk/factsheets/<int:batch_id>")
@roles_required(*SUPPORT_ROLES)
def batch(batch_id: int):
    batch = _batch_or_404(batch_id)
    jobs = list(
        FactsheetJob.select(FactsheetJob, School)
        .join(School)
        .where(FactsheetJob.batch == batch)
        .order_by(School.brin, School.vestiging)
    )
    factsheets.mark_dead_jobs(jobs)
    counts = factsheets.batch_counts(batch)
    return render(
        "factsheets/batch.html",
        "factsheets/_batch.html",
        batch=batch,
        counts=counts,
        failed=[job for job in jobs if job.status == "failed"],
        active=counts["queued"] + counts["running"] > 0,
        poll_seconds=current_app.config.get("FACTSHEET_POLL_SECONDS", 1),
    )


@bp.route("/helpdesk/factsheets/<int:batch_id>/zip")
@roles_required(*SUPPORT_ROLES)
def batch_zip(batch_id: int):
    batch = _batch_or_404(batch_id)
    counts = factsheets.batch_counts(batch)
    if counts["queued"] + counts["running"]:
        # A ZIP built now would be kept and miss the factsheets that are still being made.
        flash(
            _("De reeks is nog niet klaar. Download de ZIP als alle factsheets klaar zijn."),
            "error",
        )
        return redirect(url_for("factsheets.batch", batch_id=batch.id), 303)
    path = factsheets.batch_zip(batch)
    logger.info("factsheet batch=%s zip downloaded user=%s", batch.id, current_user.id)
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"factsheets-{batch.school_year.name}-{batch.id}.zip",
    )
