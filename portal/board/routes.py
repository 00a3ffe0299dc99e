"""The board secretary's overview: every school of the board and its delivery state, with
decisions on several requests at once and direct consent for several schools."""

import logging
from dataclasses import dataclass

import peewee
from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import roles_required, visible_schools
from portal.clock import today
from portal.delivery.forms import ConfirmForm, RejectForm
from portal.delivery.messages import refusal_message
from portal.domain.board import DEFAULT_WARNING_DAYS, SchoolStatus, State, school_statuses
from portal.domain.calendar import DeliveryRefused, current_school_year, delivery_dates
from portal.domain.delivery import approve_request, reject_request, submit_request
from portal.domain.spreadsheet import csv_bytes
from portal.models import DeliveryRequest, Instrument, School, SchoolYear, db
from portal.queue import enqueue_mail_run
from portal.rendering import render

from .forms import APPROVE, REJECT, BulkConsentForm, BulkDecisionForm
from .messages import STATE_LABELS, next_step, risk_message, state_description, state_label

bp = Blueprint("board", __name__, url_prefix="/bestuur")
logger = logging.getLogger(__name__)

# Values of the filter in the query string (?stand=...), in the order of its menu. An
# empty value shows every school, and "risico" the schools at risk of missing the last
# leverdatum.
STATE_FILTERS = {
    "geen-gegevens": State.NO_DATA,
    "geen-aanvraag": State.NO_REQUEST,
    "wacht": State.WAITING,
    "ingepland": State.SCHEDULED,
    "geleverd": State.DELIVERED,
    "mislukt": State.FAILED,
}
AT_RISK_FILTER = "risico"


@dataclass
class Result:
    """The outcome of a bulk action for one school, with a Dutch message for the result list."""

    school: School
    ok: bool
    message: str


def _school_year_or_404() -> SchoolYear:
    school_year = current_school_year(today())
    if school_year is None:
        abort(404)
    return school_year


def _statuses(school_year: SchoolYear) -> list[SchoolStatus]:
    warning_days = current_app.config.get("BOARD_DEADLINE_WARNING_DAYS", DEFAULT_WARNING_DAYS)
    schools = list(visible_schools(current_user))
    return school_statuses(schools, school_year, today(), warning_days)


def _filtered(rows: list[SchoolStatus], slug: str) -> list[SchoolStatus]:
    if slug == AT_RISK_FILTER:
        return [row for row in rows if row.at_risk]
    if slug in STATE_FILTERS:
        return [row for row in rows if row.state == STATE_FILTERS[slug]]
    return rows


def _filter_options(rows: list[SchoolStatus]) -> list[dict]:
    options = [{"slug": "", "label": _("Alle scholen"), "count": len(rows)}]
    options.append(
        {
            "slug": AT_RISK_FILTER,
            "label": _("Loopt risico"),
            "count": sum(1 for row in rows if row.at_risk),
        }
    )
    for slug, state in STATE_FILTERS.items():
        options.append(
            {
                "slug": slug,
                "label": str(STATE_LABELS[state]),
                "count": sum(1 for row in rows if row.state == state),
            }
        )
    return options


def _filter_slug() -> tuple[str, str | None]:
    """Return the filter of the query string and a Dutch error when it is unknown."""
    slug = request.args.get("stand", "").strip()
    if slug in ("", AT_RISK_FILTER) or slug in STATE_FILTERS:
        return slug, None
    return "", _("Dit filter bestaat niet. Kies een stand uit de lijst.")


def _consent_dates(eligible: list[SchoolStatus]) -> list:
    """Return every leverdatum still open for at least one school without a request."""
    return sorted({day for row in eligible for day in row.open_dates})


def _consent_form(eligible: list[SchoolStatus], formdata=True) -> BulkConsentForm:
    options = {"today": today(), "open_dates": _consent_dates(eligible), "prefix": "toestemming"}
    if formdata is None:
        return BulkConsentForm(formdata=None, **options)
    return BulkConsentForm(**options)


