"""The life of a delivery request, from submission to a receipt of the Inspectie.

States: submitted (waits for the board) -> approved (scheduled) -> delivering -> delivered.
A failed send goes to retrying and is tried again with exponential backoff; after the
last allowed attempt it is given_up and support is alerted. A request can also end as
rejected (by the board) or withdrawn (by the school, until the day before its date).

Every transition is a guarded UPDATE on the current status, so two people or two
workers acting at once cannot both win, and each writes a history row and an audit
event. The database, not Redis, determines what is due, so a lost queue loses no delivery.
Times are taken from portal.clock, so a training installation with PORTAL_TODAY records
its deliveries on that date.
"""

import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from peewee import PostgresqlDatabase

from portal import clock
from portal.clock import amsterdam_date
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
from .notifications import queue_notifications
from .payload import DeliveryAnswers, build_summary, encode_summary, sha256_hex
from .report import build_report
from .transport import Receipt, TransportError

logger = logging.getLogger(__name__)

SUBMITTED = "submitted"
APPROVED = "approved"
DELIVERING = "delivering"
RETRYING = "retrying"
DELIVERED = "delivered"
GIVEN_UP = "given_up"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

# Statuses in which a request still counts as the school's request for that year. A
# partial unique index in the database allows one such request per school, year and
# instrument.
ACTIVE = (SUBMITTED, APPROVED, DELIVERING, RETRYING, DELIVERED, GIVEN_UP)
CHANGEABLE = (SUBMITTED, APPROVED)


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry and lease settings of the sender."""

    max_attempts: int = 6
    retry_base: timedelta = timedelta(seconds=60)
    retry_max_delay: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=5)

    @classmethod
    def from_config(cls, config) -> "DeliveryPolicy":
        return cls(
            max_attempts=config["DELIVERY_MAX_ATTEMPTS"],
            retry_base=timedelta(seconds=config["DELIVERY_RETRY_BASE_SECONDS"]),
            retry_max_delay=timedelta(seconds=config["DELIVERY_RETRY_MAX_DELAY_SECONDS"]),
            lease=timedelta(seconds=config["DELIVERY_LEASE_SECONDS"]),
        )

    def retry_delay(self, failed_attempts: int) -> timedelta:
        """Return the wait after the n-th failed attempt: base, 2 x base, 4 x base, ..."""
        return min(self.retry_base * (2 ** (failed_attempts - 1)), self.retry_max_delay)


def active_request(
    school: School, school_year: SchoolYear, instrument: Instrument | None = None
) -> DeliveryRequest | None:
    """Return the school's request for the year that is not rejected or withdrawn."""
    query = DeliveryRequest.select().where(
        (DeliveryRequest.school == school)
        & (DeliveryRequest.school_year == school_year)
        & (DeliveryRequest.status.in_(ACTIVE))
    )
    if instrument is not None:
        query = query.where(DeliveryRequest.instrument == instrument)
    return query.order_by(DeliveryRequest.id.desc()).first()


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


def stored_answers(request: DeliveryRequest) -> DeliveryAnswers:
    """Return the answers a request was submitted with."""
    return DeliveryAnswers(
        **{name: getattr(request, name) for name in DeliveryAnswers.__dataclass_fields__}
    )


def _transition(
    request: DeliveryRequest, to_status: str, user: User | None, reason: str = "", **changes
) -> None:
    """Move ``request`` to ``to_status`` unless someone else changed its status first."""
    from_status = request.status
    now = clock.now()
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
    notify_board: bool = True,
) -> DeliveryRequest:
    """Create a request that waits for the board's approval, with its payload stored.

    ``notify_board`` is False when a board secretary submits and approves in one step,
    so the board is not asked to approve what it has just approved.
    """
    check_leverdatum(school_year, instrument, leverdatum, today)
    with db.atomic():
        existing = active_request(school, school_year, instrument)
        if existing is not None:
            raise DeliveryRefused("already_requested", {"request": existing.id})
        payload = build_payload(school, school_year, answers, threshold)
        now = clock.now()
        request = DeliveryRequest.create(
            school=school,
            school_year=school_year,
            instrument=instrument,
            status=SUBMITTED,
            leverdatum=leverdatum,
            payload=payload.decode(),
            payload_sha256=sha256_hex(payload),
            idempotency_key=str(uuid.uuid4()),
            created_by=user,
            created_at=now,
            updated_at=now,
            **asdict(answers),
        )
        DeliveryStatusChange.create(
            request=request, from_status=None, to_status=SUBMITTED, changed_by=user, changed_at=now
        )
        if notify_board:
            queue_notifications("submitted", request)
        audit.record(
            "delivery.submitted", user, school, request, leverdatum=leverdatum, level=answers.level
        )
    logger.info("delivery request=%s school=%s submitted for %s", request.id, school.id, leverdatum)
    return request


