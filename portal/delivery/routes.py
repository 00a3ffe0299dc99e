"""Requesting delivery to the Inspectie: the form with preview, the status, withdrawal."""

import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import roles_required, school_or_404
from portal.clock import today
from portal.domain.calendar import (
    DeliveryRefused,
    can_still_change,
    check_year_deliverable,
    current_school_year,
    open_leverdata,
)
from portal.domain.delivery import (
    active_request,
    build_payload,
    submit_request,
    withdraw_request,
)
from portal.domain.report import school_instrument
from portal.models import DeliveryRequest, Instrument, SchoolYear
from portal.queue import enqueue_mail_run
from portal.rendering import render

from .forms import ConfirmForm, DeliveryForm
from .messages import refusal_message

bp = Blueprint("delivery", __name__)
logger = logging.getLogger(__name__)

STAFF = ("school_staff", "board_secretary")


def _year_from_request() -> SchoolYear:
    """Return the school year named in the query or form, or the current one."""
    name = request.values.get("schooljaar")
    if not name:
        year = current_school_year(today())
        if year is None:
            abort(404)
        return year
    year = SchoolYear.get_or_none(SchoolYear.name == name)
    if year is None:
        abort(404)
    return year


def _instrument_for(school, school_year) -> Instrument:
    return school_instrument([school], school_year) or Instrument.get(Instrument.code == "msv")


def _render_page(school, school_year, form=None, preview=None, status=200, refusal=None):
    instrument = _instrument_for(school, school_year)
    current = active_request(school, school_year)
    if refusal is None and current is None:
        try:
            check_year_deliverable(school_year, instrument, today())
        except DeliveryRefused as error:
            refusal = refusal_message(error)
    if form is None and current is None and refusal is None:
        form = DeliveryForm(
            today=today(), open_dates=open_leverdata(school_year, instrument, today())
        )
    return render(
        "delivery/request.html",
        "delivery/_request.html",
        status=status,
        school=school,
        school_year=school_year,
        instrument=instrument,
        current=current,
        form=form,
        preview=preview,
        refusal=refusal,
        confirm_form=ConfirmForm(),
        can_change=current is not None
        and current.status in ("submitted", "approved")
        and can_still_change(current.leverdatum, today()),
    )


@bp.route("/scholen/<int:school_id>/levering", methods=["GET"])
@roles_required(*STAFF, "support", "admin")
def show(school_id: int):
    school = school_or_404(school_id)
    return _render_page(school, _year_from_request())


@bp.route("/scholen/<int:school_id>/levering", methods=["POST"])
@roles_required(*STAFF)
def submit(school_id: int):
    school = school_or_404(school_id)
    school_year = _year_from_request()
    instrument = _instrument_for(school, school_year)
    try:
        check_year_deliverable(school_year, instrument, today())
    except DeliveryRefused as error:
        return _render_page(school, school_year, status=422, refusal=refusal_message(error))

    form = DeliveryForm(today=today(), open_dates=open_leverdata(school_year, instrument, today()))
    if not form.validate_on_submit():
        return _render_page(school, school_year, form=form, status=422)

    action = request.form.get("action", "preview")
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    if action in ("preview", "download"):
        payload = build_payload(school, school_year, form.answers(), threshold)
        if action == "download":
            return _payload_response(payload, f"samenvatting-{school.code}-{school_year.name}.json")
        return _render_page(school, school_year, form=form, preview=payload.decode())

    try:
        delivery = submit_request(
            school,
            school_year,
            instrument,
            form.leverdatum.data,
            form.answers(),
            current_user,
            today(),
            threshold,
        )
    except DeliveryRefused as error:
        return _render_page(
            school, school_year, form=form, status=422, refusal=refusal_message(error)
        )

    enqueue_mail_run()
    flash(
        _(
            "Uw aanvraag is ingediend. Het bevoegd gezag moet de levering op %(date)s nog goedkeuren.",
            date=delivery.leverdatum.strftime("%d-%m-%Y"),
        ),
        "success",
    )
    return redirect(url_for("delivery.show", school_id=school.id, schooljaar=school_year.name), 303)


@bp.route("/scholen/<int:school_id>/levering/<int:request_id>/intrekken", methods=["POST"])
@roles_required(*STAFF)
def withdraw(school_id: int, request_id: int):
    school = school_or_404(school_id)
    delivery = _request_or_404(school, request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        withdraw_request(delivery, current_user, today())
    except DeliveryRefused as error:
        return _render_page(
            school, delivery.school_year, status=422, refusal=refusal_message(error)
        )
    flash(_("De aanvraag is ingetrokken. Er wordt niets verstuurd."), "success")
    return redirect(
        url_for("delivery.show", school_id=school.id, schooljaar=delivery.school_year.name), 303
    )


@bp.route("/scholen/<int:school_id>/levering/<int:request_id>/samenvatting.json")
@roles_required(*STAFF, "support", "admin")
def payload(school_id: int, request_id: int):
    school = school_or_404(school_id)
    delivery = _request_or_404(school, request_id)
    return _payload_response(
        delivery.payload.encode(), f"samenvatting-{school.code}-{delivery.school_year.name}.json"
    )


def _request_or_404(school, request_id: int) -> DeliveryRequest:
    delivery = DeliveryRequest.get_or_none(
        (DeliveryRequest.id == request_id) & (DeliveryRequest.school == school)
    )
    if delivery is None:
        abort(404)
    return delivery


def _payload_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
