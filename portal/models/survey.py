"""Questionnaires, their items and scales, and the answers of anonymous respondents."""

import json

import peewee

from .base import BaseModel, UTCDateTimeField
from .calendar import Instrument, SchoolYear
from .organisation import School

SCALES = ("veiligheidsbeleving", "welbevinden", "aantasting")


class Questionnaire(BaseModel):
    """A version of an instrument's questionnaire, valid from a school year on, per sector."""

    instrument = peewee.ForeignKeyField(Instrument, backref="questionnaires", on_delete="CASCADE")
    sector = peewee.CharField(max_length=2)
    valid_from = peewee.ForeignKeyField(SchoolYear, on_delete="RESTRICT")


class Item(BaseModel):
    """One question; answers run from 1 to ``answer_max`` and reversed items are mirrored."""

    questionnaire = peewee.ForeignKeyField(Questionnaire, backref="items", on_delete="CASCADE")
    code = peewee.CharField(max_length=16)
    position = peewee.IntegerField()
    text = peewee.CharField(max_length=300)
    scale = peewee.CharField(max_length=32, null=True)
    reversed = peewee.BooleanField(default=False)
    answer_max = peewee.IntegerField(default=4)
    # Labels of the answer options, lowest value first, separated by "|".
    answer_labels = peewee.CharField(max_length=300)

    class Meta:
        indexes = ((("questionnaire", "code"), True),)

    @property
    def labels(self) -> list[str]:
        return self.answer_labels.split("|")


class Respondent(BaseModel):
    """One anonymous completed questionnaire: no name, no pupil number, only the group."""

    # The index on (school, school_year, instrument) below serves lookups by school, and
    # instruments are never looked up from here, so neither key has an index of its own.
    school = peewee.ForeignKeyField(School, backref="respondents", on_delete="CASCADE", index=False)
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE")
    instrument = peewee.ForeignKeyField(Instrument, on_delete="RESTRICT", index=False)
    # Leerjaar (VO) or groep (PO), as the school names it, for example "groep 7" or "leerjaar 2".
    group = peewee.CharField(max_length=32)
    taken_on = peewee.DateField()
    # Item code to answer value, as JSON; a skipped item is absent.
    answers_json = peewee.TextField()
    imported_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("school", "school_year", "instrument"), False),)

    @property
    def answers(self) -> dict[str, int]:
        return json.loads(self.answers_json)


class ComparisonValue(BaseModel):
    """The national mean of a scale for a sector and year, frozen on a date by an admin."""

    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE")
    sector = peewee.CharField(max_length=2)
    scale = peewee.CharField(max_length=32)
    mean = peewee.FloatField()
    respondents = peewee.IntegerField()
    # Schools whose own mean went into ``mean``; each counts once, whatever its size.
    schools = peewee.IntegerField(default=0)
    frozen_on = peewee.DateField()

    class Meta:
        indexes = ((("school_year", "sector", "scale"), True),)