def check_changeable(request: DeliveryRequest, today: date) -> None:
    """Raise DeliveryRefused unless the school may still change or withdraw the request.

    An approved request is scheduled, so it can be changed until the day before its
    leverdatum. A request still waiting for the board is never sent as it is, so it can
    also be changed, to a later date, or withdrawn after its date has passed.
    """
    if request.status not in CHANGEABLE:
        raise DeliveryRefused("not_changeable", {"status": request.status})
    if request.status == APPROVED and not can_still_change(request.leverdatum, today):
        raise DeliveryRefused("too_late_to_change", {"date": request.leverdatum})


def is_changeable(request: DeliveryRequest, today: date) -> bool:
    """Tell whether check_changeable would let the request be changed."""
    try:
        check_changeable(request, today)
    except DeliveryRefused:
        return False
    return True


def change_request(
    request: DeliveryRequest,
    leverdatum: date,
    answers: DeliveryAnswers,
    user: User,
    today: date,
    threshold: int,
    approve: bool = False,
) -> None:
    """Change date or answers until the day before the leverdatum.

    The changed request goes back to the board for approval, unless a board secretary
    changes it and approves it in the same step (``approve``).
    """
    check_changeable(request, today)
    check_leverdatum(request.school_year, request.instrument, leverdatum, today)
    approve = approve and user.role == "board_secretary"
    payload = build_payload(request.school, request.school_year, answers, threshold)
    now = clock.now()
    changes = dict(
        asdict(answers),
        leverdatum=leverdatum,
        payload=payload.decode(),
        payload_sha256=sha256_hex(payload),
        decided_by=user if approve else None,
        decided_at=now if approve else None,
    )
    target = APPROVED if approve else SUBMITTED
    with db.atomic():
        if request.status == target:
            updated = (
                DeliveryRequest.update(updated_at=now, **changes)
                .where((DeliveryRequest.id == request.id) & (DeliveryRequest.status == target))
                .execute()
            )
            if updated != 1:
                raise DeliveryRefused("status_changed", {"request": request.id})
            DeliveryStatusChange.create(
                request=request,
                from_status=target,
                to_status=target,
                changed_by=user,
                changed_at=now,
                reason="gewijzigd",
            )
            for name, value in changes.items():
                setattr(request, name, value)
        else:
            reason = "gewijzigd en goedgekeurd" if approve else "gewijzigd, opnieuw ter goedkeuring"
            _transition(request, target, user, reason, **changes)
        queue_notifications("approved" if approve else "changed", request)
        audit.record(
            "delivery.changed",
            user,
            request.school,
            request,
            leverdatum=leverdatum,
            approved=approve,
        )


def withdraw_request(request: DeliveryRequest, user: User, today: date) -> None:
    """Withdraw a request; an approved one until the day before its leverdatum."""
    check_changeable(request, today)
    with db.atomic():
        _transition(request, WITHDRAWN, user, "ingetrokken")
        audit.record("delivery.withdrawn", user, request.school, request)


def refresh_payload(request: DeliveryRequest, threshold: int, user: User | None = None) -> bool:
    """Rebuild the stored payload from the current data; return whether it changed.

    Called on approval and when survey data of the school changes before sending, so
    what is stored (and downloadable) is always what will be sent.
    """
    payload = build_payload(request.school, request.school_year, stored_answers(request), threshold)
    checksum = sha256_hex(payload)
    if checksum == request.payload_sha256:
        return False
    updated = (
        DeliveryRequest.update(
            payload=payload.decode(), payload_sha256=checksum, updated_at=clock.now()
        )
        .where(
            (DeliveryRequest.id == request.id)
            & (DeliveryRequest.status.in_((SUBMITTED, APPROVED, RETRYING)))
        )
        .execute()
    )
    if updated != 1:
        raise DeliveryRefused("status_changed", {"request": request.id})
    audit.record(
        "delivery.payload_refreshed",
        user,
        request.school,
        request,
        old_sha256=request.payload_sha256,
        new_sha256=checksum,
    )
    request.payload, request.payload_sha256 = payload.decode(), checksum
    logger.info("delivery request=%s payload refreshed sha256=%s", request.id, checksum)
    return True


def approve_request(
    request: DeliveryRequest, user: User, today: date, threshold: int | None = None
) -> None:
    """Approve a waiting request on behalf of the bevoegd gezag; the payload is refreshed."""
    if request.status != SUBMITTED:
        raise DeliveryRefused("status_changed", {"request": request.id})
    if request.leverdatum <= today:
        raise DeliveryRefused("date_past", {"date": request.leverdatum})
    with db.atomic():
        if threshold is not None:
            refresh_payload(request, threshold, user)
        _transition(request, APPROVED, user, decided_by=user, decided_at=clock.now())
        queue_notifications("approved", request)
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
            decided_at=clock.now(),
            rejection_reason=reason,
        )
        queue_notifications("rejected", request)
        audit.record("delivery.rejected", user, request.school, request, reason=reason)


