"""The mail outbox: which e-mails an event causes, and claiming them for sending.

Rows are written in the caller's transaction, so a transition that rolls back leaves no
mail behind and a committed one always has its mail. The mail job sends the rows later,
each claimed with a guarded UPDATE, so two senders at once never both send one row.
"""

import json
import logging
from datetime import datetime, timedelta

import peewee

from portal.clock import utcnow
from portal.models import DeliveryRequest, Notification, User, UserSchool

logger = logging.getLogger(__name__)

# Kinds mailed to the board secretaries, who must approve or reject.
BOARD_KINDS = ("submitted", "changed")
# Kinds mailed to the school staff of the request's school.
SCHOOL_KINDS = ("approved", "rejected", "delivered", "failed")
# Kinds mailed to every support-desk account: a delivery that was given up needs a person.
SUPPORT_KINDS = ("support_alert",)
REMINDER = "reminder"

# A row that failed this many sends is no longer tried and keeps its last error. The
# sender counts a try only once it has a working connection, so an unreachable mail
# server does not use up these attempts.
MAX_ATTEMPTS = 10
# A sender that claimed a row and died is replaced after this time.
LEASE = timedelta(minutes=5)
# Only this many characters of an error are stored on the row.
ERROR_LENGTH = 1000


def board_secretaries(board_id: int) -> peewee.ModelSelect:
    """Return the active board secretaries of a board, ordered by id."""
    return (
        User.select()
        .where((User.role == "board_secretary") & (User.board == board_id))
        .where(User.active == True)  # noqa: E712
        .order_by(User.id)
    )


def school_staff(school_id: int) -> peewee.ModelSelect:
    """Return the active school-staff accounts linked to a school, ordered by id."""
    return (
        User.select()
        .join(UserSchool)
        .where((UserSchool.school == school_id) & (User.role == "school_staff"))
        .where(User.active == True)  # noqa: E712
        .order_by(User.id)
    )


def support_staff() -> peewee.ModelSelect:
    """Return the active support-desk accounts, ordered by id."""
    return (
        User.select()
        .where((User.role == "support") & (User.active == True))  # noqa: E712
        .order_by(User.id)
    )


def insert_notifications(kind: str, recipients, now: datetime, **fields) -> int:
    """Write one pending row of ``kind`` per recipient and return how many were written."""
    rows = [
        {
            "kind": kind,
            "recipient": user.id,
            "recipient_email": user.email,
            "created_at": now,
            **fields,
        }
        for user in recipients
    ]
    if rows:
        Notification.insert_many(rows).execute()
    return len(rows)


def queue_notifications(kind: str, request: DeliveryRequest) -> int:
    """Write the e-mails that a transition of ``request`` causes and return how many.

    Call it inside the transaction of the transition. "submitted" and "changed" go to every
    active board secretary of the school's board, "support_alert" to every support-desk
    account, and the other kinds to every active school-staff account of the school.
    """
    if kind in BOARD_KINDS:
        recipients = board_secretaries(request.school.board_id)
    elif kind in SCHOOL_KINDS:
        recipients = school_staff(request.school_id)
    elif kind in SUPPORT_KINDS:
        recipients = support_staff()
    else:
        raise ValueError(
            f"unknown notification kind {kind!r}, "
            f"expected one of {BOARD_KINDS + SCHOOL_KINDS + SUPPORT_KINDS}"
        )
    count = insert_notifications(kind, recipients, utcnow(), request=request.id)
    logger.info(
        "notifications queued kind=%s request=%s school=%s recipients=%d",
        kind,
        request.id,
        request.school_id,
        count,
    )
    return count


def pending_ids(now: datetime) -> list[int]:
    """Return the ids of the rows that a sender may claim at ``now``, oldest first."""
    return [
        row.id
        for row in Notification.select(Notification.id)
        .where(_claimable(now))
        .order_by(Notification.id)
    ]


def _claimable(now: datetime):
    return (
        Notification.sent_at.is_null()
        & (Notification.attempts < MAX_ATTEMPTS)
        & (Notification.lease_until.is_null() | (Notification.lease_until < now))
    )


def claim(notification_id: int, now: datetime) -> Notification | None:
    """Claim one pending row for sending and count the attempt, or return None if taken."""
    updated = (
        Notification.update(lease_until=now + LEASE, attempts=Notification.attempts + 1)
        .where((Notification.id == notification_id) & _claimable(now))
        .execute()
    )
    if updated != 1:
        return None
    return Notification.get_by_id(notification_id)


def mark_sent(notification: Notification, subject: str) -> None:
    """Record that the mail went out, with the subject it was sent with."""
    now = utcnow()
    Notification.update(sent_at=now, subject=subject[:300], lease_until=None, last_error="").where(
        Notification.id == notification.id
    ).execute()
    notification.sent_at = now


def record_failure(notification: Notification, error: str) -> None:
    """Release a claimed row with its error, so the next run tries it again."""
    Notification.update(last_error=error[:ERROR_LENGTH], lease_until=None).where(
        Notification.id == notification.id
    ).execute()
    if notification.attempts >= MAX_ATTEMPTS:
        logger.error(
            "notification=%s kind=%s given up after attempts=%d",
            notification.id,
            notification.kind,
            notification.attempts,
        )


def encode_details(**details) -> str:
    """Return ``details`` as the JSON stored in ``Notification.details_json``."""
    return json.dumps(details, default=str, sort_keys=True)