def _render_overview(
    status: int = 200,
    decision_form: BulkDecisionForm | None = None,
    consent_form: BulkConsentForm | None = None,
    results: list[Result] | None = None,
):
    school_year = _school_year_or_404()
    rows = _statuses(school_year)
    filter_slug, filter_error = _filter_slug()
    if filter_error and status == 200:
        status = 422
    eligible = [row for row in rows if row.state == State.NO_REQUEST]
    instrument = Instrument.get_or_none(Instrument.code == "msv")
    return render(
        "board/overview.html",
        "board/_overview.html",
        status=status,
        school_year=school_year,
        year_dates=delivery_dates(school_year, instrument) if instrument else [],
        rows=rows,
        shown=_filtered(rows, filter_slug),
        filter_slug=filter_slug,
        filter_error=filter_error,
        filter_options=_filter_options(rows),
        at_risk=[row for row in rows if row.at_risk],
        waiting=[row for row in rows if row.state == State.WAITING],
        eligible=eligible,
        consent_dates=_consent_dates(eligible),
        decision_form=decision_form or BulkDecisionForm(formdata=None, prefix="besluit"),
        consent_form=consent_form or _consent_form(eligible, formdata=None),
        results=results,
        state_label=state_label,
        state_description=state_description,
        risk_message=risk_message,
        next_step=next_step,
    )


@bp.route("/")
@roles_required("board_secretary")
def overview():
    return _render_overview()


