"""Delivery requests to the Inspectie and the history of their status changes."""

import peewee

from .base import BaseModel, UTCDateTimeField
from .calendar import Instrument, SchoolYear
from .organisation import School
from .users import User


class DeliveryRequest(BaseModel):
    """A school's request to send its summary of a school year on a leverdatum.

    The payload is stored when the request is submitted, so what the school previewed is
    byte for byte what is sent.
    """

    school = peewee.ForeignKeyField(School, backref="delivery_requests", on_delete="RESTRICT")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="RESTRICT")
    instrument = peewee.ForeignKeyField(Instrument, on_delete="RESTRICT")
    status = peewee.CharField(max_length=20, index=True)
    leverdatum = peewee.DateField(index=True)

    # The school's answers to the delivery questions.
    level = peewee.CharField(max_length=10)
    groups = peewee.CharField(max_length=300)
    representative = peewee.BooleanField()
    representative_explanation = peewee.TextField(default="")
    consent_name = peewee.CharField(max_length=200)
    consent_function = peewee.CharField(max_length=200)
    consent_date = peewee.DateField()
    contact_name = peewee.CharField(max_length=200)
    contact_email = peewee.CharField(max_length=254)
    contact_phone = peewee.CharField(max_length=40, default="")

    payload = peewee.TextField()
    payload_sha256 = peewee.CharField(max_length=64)

    created_by = peewee.ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    decided_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    decided_at = UTCDateTimeField(null=True)
    rejection_reason = peewee.TextField(default="")

    # Sent as the Idempotency-Key header, so a repeated send is harmless at the receiver.
    idempotency_key = peewee.CharField(max_length=64, default="")
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True)
    lease_until = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)
    delivered_sha256 = peewee.CharField(max_length=64, default="")
    receipt = peewee.CharField(max_length=300, default="")
    receipt_at = UTCDateTimeField(null=True)
    last_error = peewee.TextField(default="")


class DeliveryStatusChange(BaseModel):
    """One transition of a delivery request: who, when, from, to and why."""

    request = peewee.ForeignKeyField(DeliveryRequest, backref="history", on_delete="CASCADE")
    from_status = peewee.CharField(max_length=20, null=True)
    to_status = peewee.CharField(max_length=20)
    changed_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    changed_at = UTCDateTimeField()
    reason = peewee.TextField(default="")
