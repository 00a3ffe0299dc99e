"""The support desk: find a school or board, read its whole history, re-queue a delivery."""

import logging
from datetime import date

import peewee
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import roles_required
from portal.clock import today
from portal.delivery.messages import status_label
from portal.domain.board import school_statuses
from portal.domain.calendar import DeliveryRefused, current_school_year
from portal.domain.support import REQUEUEABLE, find_schools_and_boards, requeue_delivery
from portal.models import (
    AuditEvent,
    Board,
    DeliveryDate,
    DeliveryRequest,
    DeliveryStatusChange,
    FactsheetJob,
    School,
    SchoolYear,
    User,
)
from portal.rendering import render

from .forms import RETURN_PAGES, RequeueForm, SearchForm

bp = Blueprint("support", __name__, url_prefix="/helpdesk")
logger = logging.getLogger(__name__)

SUPPORT_ROLES = ("support", "admin")

# The school page shows this many audit events, newest first.
AUDIT_LIMIT = 200

AUDIT_LABELS = {
    "delivery.submitted": _l("aanvraag ingediend"),
    "delivery.changed": _l("aanvraag gewijzigd"),
    "delivery.withdrawn": _l("aanvraag ingetrokken"),
    "delivery.approved": _l("aanvraag goedgekeurd"),
    "delivery.rejected": _l("aanvraag afgewezen"),
    "delivery.payload_refreshed": _l("samenvatting bijgewerkt"),
    "delivery.delivered": _l("geleverd"),
    "delivery.failed": _l("levering mislukt"),
    "delivery.given_up": _l("levering opgegeven"),
    "delivery.requeued": _l("levering opnieuw ingepland"),
    "factsheet.requested": _l("factsheet aangevraagd"),
    "factsheet.built": _l("factsheet gemaakt"),
    "factsheet.retried": _l("factsheet opnieuw gestart"),
    "factsheet.batch_started": _l("factsheets voor meerdere scholen gestart"),
    "auth.login": _l("ingelogd"),
    "import.completed": _l("gegevens ingelezen"),
    "import.replaced": _l("eerder ingelezen gegevens vervangen"),
    "import.failed": _l("inlezen van gegevens mislukt"),
    "import.retried": _l("inlezen van gegevens opnieuw gestart"),
    "registry.imported": _l("scholenregister van DUO geïmporteerd"),
    "comparison.frozen": _l("vergelijkingswaarden vastgezet"),
    "comparison.planned": _l("vastzetten van vergelijkingswaarden gepland"),
    "comparison.plan_removed": _l("gepland vastzetten van vergelijkingswaarden verwijderd"),
}


def audit_label(action: str) -> str:
    """Return the Dutch description of an audit action, or the action code itself."""
    label = AUDIT_LABELS.get(action)
    return str(label) if label else action


def _school_or_404(school_id: int) -> School:
    school = School.select(School, Board).join(Board).where(School.id == school_id).first()
    if school is None:
        abort(404)
    return school


def _request_or_404(request_id: int) -> DeliveryRequest:
    delivery = (
        DeliveryRequest.select(DeliveryRequest, School)
        .join(School)
        .where(DeliveryRequest.id == request_id)
        .first()
    )
    if delivery is None:
        abort(404)
    return delivery


def _requeue_forms(deliveries, failed_form: RequeueForm | None, back_to: str) -> dict:
    """Return a fresh re-queue form for every failed delivery, or the one that failed."""
    forms = {}
    for delivery in deliveries:
        if delivery.status not in REQUEUEABLE:
            continue
        if failed_form is not None and failed_form._prefix == f"q{delivery.id}-":
            forms[delivery.id] = failed_form
        else:
            forms[delivery.id] = RequeueForm(
                formdata=None, prefix=f"q{delivery.id}", data={"back_to": back_to}
            )
    return forms


@bp.route("/")
@roles_required(*SUPPORT_ROLES)
def search():
    form = SearchForm(request.args)
    result = None
    status = 200
    if "q" in request.args:
        if form.validate():
            result = find_schools_and_boards(form.q.data)
        else:
            status = 422
    return render(
        "support/search.html", "support/_search.html", status=status, form=form, result=result
    )


def _render_school(school: School, status: int = 200, requeue_form=None, refusal=None):
    deliveries = list(
        DeliveryRequest.select(DeliveryRequest, SchoolYear)
        .join(SchoolYear)
        .where(DeliveryRequest.school == school)
        .order_by(SchoolYear.name.desc(), DeliveryRequest.leverdatum, DeliveryRequest.id)
    )
    changed_by = User.alias()
    histories: dict[int, list[DeliveryStatusChange]] = {}
    if deliveries:
        for change in (
            DeliveryStatusChange.select(DeliveryStatusChange, changed_by)
            .join(
                changed_by,
                peewee.JOIN.LEFT_OUTER,
                on=(DeliveryStatusChange.changed_by == changed_by.id),
            )
            .where(DeliveryStatusChange.request.in_([d.id for d in deliveries]))
            .order_by(DeliveryStatusChange.changed_at, DeliveryStatusChange.id)
        ):
            histories.setdefault(change.request_id, []).append(change)

    factsheets = list(
        FactsheetJob.select(FactsheetJob, SchoolYear)
        .join(SchoolYear)
        .where(FactsheetJob.school == school)
        .order_by(FactsheetJob.created_at.desc(), FactsheetJob.id.desc())
    )
    events = list(
        AuditEvent.select(AuditEvent, User)
        .join(User, peewee.JOIN.LEFT_OUTER)
        .where(AuditEvent.school == school)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_LIMIT + 1)
    )
    return render(
        "support/school.html",
        "support/_school.html",
        status=status,
        school=school,
        deliveries=deliveries,
        histories=histories,
        factsheets=factsheets,
        events=events[:AUDIT_LIMIT],
        more_events=len(events) > AUDIT_LIMIT,
        audit_limit=AUDIT_LIMIT,
        audit_label=audit_label,
        requeueable=REQUEUEABLE,
        requeue_forms=_requeue_forms(deliveries, requeue_form, "school"),
        refusal=refusal,
    )


