"""The life of a delivery request: submit, change, withdraw, approve, reject, deliver.

Every transition is a guarded UPDATE on the current status, so two people (or two
workers) acting at once cannot both win, and each writes a history row and an audit event.
"""

import logging
from dataclasses import asdict
from datetime import date, timedelta

from portal.clock import utcnow
from portal.models import (
    DeliveryRequest,
    DeliveryStatusChange,
    Instrument,
    School,
    SchoolYear,
    User,
    db,
)

from . import audit
from .calendar import DeliveryRefused, can_still_change, check_leverdatum
from .payload import DeliveryAnswers, build_summary, encode_summary, sha256_hex
from .report import build_report

logger = logging.getLogger(__name__)

SUBMITTED = "submitted"
APPROVED = "approved"
DELIVERING = "delivering"
DELIVERED = "delivered"
FAILED = "failed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

# Statuses in which a request still counts as the school's request for that year.
ACTIVE = (SUBMITTED, APPROVED, DELIVERING, FAILED, DELIVERED)

# A worker that claimed a request and died is replaced after this time.
LEASE = timedelta(minutes=5)


def active_request(school: School, school_year: SchoolYear) -> DeliveryRequest | None:
    """Return the school's request for the year that is not rejected or withdrawn."""
    return (
        DeliveryRequest.select()
        .where(
            (DeliveryRequest.school == school)
            & (DeliveryRequest.school_year == school_year)
            & (DeliveryRequest.status.in_(ACTIVE))
        )
        .order_by(DeliveryRequest.id.desc())
        .first()
    )


def report_schools(school: School, level: str) -> list[School]:
    """Return the vestigingen a summary covers: this one, or all of its BRIN."""
    if level == "brin":
        return list(School.select().where(School.brin == school.brin).order_by(School.vestiging))
    return [school]


def build_payload(
    school: School, school_year: SchoolYear, answers: DeliveryAnswers, threshold: int
) -> bytes:
    """Return the exact bytes that will be sent for the school, year and answers."""
    report = build_report(
        report_schools(school, answers.level), school_year, threshold, with_trend=False
    )
    return encode_summary(build_summary(school, report, answers))


def _transition(
    request: DeliveryRequest, to_status: str, user: User | None, reason: str = "", **changes
) -> None:
    """Move ``request`` to ``to_status`` unless someone else changed its status first."""
    from_status = request.status
    now = utcnow()
    changes.setdefault("updated_at", now)
    updated = (
        DeliveryRequest.update(status=to_status, **changes)
        .where((DeliveryRequest.id == request.id) & (DeliveryRequest.status == from_status))
        .execute()
    )
    if updated != 1:
        raise DeliveryRefused("status_changed", {"request": request.id})
    DeliveryStatusChange.create(
        request=request,
        from_status=from_status,
        to_status=to_status,
        changed_by=user,
        changed_at=now,
        reason=reason,
    )
    request.status = to_status
    for name, value in changes.items():
        setattr(request, name, value)
    logger.info(
        "delivery request=%s school=%s %s -> %s by user=%s",
        request.id,
        request.school_id,
        from_status,
        to_status,
        user.id if user else None,
    )


def submit_request(
    school: School,
    school_year: SchoolYear,
    instrument: Instrument,
    leverdatum: date,
    answers: DeliveryAnswers,
    user: User,
    today: date,
    threshold: int,
) -> DeliveryRequest:
    """Create a request that waits for the board's approval, with its payload stored."""
    check_leverdatum(school_year, instrument, leverdatum, today)
    with db.atomic():
        existing = active_request(school, school_year)
        if existing is not None:
            raise DeliveryRefused("already_requested", {"request": existing.id})
        payload = build_payload(school, school_year, answers, threshold)
        now = utcnow()
        request = DeliveryRequest.create(
            school=school,
            school_year=school_year,
            instrument=instrument,
            status=SUBMITTED,
            leverdatum=leverdatum,
            payload=payload.decode(),
            payload_sha256=sha256_hex(payload),
            created_by=user,
            created_at=now,
            updated_at=now,
            **asdict(answers),
        )
        DeliveryStatusChange.create(
            request=request, from_status=None, to_status=SUBMITTED, changed_by=user, changed_at=now
        )
        audit.record(
            "delivery.submitted", user, school, request, leverdatum=leverdatum, level=answers.level
        )
    logger.info("delivery request=%s school=%s submitted for %s", request.id, school.id, leverdatum)
    return request


