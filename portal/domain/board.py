"""The delivery state of each school of a board in a school year.

Besides the state of every school, this module decides which schools risk missing the
last leverdatum of the year. A school is at risk when nothing is scheduled or delivered
for it (no data, data but no request, a request waiting for approval, or a failed
delivery) and at least one of these holds:

- ``deadline_passed``: the last leverdatum is today or has passed, so the portal can no
  longer schedule anything for the year;
- ``request_date_passed``: a waiting request's own leverdatum has come without approval,
  so that request can no longer be approved and the school must choose a later date;
- ``deadline_near``: the last leverdatum is at most ``warning_days`` days away;
- ``last_date_only``: the year had several leverdata and only the last one is still
  open, so a request still needs submitting or approving and there is no later fallback.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import peewee

from portal.clock import local
from portal.models import DeliveryRequest, Instrument, Respondent, School, SchoolYear

from .calendar import delivery_dates, open_leverdata
from .delivery import ACTIVE, APPROVED, DELIVERED, DELIVERING, GIVEN_UP, RETRYING, SUBMITTED

# The last leverdatum counts as near from this many days before it, unless the app
# config sets BOARD_DEADLINE_WARNING_DAYS.
DEFAULT_WARNING_DAYS = 30


class State(StrEnum):
    """The delivery state of one school in one school year."""

    NO_DATA = "no_data"
    NO_REQUEST = "no_request"
    WAITING = "waiting"
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"
    FAILED = "failed"


STATE_OF_STATUS = {
    SUBMITTED: State.WAITING,
    APPROVED: State.SCHEDULED,
    # Being sent right now: still scheduled until the receipt or the failure is recorded.
    DELIVERING: State.SCHEDULED,
    DELIVERED: State.DELIVERED,
    RETRYING: State.FAILED,
    GIVEN_UP: State.FAILED,
}


@dataclass(frozen=True)
class Risk:
    """One reason why a school may miss the last leverdatum; ``params`` contains its dates."""

    code: str
    params: dict = field(default_factory=dict)


@dataclass
class SchoolStatus:
    """A school's delivery state in a school year, with what the board needs to act on it."""

    school: School
    state: State
    request: DeliveryRequest | None
    instrument: Instrument | None
    # Groepen or leerjaren with respondents in the year, in natural order.
    groups: list[str]
    open_dates: list[date]
    last_date: date | None
    risks: list[Risk]

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def shown_date(self) -> date | None:
        """The day to show next to the state: delivery day when delivered, else the leverdatum."""
        if self.request is None:
            return None
        if self.state == State.DELIVERED and self.request.delivered_at:
            return local(self.request.delivered_at).date()
        return self.request.leverdatum


def state_of(request: DeliveryRequest | None, has_data: bool) -> State:
    """Return the overview state for a school's active request and whether it has data."""
    if request is None:
        return State.NO_REQUEST if has_data else State.NO_DATA
    # NOTE: a status this module does not know yet is shown as failed, so that it draws
    # the board's attention instead of hiding.
    return STATE_OF_STATUS.get(request.status, State.FAILED)


def assess_risks(
    state: State,
    request: DeliveryRequest | None,
    all_dates: list[date],
    open_dates: list[date],
    today: date,
    warning_days: int,
) -> list[Risk]:
    """Return why a school in ``state`` may miss the last leverdatum; empty when it will not."""
    if state in (State.SCHEDULED, State.DELIVERED) or not all_dates:
        return []
    last_date = all_dates[-1]
    if last_date <= today:
        return [Risk("deadline_passed", {"last": last_date})]

    risks = []
    if state == State.WAITING and request is not None and request.leverdatum <= today:
        risks.append(Risk("request_date_passed", {"date": request.leverdatum}))
    days_left = (last_date - today).days
    if days_left <= warning_days:
        risks.append(Risk("deadline_near", {"last": last_date, "days": days_left}))
    elif len(all_dates) > 1 and open_dates == [last_date]:
        risks.append(Risk("last_date_only", {"last": last_date}))
    return risks


def _natural_key(text: str) -> list:
    """Sort "groep 10" after "groep 9" by comparing digit runs as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _survey_data(school_ids: list[int], school_year: SchoolYear):
    """Return the groups and the most used instrument per school, from one grouped query."""
    rows = (
        Respondent.select(
            Respondent.school,
            Respondent.group,
            Respondent.instrument,
            peewee.fn.COUNT(Respondent.id).alias("respondents"),
        )
        .where(Respondent.school.in_(school_ids) & (Respondent.school_year == school_year))
        .group_by(Respondent.school, Respondent.group, Respondent.instrument)
        .tuples()
    )
    groups: dict[int, set[str]] = {}
    counts: dict[int, dict[int, int]] = {}
    for school_id, group, instrument_id, respondents in rows:
        groups.setdefault(school_id, set()).add(group)
        per_instrument = counts.setdefault(school_id, {})
        per_instrument[instrument_id] = per_instrument.get(instrument_id, 0) + respondents
    instruments = {
        school_id: max(per_instrument, key=per_instrument.get)
        for school_id, per_instrument in counts.items()
    }
    return (
        {school_id: sorted(names, key=_natural_key) for school_id, names in groups.items()},
        instruments,
    )


def _active_requests(school_ids: list[int], school_year: SchoolYear) -> dict[int, DeliveryRequest]:
    """Return each school's newest request of the year that is not rejected or withdrawn."""
    requests: dict[int, DeliveryRequest] = {}
    query = (
        DeliveryRequest.select()
        .where(
            DeliveryRequest.school.in_(school_ids)
            & (DeliveryRequest.school_year == school_year)
            & DeliveryRequest.status.in_(ACTIVE)
        )
        .order_by(DeliveryRequest.id.desc())
    )
    for request in query:
        requests.setdefault(request.school_id, request)
    return requests


def school_statuses(
    schools: list[School],
    school_year: SchoolYear,
    today: date,
    warning_days: int = DEFAULT_WARNING_DAYS,
) -> list[SchoolStatus]:
    """Return the state of every school in ``schools`` for the year, in the given order.

    A school without respondents is assumed to use the portal's own instrument (code
    "msv"), as the delivery form does.
    """
    school_ids = [school.id for school in schools]
    groups, instrument_ids = _survey_data(school_ids, school_year)
    requests = _active_requests(school_ids, school_year)
    default_instrument = Instrument.get_or_none(Instrument.code == "msv")
    instruments = {instrument.id: instrument for instrument in Instrument.select()}
    calendars: dict[int, tuple[list[date], list[date]]] = {}

    statuses = []
    for school in schools:
        request = requests.get(school.id)
        if request is not None:
            instrument = instruments.get(request.instrument_id)
        elif school.id in instrument_ids:
            instrument = instruments.get(instrument_ids[school.id])
        else:
            instrument = default_instrument

        all_dates: list[date] = []
        open_dates: list[date] = []
        if instrument is not None:
            if instrument.id not in calendars:
                calendars[instrument.id] = (
                    delivery_dates(school_year, instrument),
                    open_leverdata(school_year, instrument, today),
                )
            all_dates, open_dates = calendars[instrument.id]

        state = state_of(request, school.id in groups)
        statuses.append(
            SchoolStatus(
                school=school,
                state=state,
                request=request,
                instrument=instrument,
                groups=groups.get(school.id, []),
                open_dates=open_dates,
                last_date=all_dates[-1] if all_dates else None,
                risks=assess_risks(state, request, all_dates, open_dates, today, warning_days),
            )
        )
    return statuses
