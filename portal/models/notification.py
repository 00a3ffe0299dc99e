"""The mail outbox: one row per e-mail to send, and the record of deadline reminders."""

import json

import peewee

from .base import BaseModel, UTCDateTimeField
from .calendar import SchoolYear
from .delivery import DeliveryRequest
from .organisation import Board
from .users import User

NOTIFICATION_KINDS = (
    "submitted",
    "changed",
    "approved",
    "rejected",
    "delivered",
    "failed",
    "reminder",
)


class Notification(BaseModel):
    """An e-mail to one recipient, written in the same transaction as the event it reports.

    The subject and body are rendered when the mail is sent, and ``subject`` keeps the
    subject that was sent. A row with ``sent_at`` unset is pending.
    """

    kind = peewee.CharField(max_length=20, choices=[(k, k) for k in NOTIFICATION_KINDS])
    request = peewee.ForeignKeyField(
        DeliveryRequest, null=True, backref="notifications", on_delete="CASCADE"
    )
    # Set on reminders, which concern a board and a school year rather than one request.
    board = peewee.ForeignKeyField(Board, null=True, backref="+", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, null=True, backref="+", on_delete="CASCADE")
    recipient = peewee.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    # Copied from the account when the row is written, so the mail goes where it was meant to.
    recipient_email = peewee.CharField(max_length=254)
    subject = peewee.CharField(max_length=300, default="")
    # Kind-specific values as JSON, such as the school ids that a reminder lists.
    details_json = peewee.TextField(default="{}")
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True, index=True)
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(default="")
    # A sender that claimed the row and died is replaced once this instant has passed.
    lease_until = UTCDateTimeField(null=True)

    @property
    def details(self) -> dict:
        return json.loads(self.details_json)


class BoardReminder(BaseModel):
    """A deadline reminder queued for a board in a school year, at most one by a unique index."""

    board = peewee.ForeignKeyField(Board, backref="+", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, backref="+", on_delete="CASCADE")
    created_at = UTCDateTimeField()
    recipients = peewee.IntegerField()

    class Meta:
        indexes = ((("board", "school_year"), True),)