def requeue_request(request: DeliveryRequest, user: User | None, reason: str = "") -> None:
    """Schedule a retrying or given-up delivery for the next sweep (support desk).

    Raises DeliveryRefused("not_failed") for a request in any other status, and
    DeliveryRefused("status_changed") when its status changed since it was read.
    """
    from_status = request.status
    if from_status not in (RETRYING, GIVEN_UP):
        raise DeliveryRefused("not_failed", {"request": request.id, "status": from_status})
    with db.atomic():
        _transition(
            request,
            APPROVED,
            user,
            reason or "opnieuw ingepland",
            next_attempt_at=None,
            lease_until=None,
        )
        audit.record(
            "delivery.requeued", user, request.school, request, from_status=from_status, note=reason
        )


def _due_condition(now: datetime):
    """Requests whose leverdatum (Amsterdam) has begun and that are free to send now."""
    return (DeliveryRequest.leverdatum <= amsterdam_date(now)) & (
        (DeliveryRequest.status == APPROVED)
        | ((DeliveryRequest.status == RETRYING) & (DeliveryRequest.next_attempt_at <= now))
        | ((DeliveryRequest.status == DELIVERING) & (DeliveryRequest.lease_until < now))
    )


# Requests claimed per transaction. A batch is sent before the next is claimed, so a
# batch's lease only needs to cover the sends of one batch.
CLAIM_BATCH = 50


def claim_batch(
    now: datetime,
    policy: DeliveryPolicy,
    limit: int = CLAIM_BATCH,
    exclude: frozenset = frozenset(),
) -> list[int]:
    """Claim up to ``limit`` due requests for this sender; return the claimed ids.

    The candidates are read inside the write transaction: SQLite's BEGIN IMMEDIATE makes a
    second sender wait until this claim is committed, and PostgreSQL's SKIP LOCKED lets it
    take other rows. Each UPDATE is also guarded by the status and attempt count read, so
    no request is claimed twice. A request whose sender died is due again once its lease
    has expired. Ids in ``exclude`` (the sweep's own failures) are left for a later sweep.
    """
    claimed = []
    condition = _due_condition(now)
    if exclude:
        condition &= DeliveryRequest.id.not_in(list(exclude))
    with db.atomic():
        query = (
            DeliveryRequest.select(
                DeliveryRequest.id, DeliveryRequest.status, DeliveryRequest.attempts
            )
            .where(condition)
            .order_by(DeliveryRequest.leverdatum, DeliveryRequest.id)
            .limit(limit)
        )
        if isinstance(db.obj, PostgresqlDatabase):
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        changed_at = clock.now()
        history = []
        for row in query:
            updated = (
                DeliveryRequest.update(
                    status=DELIVERING,
                    lease_until=now + policy.lease,
                    attempts=row.attempts + 1,
                    updated_at=changed_at,
                )
                .where(
                    (DeliveryRequest.id == row.id)
                    & (DeliveryRequest.status == row.status)
                    & (DeliveryRequest.attempts == row.attempts)
                )
                .execute()
            )
            if updated != 1:
                continue
            claimed.append(row.id)
            history.append(
                {
                    "request": row.id,
                    "from_status": row.status,
                    "to_status": DELIVERING,
                    "changed_at": changed_at,
                    "reason": f"poging {row.attempts + 1}",
                }
            )
        if history:
            DeliveryStatusChange.insert_many(history).execute()
    return claimed


def due_request_ids(now: datetime) -> list[int]:
    """Return the ids of the requests that are due at ``now``, oldest leverdatum first."""
    return [
        row.id
        for row in DeliveryRequest.select(DeliveryRequest.id)
        .where(_due_condition(now))
        .order_by(DeliveryRequest.leverdatum, DeliveryRequest.id)
    ]


def _load_claimed(request_ids: list[int]) -> list[DeliveryRequest]:
    """Load the claimed requests that are still being delivered, with school and year.

    Only the columns a send needs are selected: building the SQL of a full row of three
    models costs more than running it.
    """
    return list(
        DeliveryRequest.select(
            DeliveryRequest.id,
            DeliveryRequest.status,
            DeliveryRequest.leverdatum,
            DeliveryRequest.attempts,
            DeliveryRequest.payload,
            DeliveryRequest.idempotency_key,
            DeliveryRequest.school,
            School.id,
            School.brin,
            School.vestiging,
            School.board,
            SchoolYear.id,
            SchoolYear.name,
        )
        .join(School)
        .switch(DeliveryRequest)
        .join(SchoolYear)
        .where(DeliveryRequest.id.in_(request_ids) & (DeliveryRequest.status == DELIVERING))
        .order_by(DeliveryRequest.id)
    )


