"""The 2017-2018 calendar rules, replayed as a table."""

from datetime import date

import pytest

from portal.domain.calendar import (
    DeliveryRefused,
    check_leverdatum,
    check_year_deliverable,
    open_leverdata,
    school_year_name,
)
from portal.models import Instrument, SchoolYear

APRIL, MAY, JUNE, JULY = (date(2018, m, 1) for m in (4, 5, 6, 7))


@pytest.fixture
def year_2017(app_context):
    return SchoolYear.get(SchoolYear.name == "2017-2018")


@pytest.fixture
def msv(app_context):
    return Instrument.get(Instrument.code == "msv")


@pytest.fixture
def prozo(app_context):
    return Instrument.get(Instrument.code == "prozo")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2018, 3, 15), [APRIL, MAY, JUNE, JULY]),
        (date(2018, 3, 31), [APRIL, MAY, JUNE, JULY]),
        (date(2018, 4, 1), [MAY, JUNE, JULY]),
        (date(2018, 6, 30), [JULY]),
        (date(2018, 7, 1), []),
        (date(2018, 7, 2), []),
    ],
)
def test_open_leverdata_2017_2018(year_2017, msv, today, expected):
    assert open_leverdata(year_2017, msv, today) == expected


def test_prozo_opens_from_june(year_2017, prozo):
    assert open_leverdata(year_2017, prozo, date(2018, 3, 15)) == [JUNE, JULY]


@pytest.mark.parametrize(
    "today", [date(2017, 11, 1), date(2018, 3, 15), date(2018, 6, 30), date(2018, 7, 31)]
)
def test_year_2016_2017_refused_on_every_date(app_context, msv, today):
    year = SchoolYear.get(SchoolYear.name == "2016-2017")
    with pytest.raises(DeliveryRefused) as refused:
        check_year_deliverable(year, msv, today)
    assert refused.value.code == "year_closed"
    assert open_leverdata(year, msv, today) == []


def test_no_dates_left_after_1_july(year_2017, msv):
    with pytest.raises(DeliveryRefused) as refused:
        check_year_deliverable(year_2017, msv, date(2018, 7, 2))
    assert refused.value.code == "no_dates_left"
    assert refused.value.params["last"] == JULY


@pytest.mark.parametrize(
    ("leverdatum", "code"),
    [
        (date(2018, 3, 15), "date_past"),
        (date(2018, 3, 1), "date_past"),
        (date(2018, 4, 2), "date_not_offered"),
    ],
)
def test_leverdatum_refused(year_2017, msv, leverdatum, code):
    with pytest.raises(DeliveryRefused) as refused:
        check_leverdatum(year_2017, msv, leverdatum, date(2018, 3, 15))
    assert refused.value.code == code


def test_dates_are_data(year_2017, msv):
    """An admin's change of the set of leverdata changes what is open, without code."""
    from portal.models import DeliveryDate

    DeliveryDate.delete().where(
        (DeliveryDate.school_year == year_2017) & (DeliveryDate.date != JULY)
    ).execute()
    assert open_leverdata(year_2017, msv, date(2018, 3, 15)) == [JULY]


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2017, 8, 1), "2017-2018"),
        (date(2018, 7, 31), "2017-2018"),
        (date(2018, 8, 1), "2018-2019"),
    ],
)
def test_school_year_name(day, name):
    assert school_year_name(day) == name
