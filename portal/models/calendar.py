"""The calendar as data: school years, their leverdata, and instruments."""

import peewee

from .base import BaseModel


class SchoolYear(BaseModel):
    """A school year from 1 August to 31 July, named like 2017-2018."""

    name = peewee.CharField(max_length=9, unique=True)
    starts_on = peewee.DateField()
    ends_on = peewee.DateField()
    survey_opens_on = peewee.DateField()
    survey_closes_on = peewee.DateField()
    # The date on which the periodic job freezes the national comparison values, or None
    # when no freeze is planned. The job clears it after freezing.
    comparison_freeze_on = peewee.DateField(null=True)

    def __str__(self) -> str:
        return self.name


class DeliveryDate(BaseModel):
    """A leverdatum on which approved requests of its school year are sent to the Inspectie."""

    school_year = peewee.ForeignKeyField(SchoolYear, backref="delivery_dates", on_delete="CASCADE")
    date = peewee.DateField()

    class Meta:
        indexes = ((("school_year", "date"), True),)


class Instrument(BaseModel):
    """A questionnaire with which schools measure social safety."""

    code = peewee.CharField(max_length=32, unique=True)
    name = peewee.CharField(max_length=100)
    external = peewee.BooleanField(default=False)


class InstrumentYear(BaseModel):
    """Per-year rules of an instrument, such as a first leverdatum later than the others."""

    instrument = peewee.ForeignKeyField(Instrument, backref="years", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE")
    first_delivery_on = peewee.DateField(null=True)

    class Meta:
        indexes = ((("instrument", "school_year"), True),)