def change_request(
    request: DeliveryRequest,
    leverdatum: date,
    answers: DeliveryAnswers,
    user: User,
    today: date,
    threshold: int,
) -> None:
    """Change date or answers; the request goes back to the board for approval."""
    if request.status not in (SUBMITTED, APPROVED) or not can_still_change(
        request.leverdatum, today
    ):
        raise DeliveryRefused("too_late_to_change", {"date": request.leverdatum})
    check_leverdatum(request.school_year, request.instrument, leverdatum, today)
    payload = build_payload(request.school, request.school_year, answers, threshold)
    with db.atomic():
        changes = dict(
            asdict(answers),
            leverdatum=leverdatum,
            payload=payload.decode(),
            payload_sha256=sha256_hex(payload),
            decided_by=None,
            decided_at=None,
        )
        if request.status == SUBMITTED:
            updated = (
                DeliveryRequest.update(updated_at=utcnow(), **changes)
                .where((DeliveryRequest.id == request.id) & (DeliveryRequest.status == SUBMITTED))
                .execute()
            )
            if updated != 1:
                raise DeliveryRefused("status_changed", {"request": request.id})
        else:
            _transition(request, SUBMITTED, user, "gewijzigd door school", **changes)
        audit.record("delivery.changed", user, request.school, request, leverdatum=leverdatum)


def withdraw_request(request: DeliveryRequest, user: User, today: date) -> None:
    """Withdraw a request; allowed until the day before its leverdatum."""
    if request.status not in (SUBMITTED, APPROVED) or not can_still_change(
        request.leverdatum, today
    ):
        raise DeliveryRefused("too_late_to_change", {"date": request.leverdatum})
    with db.atomic():
        _transition(request, WITHDRAWN, user, "ingetrokken")
        audit.record("delivery.withdrawn", user, request.school, request)


def approve_request(request: DeliveryRequest, user: User, today: date) -> None:
    """Approve a waiting request on behalf of the bevoegd gezag."""
    if request.status != SUBMITTED:
        raise DeliveryRefused("status_changed", {"request": request.id})
    if request.leverdatum <= today:
        raise DeliveryRefused("date_past", {"date": request.leverdatum})
    with db.atomic():
        _transition(request, APPROVED, user, decided_by=user, decided_at=utcnow())
        audit.record("delivery.approved", user, request.school, request)


def reject_request(request: DeliveryRequest, user: User, reason: str) -> None:
    """Reject a waiting request; the school sees the reason."""
    if request.status != SUBMITTED:
        raise DeliveryRefused("status_changed", {"request": request.id})
    with db.atomic():
        _transition(
            request,
            REJECTED,
            user,
            reason,
            decided_by=user,
            decided_at=utcnow(),
            rejection_reason=reason,
        )
        audit.record("delivery.rejected", user, request.school, request, reason=reason)


def claim_due(as_of: date) -> list[int]:
    """Claim every approved request whose leverdatum has come; return the claimed ids.

    A claim is a guarded UPDATE with a lease, so a second sweep at the same moment claims
    nothing twice, and a request whose worker died is claimed again once its lease expired.
    """
    now = utcnow()
    candidates = [
        r.id
        for r in DeliveryRequest.select(DeliveryRequest.id).where(
            (DeliveryRequest.leverdatum <= as_of)
            & (
                (DeliveryRequest.status == APPROVED)
                | ((DeliveryRequest.status == DELIVERING) & (DeliveryRequest.lease_until < now))
            )
        )
    ]
    claimed = []
    for request_id in candidates:
        with db.atomic():
            request = DeliveryRequest.get_by_id(request_id)
            if request.status == DELIVERING and request.lease_until >= now:
                continue
            try:
                _transition(
                    request,
                    DELIVERING,
                    None,
                    "verzending gestart",
                    lease_until=now + LEASE,
                    attempts=request.attempts + 1,
                )
            except DeliveryRefused:
                continue
        claimed.append(request_id)
    return claimed


def deliver_request(request_id: int, transport) -> bool:
    """Send one claimed request and record the receipt; return whether it was delivered."""
    request = DeliveryRequest.get_by_id(request_id)
    if request.status != DELIVERING:
        return False
    data = request.payload.encode()
    checksum = sha256_hex(data)
    try:
        receipt = transport.send(request, data)
    except Exception as error:  # noqa: BLE001 - any transport failure is recorded, not raised
        logger.exception("delivery request=%s failed", request.id)
        with db.atomic():
            _transition(request, FAILED, None, str(error), last_error=str(error), lease_until=None)
            audit.record("delivery.failed", None, request.school, request, error=str(error))
        return False

    with db.atomic():
        _transition(
            request,
            DELIVERED,
            None,
            "geleverd",
            delivered_at=utcnow(),
            delivered_sha256=checksum,
            receipt=receipt,
            lease_until=None,
        )
        audit.record("delivery.delivered", None, request.school, request, sha256=checksum)
    return True


def run_due(as_of: date, transport) -> list[int]:
    """Deliver every approved request due on ``as_of``; return the ids delivered now."""
    delivered = []
    for request_id in claim_due(as_of):
        if deliver_request(request_id, transport):
            delivered.append(request_id)
    logger.info("delivery sweep as_of=%s delivered=%d", as_of, len(delivered))
    return delivered
