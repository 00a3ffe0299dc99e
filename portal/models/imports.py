"""Survey imports: each attempt to load a school's answers from a CSV or XLSX file."""

import json

import peewee

from .base import BaseModel, UTCDateTimeField
from .calendar import Instrument, SchoolYear
from .organisation import School
from .users import User

# queued and running: the file waits for or is in a worker. completed: its respondents
# replaced the earlier ones. failed: rejected by a check, or its worker died.
IMPORT_STATUSES = ("queued", "running", "completed", "failed")


class SurveyImport(BaseModel):
    """One uploaded file for a school, school year and instrument, and what became of it."""

    school = peewee.ForeignKeyField(School, backref="imports", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE", backref="+")
    instrument = peewee.ForeignKeyField(Instrument, on_delete="RESTRICT", backref="+")
    format = peewee.CharField(max_length=32)
    filename = peewee.CharField(max_length=255)
    sha256 = peewee.CharField(max_length=64)
    size_bytes = peewee.BigIntegerField(default=0)
    status = peewee.CharField(max_length=10, default="queued")
    # Respondents imported, and respondents of the school, year and instrument replaced.
    rows = peewee.IntegerField(default=0)
    replaced = peewee.IntegerField(default=0)
    # Rows checked so far, shown while a worker runs the import, and the rows the file is
    # expected to have, counted from its line breaks (None for a workbook, whose rows are
    # only known once read). The expectation is an estimate: a quoted cell may hold a
    # line break.
    progress = peewee.IntegerField(default=0)
    rows_expected = peewee.IntegerField(null=True)
    # The first problems as a JSON list of {message, row, column, value}, and their total.
    errors_json = peewee.TextField(default="[]")
    error_count = peewee.IntegerField(default=0)
    # Path of the uploaded file relative to PORTAL_DATA_DIR while a worker still needs it.
    file_path = peewee.CharField(max_length=300, default="")
    rq_job_id = peewee.CharField(max_length=64, default="")
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = UTCDateTimeField()
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("school", "school_year", "instrument", "sha256"), False),)

    @property
    def errors(self) -> list[dict]:
        return json.loads(self.errors_json)
