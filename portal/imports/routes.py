"""Import of survey results per school, school year and instrument."""

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import school_or_404, visible_schools
from portal.clock import today
from portal.delivery.forms import ConfirmForm
from portal.domain import audit
from portal.domain.imports import create_import, import_formats, run_import
from portal.domain.imports.export import export_csv, template_csv
from portal.domain.imports.queueing import (
    can_retry,
    enqueue,
    inline_max_bytes,
    mark_dead,
    remove_file,
    retry,
    store_file,
)
from portal.domain.report import school_instrument
from portal.models import Instrument, Questionnaire, School, SchoolYear, SurveyImport
from portal.rendering import render
from portal.uploads import accepts_files

from .forms import ImportForm

bp = Blueprint("imports", __name__)
logger = logging.getLogger(__name__)

# Board secretaries approve deliveries but do not change a school's data.
IMPORT_ROLES = ("school_staff", "support", "admin")
HISTORY_LENGTH = 20


def _school_or_404(school_id: int) -> School:
    if current_user.role not in IMPORT_ROLES:
        abort(404)
    return school_or_404(school_id)


def _offered_years() -> list[SchoolYear]:
    """Return the current school year and the earlier ones that have a questionnaire, newest first."""
    first = (
        SchoolYear.select(SchoolYear.name)
        .join(Questionnaire, on=(Questionnaire.valid_from == SchoolYear.id))
        .order_by(SchoolYear.name)
        .first()
    )
    if first is None:
        return []
    return list(
        SchoolYear.select()
        .where((SchoolYear.name >= first.name) & (SchoolYear.starts_on <= today()))
        .order_by(SchoolYear.name.desc())
    )


def _build_form(school: School) -> ImportForm:
    """Return the upload form with its choices; on POST it holds the submitted values."""
    form = ImportForm()
    years = _offered_years()
    form.schooljaar.choices = [(y.name, y.name) for y in years]
    instruments = list(Instrument.select().order_by(Instrument.external, Instrument.name))
    form.instrument.choices = [(i.code, i.name) for i in instruments]
    form.formaat.choices = [(f.code, f.label) for f in import_formats().values()]
    if not form.is_submitted() and years:
        form.schooljaar.data = years[0].name
        used = school_instrument([school], years[0])
        form.instrument.data = used.code if used else "msv"
        form.formaat.data = used.code if used and used.code in import_formats() else "msv"
    return form


def _history(school: School) -> list[SurveyImport]:
    # Newest first by id: created_at goes back a day at midnight under PORTAL_TODAY.
    imports = list(
        SurveyImport.select()
        .where(SurveyImport.school == school)
        .order_by(SurveyImport.id.desc())
        .limit(HISTORY_LENGTH)
    )
    for survey_import in imports:
        mark_dead(survey_import)
    return imports


def _render_upload(school, form, result=None, status=200):
    return render(
        "imports/upload.html",
        "imports/_upload.html",
        status=status,
        school=school,
        form=form,
        result=result,
        history=_history(school),
    )


@bp.route("/scholen/<int:school_id>/importeren", methods=["GET", "POST"])
@accepts_files("UPLOAD_MAX_BYTES", roles=IMPORT_ROLES)
@login_required
def upload(school_id: int):
    school = _school_or_404(school_id)
    if request.method == "GET":
        return _render_upload(school, _build_form(school))

    form = _build_form(school)
    if not form.validate_on_submit():
        return _render_upload(school, form, status=422)
    school_year = SchoolYear.get(SchoolYear.name == form.schooljaar.data)
    instrument = Instrument.get(Instrument.code == form.instrument.data)
    upload_file = form.bestand.data
    data = upload_file.read()
    filename = upload_file.filename or "bestand"

    survey_import = create_import(
        school, school_year, instrument, form.formaat.data, filename, data, current_user
    )
    if len(data) > inline_max_bytes():
        store_file(survey_import, data)
        if not enqueue(survey_import):
            remove_file(survey_import)
            flash(_("Het inlezen kon niet worden gestart. Probeer het later opnieuw."), "error")
        return redirect(url_for("imports.status", import_id=survey_import.id), 303)

    run_import(survey_import, data, current_app.config["SUPPRESSION_THRESHOLD"])
    if survey_import.status != "completed":
        return _render_upload(school, form, survey_import, 422)
    flash(
        _(
            "Het bestand %(filename)s is ingelezen: %(count)s respondenten.",
            filename=survey_import.filename,
            count=survey_import.rows,
        ),
        "success",
    )
    return redirect(url_for("imports.status", import_id=survey_import.id), 303)


def _import_or_404(import_id: int) -> SurveyImport:
    if current_user.role not in IMPORT_ROLES:
        abort(404)
    survey_import = (
        SurveyImport.select()
        .where(
            (SurveyImport.id == import_id)
            & (SurveyImport.school.in_(visible_schools(current_user).select(School.id)))
        )
        .first()
    )
    if survey_import is None:
        abort(404)
    return survey_import


@bp.route("/importen/<int:import_id>")
@login_required
def status(import_id: int):
    survey_import = _import_or_404(import_id)
    mark_dead(survey_import)
    return render(
        "imports/status.html",
        "imports/_status.html",
        survey_import=survey_import,
        retryable=can_retry(survey_import),
        poll_seconds=current_app.config.get("IMPORT_POLL_SECONDS", 1),
    )


@bp.route("/importen/<int:import_id>/opnieuw", methods=["POST"])
@login_required
def retry_import(import_id: int):
    survey_import = _import_or_404(import_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mark_dead(survey_import)
    if retry(survey_import):
        audit.record("import.retried", current_user, survey_import.school, survey_import)
    else:
        flash(
            _(
                "Dit bestand kan niet opnieuw worden ingelezen. Kies het bestand opnieuw op de importpagina."
            ),
            "error",
        )
    return redirect(url_for("imports.status", import_id=survey_import.id), 303)


def _year_and_instrument() -> tuple[SchoolYear, Instrument]:
    school_year = SchoolYear.get_or_none(SchoolYear.name == request.args.get("schooljaar", ""))
    instrument = Instrument.get_or_none(Instrument.code == request.args.get("instrument", "msv"))
    if school_year is None or instrument is None:
        abort(404)
    return school_year, instrument


def _csv_response(text: str, filename: str) -> Response:
    # With a BOM, Excel opens the UTF-8 file with the right characters.
    response = Response(("\ufeff" + text).encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/scholen/<int:school_id>/importeren/export.csv")
@login_required
def export(school_id: int):
    school = _school_or_404(school_id)
    school_year, instrument = _year_and_instrument()
    # The export holds rows per respondent, so every download is logged.
    logger.info(
        "respondents exported user=%s school=%s year=%s instrument=%s",
        current_user.id,
        school.id,
        school_year.name,
        instrument.code,
    )
    return _csv_response(
        export_csv(school, school_year, instrument),
        f"respondenten-{school.code}-{school_year.name}-{instrument.code}.csv",
    )


@bp.route("/scholen/<int:school_id>/importeren/sjabloon.csv")
@login_required
def template(school_id: int):
    school = _school_or_404(school_id)
    school_year, instrument = _year_and_instrument()
    return _csv_response(
        template_csv(school, school_year, instrument),
        f"sjabloon-{school.code}-{school_year.name}-{instrument.code}.csv",
    )
