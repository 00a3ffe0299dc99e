"""Requesting delivery to the Inspectie: the form with preview, the status, withdrawal."""

import json
import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import roles_required, school_or_404, sees_whole_brin
from portal.clock import today
from portal.domain.calendar import (
    DeliveryRefused,
    check_year_deliverable,
    current_school_year,
    open_leverdata,
)
from portal.domain.delivery import (
    active_request,
    build_payload,
    change_request,
    check_changeable,
    is_changeable,
    submit_request,
    withdraw_request,
)
from portal.domain.payload import summary_csv
from portal.domain.report import school_instrument
from portal.models import DeliveryRequest, Instrument, SchoolYear
from portal.queue import enqueue_mail_run
from portal.rendering import render

from .forms import ChangeForm, ConfirmForm, DeliveryForm
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


def _without_results(payload: str | None) -> bool:
    """Return whether a stored or previewed summary carries no results (small numbers).

    Summaries stored before the ``suppressed`` field existed lack it, and always carry
    their results.
    """
    return payload is not None and bool(json.loads(payload).get("suppressed"))


def _render_page(
    school, school_year, form=None, preview=None, status=200, refusal=None, changing=None
):
    instrument = _instrument_for(school, school_year)
    current = active_request(school, school_year)
    rejected = None
    if current is None:
        latest = (
            DeliveryRequest.select()
            .where(
                (DeliveryRequest.school == school) & (DeliveryRequest.school_year == school_year)
            )
            .order_by(DeliveryRequest.id.desc())
            .first()
        )
        rejected = latest if latest is not None and latest.status == "rejected" else None
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
        preview_suppressed=_without_results(preview),
        current_suppressed=_without_results(current.payload if current else None),
        refusal=refusal,
        changing=changing,
        rejected=rejected,
        confirm_form=ConfirmForm(),
        can_change=current is not None and is_changeable(current, today()),
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

    form = DeliveryForm(
        today=today(),
        open_dates=open_leverdata(school_year, instrument, today()),
        whole_brin=sees_whole_brin(current_user, school),
    )
    if not form.validate_on_submit():
        return _render_page(school, school_year, form=form, status=422)

    action = _action()
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


def _change_form(delivery: DeliveryRequest, formdata=None) -> ChangeForm:
    open_dates = open_leverdata(delivery.school_year, delivery.instrument, today())
    form = ChangeForm(
        formdata=formdata,
        today=today(),
        open_dates=open_dates,
        whole_brin=sees_whole_brin(current_user, delivery.school),
    )
    if formdata is None:
        form.load(delivery)
    return form


@bp.route("/scholen/<int:school_id>/levering/<int:request_id>/wijzigen", methods=["GET", "POST"])
@roles_required(*STAFF)
def change(school_id: int, request_id: int):
    school = school_or_404(school_id)
    delivery = _request_or_404(school, request_id)
    school_year = delivery.school_year
    try:
        check_changeable(delivery, today())
    except DeliveryRefused as error:
        return _render_page(school, school_year, status=422, refusal=refusal_message(error))

    if request.method == "GET":
        return _render_page(school, school_year, form=_change_form(delivery), changing=delivery)

    form = _change_form(delivery, request.form)
    if not form.validate_on_submit():
        return _render_page(school, school_year, form=form, status=422, changing=delivery)

    action = _action()
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    if action in ("preview", "download"):
        payload = build_payload(school, school_year, form.answers(), threshold)
        if action == "download":
            return _payload_response(payload, f"samenvatting-{school.code}-{school_year.name}.json")
        return _render_page(
            school, school_year, form=form, preview=payload.decode(), changing=delivery
        )

    approve = current_user.role == "board_secretary" and form.approve.data
    try:
        change_request(
            delivery,
            form.leverdatum.data,
            form.answers(),
            current_user,
            today(),
            threshold,
            approve,
        )
    except DeliveryRefused as error:
        return _render_page(
            school,
            school_year,
            form=form,
            status=422,
            refusal=refusal_message(error),
            changing=delivery,
        )
    enqueue_mail_run()
    if approve:
        message = _("De aanvraag is gewijzigd en goedgekeurd.")
    else:
        message = _("De aanvraag is gewijzigd. Het bevoegd gezag moet opnieuw goedkeuren.")
    flash(message, "success")
    return redirect(url_for("delivery.show", school_id=school.id, schooljaar=school_year.name), 303)


@bp.route(
    "/scholen/<int:school_id>/levering/<int:request_id>/samenvatting.json",
    defaults={"kind": "json"},
)
@bp.route("/scholen/<int:school_id>/levering/<int:request_id>/samenvatting.<kind>")
@roles_required(*STAFF, "support", "admin")
def payload(school_id: int, request_id: int, kind: str):
    school = school_or_404(school_id)
    delivery = _request_or_404(school, request_id)
    filename = f"samenvatting-{school.code}-{delivery.school_year.name}"
    if kind == "json":
        return _payload_response(delivery.payload.encode(), f"{filename}.json")
    if kind == "csv":
        data = summary_csv(json.loads(delivery.payload))
        return Response(
            data,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    abort(404)


ACTIONS = ("preview", "download", "submit")


def _action() -> str:
    """Return the button the user pressed; an unknown one changes nothing."""
    action = request.form.get("action", "preview")
    if action not in ACTIONS:
        abort(400, _l("Deze knop bestaat niet. Laad de pagina opnieuw en probeer het nog eens."))
    return action


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
