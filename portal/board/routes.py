"""The board secretary's overview: every school of the board and its delivery status."""

import logging

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import roles_required, visible_schools
from portal.clock import today
from portal.delivery.forms import ConfirmForm, RejectForm
from portal.delivery.messages import refusal_message
from portal.domain.calendar import DeliveryRefused, current_school_year
from portal.domain.delivery import SUBMITTED, active_request, approve_request, reject_request
from portal.models import DeliveryRequest, Respondent, School
from portal.queue import enqueue_mail_run
from portal.rendering import render

bp = Blueprint("board", __name__, url_prefix="/bestuur")
logger = logging.getLogger(__name__)


def _overview_rows(school_year):
    rows = []
    for school in visible_schools(current_user):
        has_data = (
            Respondent.select()
            .where((Respondent.school == school) & (Respondent.school_year == school_year))
            .exists()
        )
        rows.append(
            {"school": school, "has_data": has_data, "request": active_request(school, school_year)}
        )
    return rows


def _render_overview(status=200, reject_forms=None):
    school_year = current_school_year(today())
    if school_year is None:
        abort(404)
    rows = _overview_rows(school_year)
    waiting = [
        row["request"] for row in rows if row["request"] and row["request"].status == SUBMITTED
    ]
    reject_forms = reject_forms or {}
    return render(
        "board/overview.html",
        "board/_overview.html",
        status=status,
        school_year=school_year,
        rows=rows,
        waiting=waiting,
        confirm_form=ConfirmForm(),
        reject_forms={
            r.id: reject_forms.get(r.id) or RejectForm(prefix=f"r{r.id}") for r in waiting
        },
    )


@bp.route("/")
@roles_required("board_secretary")
def overview():
    return _render_overview()


def _board_request_or_404(request_id: int) -> DeliveryRequest:
    delivery = (
        DeliveryRequest.select()
        .join(School)
        .where((DeliveryRequest.id == request_id) & (School.board == current_user.board_id))
        .first()
    )
    if delivery is None:
        abort(404)
    return delivery


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
        return _render_overview(status=422, reject_forms={delivery.id: form})
    try:
        reject_request(delivery, current_user, form.reason.data.strip())
    except DeliveryRefused as error:
        flash(refusal_message(error), "error")
        return _render_overview(status=409)
    enqueue_mail_run()
    flash(_("De aanvraag van %(school)s is afgewezen.", school=delivery.school.name), "success")
    return redirect(url_for("board.overview"), 303)
