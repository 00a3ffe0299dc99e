"""Factsheet jobs: a PDF built by an RQ worker, tracked by a database row."""

import peewee

from .base import BaseModel, UTCDateTimeField
from .calendar import SchoolYear
from .organisation import Board, School
from .users import User

# "expired": the PDF was removed after FACTSHEET_RETENTION_DAYS.
FACTSHEET_STATUSES = ("queued", "running", "done", "failed", "expired")
BATCH_SCOPES = ("school", "board", "all")


class FactsheetBatch(BaseModel):
    """Factsheets that the support desk generated at once for a school, a board or everyone."""

    scope = peewee.CharField(max_length=10, choices=[(s, s) for s in BATCH_SCOPES])
    school = peewee.ForeignKeyField(School, null=True, on_delete="CASCADE", backref="+")
    board = peewee.ForeignKeyField(Board, null=True, on_delete="CASCADE", backref="+")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE", backref="+")
    requested_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = UTCDateTimeField()
    # Path of the ZIP of finished PDFs relative to PORTAL_DATA_DIR, once it has been built.
    zip_path = peewee.CharField(max_length=300, default="")


class FactsheetJob(BaseModel):
    school = peewee.ForeignKeyField(School, backref="factsheets", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE")
    requested_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    status = peewee.CharField(max_length=10, default="queued")
    rq_job_id = peewee.CharField(max_length=64, default="")
    # Path of the finished PDF relative to PORTAL_DATA_DIR; set only once the file is complete.
    file_path = peewee.CharField(max_length=300, default="")
    error = peewee.TextField(default="")
    batch = peewee.ForeignKeyField(
        FactsheetBatch, null=True, on_delete="CASCADE", backref="jobs", index=True
    )
    created_at = UTCDateTimeField()
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)