@bp.route("/scholen/<int:school_id>")
@roles_required(*SUPPORT_ROLES)
def school(school_id: int):
    return _render_school(_school_or_404(school_id))


@bp.route("/besturen/<int:board_id>")
@roles_required(*SUPPORT_ROLES)
def board(board_id: int):
    board = Board.get_or_none(Board.id == board_id)
    if board is None:
        abort(404)
    schools = list(School.select().where(School.board == board).order_by(School.name))
    school_year = current_school_year(today())
    rows = school_statuses(schools, school_year, today()) if school_year else []
    return render(
        "support/board.html",
        "support/_board.html",
        board=board,
        schools=schools,
        school_year=school_year,
        rows=rows,
    )


def _year_from_args() -> SchoolYear:
    name = request.args.get("schooljaar", "")
    school_year = (
        SchoolYear.get_or_none(SchoolYear.name == name) if name else current_school_year(today())
    )
    if school_year is None:
        abort(404)
    return school_year


def _render_deliveries(
    status: int = 200, requeue_form=None, refusal=None, school_year=None, chosen=None
):
    school_year = school_year or _year_from_args()
    date_error = None
    raw = request.args.get("leverdatum", "")
    if chosen is None and raw:
        try:
            chosen = date.fromisoformat(raw)
        except ValueError:
            date_error = _("Deze leverdatum is ongeldig. Kies een datum uit de lijst.")
            status = 422

    counts: dict[date, dict[str, int]] = {}
    for day in (
        DeliveryDate.select(DeliveryDate.date)
        .where(DeliveryDate.school_year == school_year)
        .order_by(DeliveryDate.date)
    ):
        counts[day.date] = {}
    for leverdatum, status_name, number in (
        DeliveryRequest.select(
            DeliveryRequest.leverdatum,
            DeliveryRequest.status,
            peewee.fn.COUNT(DeliveryRequest.id),
        )
        .where(DeliveryRequest.school_year == school_year)
        .group_by(DeliveryRequest.leverdatum, DeliveryRequest.status)
        .tuples()
    ):
        counts.setdefault(leverdatum, {})[status_name] = number
    if chosen is not None and chosen not in counts:
        date_error = _(
            "Op %(date)s wordt in schooljaar %(year)s niet geleverd. Kies een datum uit de lijst.",
            date=format_date(chosen, "d MMMM y"),
            year=school_year.name,
        )
        status = 422
        chosen = None

    deliveries = []
    if chosen is not None:
        deliveries = list(
            DeliveryRequest.select(DeliveryRequest, School)
            .join(School)
            .where(
                (DeliveryRequest.school_year == school_year)
                & (DeliveryRequest.leverdatum == chosen)
            )
            .order_by(School.name, DeliveryRequest.id)
        )
        # Failed deliveries first, because they are what the support desk comes for.
        deliveries.sort(key=lambda d: d.status not in REQUEUEABLE)

    return render(
        "support/deliveries.html",
        "support/_deliveries.html",
        status=status,
        school_year=school_year,
        counts=dict(sorted(counts.items())),
        chosen=chosen,
        date_error=date_error,
        deliveries=deliveries,
        requeueable=REQUEUEABLE,
        requeue_forms=_requeue_forms(deliveries, requeue_form, "leverdatum"),
        refusal=refusal,
    )


@bp.route("/leveringen")
@roles_required(*SUPPORT_ROLES)
def deliveries():
    return _render_deliveries()


@bp.route("/aanvragen/<int:request_id>/opnieuw-inplannen", methods=["POST"])
@roles_required(*SUPPORT_ROLES)
def requeue(request_id: int):
    delivery = _request_or_404(request_id)
    form = RequeueForm(prefix=f"q{delivery.id}")
    back_to = form.back_to.data if form.back_to.data in RETURN_PAGES else "school"

    def render_again(status, refusal=None):
        if back_to == "leverdatum":
            return _render_deliveries(
                status,
                requeue_form=form,
                refusal=refusal,
                school_year=delivery.school_year,
                chosen=delivery.leverdatum,
            )
        return _render_school(delivery.school, status, requeue_form=form, refusal=refusal)

    if not form.validate_on_submit():
        return render_again(422)
    try:
        requeue_delivery(delivery, current_user, (form.note.data or "").strip())
    except DeliveryRefused as error:
        logger.info(
            "requeue request=%s rejected code=%s status=%s by user=%s",
            delivery.id,
            error.code,
            delivery.status,
            current_user.id,
        )
        if error.code == "not_failed":
            message = _(
                "Deze levering is niet mislukt (status: %(status)s), dus er valt niets opnieuw "
                "in te plannen.",
                status=status_label(delivery.status),
            )
        else:
            message = _(
                "Deze levering is intussen gewijzigd. Bekijk de actuele stand en probeer het opnieuw."
            )
        return render_again(409, refusal=message)

    flash(
        _(
            "De levering van %(school)s (leverdatum %(date)s) is opnieuw ingepland en gaat mee "
            "met de volgende verzendronde.",
            school=delivery.school.name,
            date=format_date(delivery.leverdatum, "d MMMM y"),
        ),
        "success",
    )
    if back_to == "leverdatum":
        target = url_for(
            "support.deliveries",
            schooljaar=delivery.school_year.name,
            leverdatum=delivery.leverdatum.isoformat(),
        )
    else:
        target = url_for("support.school", school_id=delivery.school_id)
    return redirect(target, 303)