@bp.route("/overzicht.csv")
@roles_required("board_secretary")
def export_csv():
    filter_slug, filter_error = _filter_slug()
    if filter_error:
        return _render_overview()
    school_year = _school_year_or_404()
    rows = _filtered(_statuses(school_year), filter_slug)

    def day(value) -> str:
        return value.strftime("%d-%m-%Y") if value else ""

    header = [
        _("School"),
        _("Locatiecode"),
        _("Plaats"),
        _("Stand"),
        _("Leverdatum"),
        _("Geleverd op"),
        _("Loopt risico"),
        _("Toelichting"),
    ]
    lines = []
    for row in rows:
        delivery = row.request
        explanation = [state_description(row)]
        if row.at_risk:
            explanation += [risk_message(risk) for risk in row.risks] + [next_step(row)]
        lines.append(
            [
                row.school.name,
                row.school.code,
                row.school.place,
                state_label(row.state),
                day(delivery.leverdatum) if delivery else "",
                day(row.shown_date) if row.state == State.DELIVERED else "",
                _("ja") if row.at_risk else _("nee"),
                " ".join(part for part in explanation if part),
            ]
        )
    board = current_user.board
    filename = f"leveringen-{board.number}-{school_year.name}.csv"
    logger.info("board=%s overview exported rows=%d", board.id, len(lines))
    return Response(
        csv_bytes(header, lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _board_requests_or_404(request_ids: list[int]) -> list[DeliveryRequest]:
    """Return the board's requests with these ids in the given order, or abort with 404."""
    if not request_ids:
        return []
    found = {
        delivery.id: delivery
        for delivery in DeliveryRequest.select(DeliveryRequest, School)
        .join(School)
        .where(DeliveryRequest.id.in_(request_ids) & (School.board == current_user.board_id))
    }
    if len(found) != len(request_ids):
        abort(404)
    return [found[request_id] for request_id in request_ids]


@bp.route("/aanvragen", methods=["POST"])
@roles_required("board_secretary")
def decide():
    form = BulkDecisionForm(prefix="besluit")
    deliveries = _board_requests_or_404(form.request_ids.data or [])
    if not form.validate_on_submit():
        return _render_overview(status=422, decision_form=form)

    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    reason = (form.reason.data or "").strip()
    results = []
    for delivery in deliveries:
        try:
            if form.action.data == APPROVE:
                approve_request(delivery, current_user, today(), threshold)
                message = _(
                    "Goedgekeurd, de levering is ingepland op %(date)s.",
                    date=format_date(delivery.leverdatum, "d MMMM y"),
                )
            else:
                reject_request(delivery, current_user, reason)
                message = _("Afgewezen. De school ziet de reden.")
        except DeliveryRefused as error:
            logger.info("board bulk decision request=%s rejected code=%s", delivery.id, error.code)
            results.append(Result(delivery.school, False, refusal_message(error)))
            continue
        results.append(Result(delivery.school, True, message))

    succeeded = sum(1 for result in results if result.ok)
    if succeeded:
        enqueue_mail_run()
    logger.info(
        "board=%s bulk %s requests=%d succeeded=%d by user=%s",
        current_user.board_id,
        "approve" if form.action.data == APPROVE else "reject",
        len(results),
        succeeded,
        current_user.id,
    )
    # The outcome is shown on this response rather than flashed across a redirect: one
    # line per school can outgrow the session cookie. Sending the form again is harmless,
    # since every request already decided is reported as changed.
    return _render_overview(status=200 if succeeded else 409, results=results)


def _give_consent(row: SchoolStatus, form: BulkConsentForm, school_year: SchoolYear) -> Result:
    """Create an approved request for one school in its own transaction."""
    school = row.school
    if row.state == State.NO_DATA:
        return Result(
            school, False, _("Er zijn voor deze school nog geen gegevens van dit schooljaar.")
        )
    if row.state != State.NO_REQUEST:
        return Result(school, False, refusal_message(DeliveryRefused("already_requested")))

    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    leverdatum = form.leverdatum.data
    try:
        with db.atomic():
            delivery = submit_request(
                school,
                school_year,
                row.instrument,
                leverdatum,
                form.answers_for(row.groups),
                current_user,
                today(),
                threshold,
                notify_board=False,
            )
            approve_request(delivery, current_user, today())
    except DeliveryRefused as error:
        logger.info("board consent school=%s rejected code=%s", school.id, error.code)
        return Result(school, False, refusal_message(error))
    except peewee.IntegrityError:
        # Someone else submitted a request for this school at the same moment.
        logger.warning("board consent school=%s lost to a concurrent request", school.id)
        return Result(school, False, refusal_message(DeliveryRefused("already_requested")))
    return Result(
        school,
        True,
        _(
            "Toestemming gegeven, de levering is ingepland op %(date)s.",
            date=format_date(leverdatum, "d MMMM y"),
        ),
    )


@bp.route("/toestemming", methods=["POST"])
@roles_required("board_secretary")
def consent():
    school_year = _school_year_or_404()
    rows = {row.school.id: row for row in _statuses(school_year)}
    eligible = [row for row in rows.values() if row.state == State.NO_REQUEST]
    form = _consent_form(eligible)
    if any(school_id not in rows for school_id in form.school_ids.data or []):
        abort(404)
    if not form.validate_on_submit():
        return _render_overview(status=422, consent_form=form)

    results = [
        _give_consent(rows[school_id], form, school_year) for school_id in form.school_ids.data
    ]
    succeeded = sum(1 for result in results if result.ok)
    if succeeded:
        enqueue_mail_run()
    logger.info(
        "board=%s bulk consent leverdatum=%s schools=%d succeeded=%d by user=%s",
        current_user.board_id,
        form.leverdatum.data,
        len(results),
        succeeded,
        current_user.id,
    )
    return _render_overview(status=200 if succeeded else 409, results=results)


def _board_request_or_404(request_id: int) -> DeliveryRequest:
    return _board_requests_or_404([request_id])[0]


@bp.route("/aanvragen/<int:request_id>/goedkeuren", methods=["POST"])
@roles_required("board_secretary")
def approve(request_id: int):
    delivery = _board_request_or_404(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        approve_request(
            delivery, current_user, today(), current_app.config["SUPPRESSION_THRESHOLD"]
        )
    except DeliveryRefused as error:
        flash(refusal_message(error), "error")
        return _render_overview(status=409)
    enqueue_mail_run()
    flash(
        _(
            "De levering van %(school)s op %(date)s is goedgekeurd.",
            school=delivery.school.name,
            date=delivery.leverdatum.strftime("%d-%m-%Y"),
        ),
        "success",
    )
    return redirect(url_for("board.overview"), 303)


@bp.route("/aanvragen/<int:request_id>/afwijzen", methods=["POST"])
@roles_required("board_secretary")
def reject(request_id: int):
    delivery = _board_request_or_404(request_id)
    form = RejectForm(prefix=f"r{delivery.id}")
    if not form.validate_on_submit():
        decision_form = BulkDecisionForm(
            formdata=None, prefix="besluit", data={"request_ids": [delivery.id], "action": REJECT}
        )
        decision_form.reason.errors = list(form.reason.errors)
        return _render_overview(status=422, decision_form=decision_form)
    try:
        reject_request(delivery, current_user, form.reason.data.strip())
    except DeliveryRefused as error:
        flash(refusal_message(error), "error")
        return _render_overview(status=409)
    enqueue_mail_run()
    flash(_("De aanvraag van %(school)s is afgewezen.", school=delivery.school.name), "success")
    return redirect(url_for("board.overview"), 303)
