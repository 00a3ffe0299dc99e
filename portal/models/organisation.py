"""Boards (bevoegd gezag), schools (vestigingen) and their 1 October pupil counts."""

import peewee

from .base import BaseModel
from .calendar import SchoolYear

SECTORS = ("PO", "VO", "SO")


class Board(BaseModel):
    """A bevoegd gezag, identified by its board number (commonly 5 digits)."""

    number = peewee.CharField(max_length=8, unique=True)
    name = peewee.CharField(max_length=200)


class School(BaseModel):
    """A vestiging: BRIN (4 characters) plus a 2-digit vestigingsnummer."""

    board = peewee.ForeignKeyField(Board, backref="schools", on_delete="RESTRICT")
    brin = peewee.CharField(max_length=4, index=True)
    vestiging = peewee.CharField(max_length=2)
    name = peewee.CharField(max_length=200)
    place = peewee.CharField(max_length=100)
    sector = peewee.CharField(max_length=2, choices=[(s, s) for s in SECTORS])
    onderwijssoort = peewee.CharField(max_length=100, default="")

    class Meta:
        indexes = ((("brin", "vestiging"), True),)

    @property
    def code(self) -> str:
        """The 6-character location code, for example 15KU00."""
        return f"{self.brin}{self.vestiging}"


class PupilCount(BaseModel):
    """Pupils of a school on 1 October of a school year, as DUO publishes them."""

    school = peewee.ForeignKeyField(School, backref="pupil_counts", on_delete="CASCADE")
    school_year = peewee.ForeignKeyField(SchoolYear, on_delete="CASCADE")
    pupils = peewee.IntegerField()

    class Meta:
        indexes = ((("school", "school_year"), True),)