def _send(request: DeliveryRequest, transport) -> tuple[Receipt | None, str]:
    """Send a request's stored payload; return the receipt, or None and the error."""
    try:
        return transport.send(request, request.payload.encode()), ""
    except TransportError as error:
        return None, str(error)


def _record_outcome(
    request: DeliveryRequest,
    receipt: Receipt | None,
    error: str,
    policy: DeliveryPolicy,
    now: datetime,
) -> bool:
    """Record one send's outcome in its own (nested) transaction; return whether delivered."""
    if receipt is None:
        _record_failure(request, error, policy, now)
        return False
    checksum = sha256_hex(request.payload.encode())
    try:
        with db.atomic():
            _transition(
                request,
                DELIVERED,
                None,
                f"ontvangstbewijs {receipt.id}",
                delivered_at=clock.now(),
                delivered_sha256=checksum,
                receipt=receipt.id,
                receipt_at=receipt.at,
                lease_until=None,
                last_error="",
            )
            queue_notifications("delivered", request)
            audit.record(
                "delivery.delivered",
                None,
                request.school,
                request,
                sha256=checksum,
                receipt=receipt.id,
            )
    except DeliveryRefused:
        # Another sender took over after this one's lease expired and recorded the
        # delivery first; the idempotency key made the second send harmless.
        logger.warning("delivery request=%s delivered by another sender", request.id)
        return False
    return True


def deliver_request(request_id: int, transport, policy: DeliveryPolicy, now: datetime) -> bool:
    """Send one claimed request and record the outcome; return whether it was delivered.

    A failure schedules the next attempt relative to ``now``, the sweep's clock.
    """
    requests = _load_claimed([request_id])
    if not requests:
        return False
    receipt, error = _send(requests[0], transport)
    return _record_outcome(requests[0], receipt, error, policy, now)


def _record_failure(
    request: DeliveryRequest, error: str, policy: DeliveryPolicy, now: datetime
) -> None:
    try:
        with db.atomic():
            if request.attempts >= policy.max_attempts:
                _transition(request, GIVEN_UP, None, error, last_error=error, lease_until=None)
                queue_notifications("failed", request)
                queue_notifications("support_alert", request)
                audit.record("delivery.given_up", None, request.school, request, error=error)
                logger.error(
                    "delivery request=%s given up after %d attempts: %s",
                    request.id,
                    request.attempts,
                    error,
                )
                return
            retry_at = now + policy.retry_delay(request.attempts)
            _transition(
                request,
                RETRYING,
                None,
                error,
                last_error=error,
                lease_until=None,
                next_attempt_at=retry_at,
            )
            audit.record(
                "delivery.failed",
                None,
                request.school,
                request,
                error=error,
                attempt=request.attempts,
            )
    except DeliveryRefused:
        logger.warning("delivery request=%s failure not recorded: status changed", request.id)
        return
    logger.warning(
        "delivery request=%s attempt=%d failed, retry at %s: %s",
        request.id,
        request.attempts,
        retry_at.isoformat(),
        error,
    )


def run_due(now: datetime, transport, policy: DeliveryPolicy) -> list[int]:
    """Deliver every request due at ``now``; return the ids delivered in this sweep.

    The outcomes of a claimed batch are recorded together in one transaction, once the
    batch is sent or half the lease has passed. A sender that dies before recording them
    leaves its requests to be claimed again when the lease expires, and the idempotency
    key makes that second send harmless at the receiver.
    """
    delivered = []
    failed: set[int] = set()
    claimed_count = 0
    flush_after = policy.lease.total_seconds() / 2

    def record(outcomes) -> None:
        with db.atomic():
            for request, receipt, error in outcomes:
                if _record_outcome(request, receipt, error, policy, now):
                    delivered.append(request.id)
                else:
                    failed.add(request.id)

    while claimed := claim_batch(now, policy, exclude=frozenset(failed)):
        claimed_count += len(claimed)
        outcomes = []
        started = time.monotonic()
        for request in _load_claimed(claimed):
            outcomes.append((request, *_send(request, transport)))
            if time.monotonic() - started > flush_after:
                record(outcomes)
                outcomes, started = [], time.monotonic()
        record(outcomes)
    logger.info(
        "delivery sweep at=%s claimed=%d delivered=%d",
        now.isoformat(),
        claimed_count,
        len(delivered),
    )
    return delivered
