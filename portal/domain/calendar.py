"""The current school year and the leverdata that are still open.

All dates here are Europe/Amsterdam calendar dates. The rules themselves are data in the
school_year, delivery_date and instrument_year tables.
"""

from dataclasses import dataclass, field
from datetime import date

from portal.models import DeliveryDate, Instrument, InstrumentYear, SchoolYear


@dataclass
class DeliveryRefused(Exception):
    """Delivery is not possible; ``code`` names the rule and ``params`` its values."""

    code: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.params}"


def school_year_name(day: date) -> str:
    """Return the name of the school year (1 August to 31 July) that contains ``day``."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def current_school_year(today: date) -> SchoolYear | None:
    """Return the school year that contains ``today``, or None when the calendar lacks it."""
    return SchoolYear.get_or_none(SchoolYear.name == school_year_name(today))


def delivery_dates(school_year: SchoolYear, instrument: Instrument) -> list[date]:
    """Return every leverdatum of the year that the instrument may use, in order."""
    dates = [
        row.date
        for row in DeliveryDate.select()
        .where(DeliveryDate.school_year == school_year)
        .order_by(DeliveryDate.date)
    ]
    rule = InstrumentYear.get_or_none(
        (InstrumentYear.instrument == instrument) & (InstrumentYear.school_year == school_year)
    )
    if rule and rule.first_delivery_on:
        dates = [d for d in dates if d >= rule.first_delivery_on]
    return dates


def open_leverdata(school_year: SchoolYear, instrument: Instrument, today: date) -> list[date]:
    """Return the leverdata that can still be chosen on ``today``.

    Only the current school year can be delivered, and a leverdatum must be at least one
    day ahead, so a date equal to today is no longer open.
    """
    if school_year.name != school_year_name(today):
        return []
    return [d for d in delivery_dates(school_year, instrument) if d > today]


def check_year_deliverable(school_year: SchoolYear, instrument: Instrument, today: date) -> None:
    """Raise DeliveryRefused when nothing of ``school_year`` can be scheduled on ``today``."""
    current = school_year_name(today)
    if school_year.name < current:
        raise DeliveryRefused("year_closed", {"year": school_year.name})
    if school_year.name > current:
        raise DeliveryRefused("year_not_started", {"year": school_year.name})
    if not open_leverdata(school_year, instrument, today):
        all_dates = delivery_dates(school_year, instrument)
        raise DeliveryRefused(
            "no_dates_left",
            {"year": school_year.name, "last": all_dates[-1] if all_dates else None},
        )


def check_leverdatum(
    school_year: SchoolYear, instrument: Instrument, leverdatum: date, today: date
) -> None:
    """Raise DeliveryRefused unless ``leverdatum`` is one of the open dates on ``today``."""
    check_year_deliverable(school_year, instrument, today)
    if leverdatum <= today:
        raise DeliveryRefused("date_past", {"date": leverdatum})
    if leverdatum not in open_leverdata(school_year, instrument, today):
        raise DeliveryRefused("date_not_offered", {"date": leverdatum})


def can_still_change(leverdatum: date, today: date) -> bool:
    """Tell whether a request may be changed or withdrawn: until the day before its date."""
    return today < leverdatum
