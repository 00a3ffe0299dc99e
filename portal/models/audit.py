"""The audit log: every change a person or job makes, with the ids involved."""

import json

import peewee

from .base import BaseModel, UTCDateTimeField
from .organisation import School
from .users import User


class AuditEvent(BaseModel):
    at = UTCDateTimeField(index=True)
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    action = peewee.CharField(max_length=64)
    school = peewee.ForeignKeyField(School, null=True, on_delete="SET NULL", backref="+")
    object_type = peewee.CharField(max_length=32, default="")
    object_id = peewee.IntegerField(null=True)
    details_json = peewee.TextField(default="{}")

    @property
    def details(self) -> dict:
        return json.loads(self.details_json)
