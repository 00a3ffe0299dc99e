"""Factsheet jobs: a PDF built by an RQ worker, tracked by a database row."""

import peewee

from .base import BaseModel, UTCDateTimeField
from .calendar import SchoolYear
from .organisation import School
from .users import User

FACTSHEET_STATUSES = ("queued", "running", "done", "failed")


class FactsheetJob(BaseModel):
    school = peewee.ForeignKeyField(School, backref="factsheets", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE")
    requested_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    status = peewee.CharField(max_length=10, default="queued")
    rq_job_id = peewee.CharField(max_length=64, default="")
    # Path of the finished PDF relative to PORTAL_DATA_DIR; set only once the file is complete.
    file_path = peewee.CharField(max_length=300, default="")
    error = peewee.TextField(default="")
    created_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)
