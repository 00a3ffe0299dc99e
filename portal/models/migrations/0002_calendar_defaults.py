"""Seed the default calendar: school years, four leverdata each, and the instruments.

Leverdata of 2017-2018 were 1 April, 1 May, 1 June and 1 July 2018; later years default
to the same four dates of their second calendar year, and an admin can change the set.
ProZO! schools could deliver from 1 June 2018 in 2017-2018.
"""

import datetime

from peewee import BooleanField, CharField, DateField, ForeignKeyField, Model

FIRST_YEAR = 2014
LAST_YEAR = 2035
DEFAULT_DELIVERY_DAYS = ((4, 1), (5, 1), (6, 1), (7, 1))


def up(migrator, db):
    class SchoolYear(Model):
        name = CharField()
        starts_on = DateField()
        ends_on = DateField()
        survey_opens_on = DateField()
        survey_closes_on = DateField()

        class Meta:
            database = db
            table_name = "school_year"

    class DeliveryDate(Model):
        school_year = ForeignKeyField(SchoolYear)
        date = DateField()

        class Meta:
            database = db
            table_name = "delivery_date"

    class Instrument(Model):
        code = CharField()
        name = CharField()
        external = BooleanField()

        class Meta:
            database = db
            table_name = "instrument"

    class InstrumentYear(Model):
        instrument = ForeignKeyField(Instrument)
        school_year = ForeignKeyField(SchoolYear)
        first_delivery_on = DateField(null=True)

        class Meta:
            database = db
            table_name = "instrument_year"

    years = {}
    for first in range(FIRST_YEAR, LAST_YEAR + 1):
        second = first + 1
        year = SchoolYear.create(
            name=f"{first}-{second}",
            starts_on=datetime.date(first, 8, 1),
            ends_on=datetime.date(second, 7, 31),
            survey_opens_on=datetime.date(first, 11, 1),
            survey_closes_on=datetime.date(second, 4, 30),
        )
        years[year.name] = year
        for month, day in DEFAULT_DELIVERY_DAYS:
            DeliveryDate.create(school_year=year, date=datetime.date(second, month, day))

    Instrument.create(code="msv", name="Monitor Sociale Veiligheid", external=False)
    prozo = Instrument.create(code="prozo", name="ProZO!", external=True)
    InstrumentYear.create(
        instrument=prozo,
        school_year=years["2017-2018"],
        first_delivery_on=datetime.date(2018, 6, 1),
    )


def down(migrator, db):
    for table in ("instrument_year", "instrument", "delivery_date", "school_year"):
        db.execute_sql(f"DELETE FROM {table}")
