"""The national comparison value: the mean of all schools of a sector, frozen on a date.

Each school counts once, with its own scale mean, so a large school does not outweigh a
small one. The stored values do not move when later imports add respondents; only
freezing again replaces them. An admin freezes a year now, or plans a date on which the
periodic job does it.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from peewee import PostgresqlDatabase

from portal.models import (
    SCALES,
    ComparisonValue,
    Instrument,
    PupilCount,
    Respondent,
    School,
    SchoolYear,
    User,
    db,
)

from . import audit
from .indicators import ScoringPlan
from .report import questionnaire_items

logger = logging.getLogger(__name__)


@dataclass
class FreezeRefused(Exception):
    """A freeze date that is not allowed; ``code`` names the rule and ``params`` its values."""

    code: str
    params: dict

    def __str__(self) -> str:
        return f"{self.code} {self.params}"


def compute_comparison(school_year: SchoolYear, threshold: int) -> list[dict]:
    """Compute the comparison value per sector and scale from the respondents of the year.

    Returns one dict per value with sector, scale, mean, respondents and schools. A school
    with fewer than ``threshold`` respondents is left out: its report shows no figures,
    and a comparison value that counted it would give them away to anyone who knows the
    other schools' means. For the same reason a school counts on a scale only when at
    least ``threshold`` of its respondents have a score on that scale.
    """
    # (school id, sector) -> scale -> [sum of respondent scores, respondents]
    school_totals: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0.0, 0])
    )
    school_respondents: dict[tuple[int, str], int] = defaultdict(int)
    plans: dict[tuple[int, str], ScoringPlan] = {}
    query = (
        Respondent.select(
            Respondent.school, Respondent.instrument, School.sector, Respondent.answers_json
        )
        .join(School)
        .where(Respondent.school_year == school_year)
        .tuples()
        .iterator()
    )
    for school_id, instrument_id, sector, answers_json in query:
        key = (instrument_id, sector)
        plan = plans.get(key)
        if plan is None:
            items = questionnaire_items(Instrument.get_by_id(instrument_id), sector, school_year)
            plan = plans[key] = ScoringPlan.of(items)
        school_respondents[(school_id, sector)] += 1
        totals = school_totals[(school_id, sector)]
        for scale, score in plan.scores(json.loads(answers_json)).items():
            entry = totals[scale]
            entry[0] += score
            entry[1] += 1

    # sector -> scale -> [sum of school means, schools, respondents]
    sector_totals: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(lambda: [0.0, 0, 0])
    )
    pupils = dict(
        PupilCount.select(PupilCount.school, PupilCount.pupils)
        .where(PupilCount.school_year == school_year)
        .tuples()
    )
    for (school_id, sector), scales in school_totals.items():
        respondents_of_school = school_respondents[(school_id, sector)]
        if respondents_of_school < threshold:
            continue
        # More respondents than pupils on 1 October means a wrong file or a wrong count,
        # which the report points out, so such figures stay out of the national value.
        if school_id in pupils and respondents_of_school > pupils[school_id]:
            continue
        for scale, (total, respondents) in scales.items():
            if respondents < threshold:
                continue
            entry = sector_totals[sector][scale]
            entry[0] += total / respondents
            entry[1] += 1
            entry[2] += respondents

    values = []
    for sector in sorted(sector_totals):
        for scale in SCALES:
            entry = sector_totals[sector].get(scale)
            if entry is None:
                continue
            total, schools, respondents = entry
            values.append(
                {
                    "sector": sector,
                    "scale": scale,
                    "mean": total / schools,
                    "schools": schools,
                    "respondents": respondents,
                }
            )
    return values


def freeze_comparison(school_year: SchoolYear, frozen_on: date, threshold: int) -> int:
    """Compute and store the comparison values of the year; return the rows written.

    The old values of the year are replaced in the same transaction, so a report never
    sees a half-frozen year.
    """
    values = compute_comparison(school_year, threshold)
    with db.atomic():
        if isinstance(db.obj, PostgresqlDatabase):
            # Two freezes of one year at once (the planned job and an admin) would both
            # insert after their deletes and break the unique index. The row lock makes
            # the second wait and then replace the first one's values. SQLite takes its
            # write lock when the transaction begins.
            SchoolYear.select().where(SchoolYear.id == school_year.id).for_update().execute()
        ComparisonValue.delete().where(ComparisonValue.school_year == school_year).execute()
        if values:
            ComparisonValue.insert_many(
                [
                    {**value, "school_year": school_year.id, "frozen_on": frozen_on}
                    for value in values
                ]
            ).execute()
    logger.info(
        "comparison frozen year=%s frozen_on=%s values=%s", school_year.name, frozen_on, len(values)
    )
    return len(values)


def freeze_and_record(
    school_year: SchoolYear, day: date, threshold: int, user: User | None = None
) -> int:
    """Freeze the year's values on ``day``, clear its planned freeze and audit both.

    All three happen in one transaction, so a plan is carried out once. Returns the rows
    written. ``user`` is None when the periodic job carries out a plan.
    """
    planned = school_year.comparison_freeze_on
    details = {"school_year": school_year.name, "frozen_on": day.isoformat()}
    if planned is not None:
        details["planned_on"] = planned.isoformat()
    with db.atomic():
        written = freeze_comparison(school_year, day, threshold)
        plan_freeze(school_year, None)
        audit.record("comparison.frozen", user, obj=school_year, values=written, **details)
    return written


def check_freeze_date(school_year: SchoolYear, day: date, today: date) -> None:
    """Raise FreezeRefused unless ``day`` may be planned as the freeze date of the year.

    A planned date lies after today and inside the school year (1 August to 31 July),
    and the year is the current or the next one. Today itself is a freeze now, which the
    caller runs at once.
    """
    if day < today:
        raise FreezeRefused("in_past", {"date": day, "today": today})
    plannable = plannable_years(today)
    if plannable and school_year.starts_on > plannable[-1].starts_on:
        raise FreezeRefused("too_far_ahead", {"date": day, "last": plannable[-1].ends_on})
    if not school_year.starts_on <= day <= school_year.ends_on:
        raise FreezeRefused(
            "outside_year",
            {"date": day, "starts_on": school_year.starts_on, "ends_on": school_year.ends_on},
        )


def plannable_years(today: date) -> list[SchoolYear]:
    """Return the current school year and the next one, in which a freeze may be planned.

    Between two years in the table (a gap) these are the next two years.
    """
    return list(
        SchoolYear.select()
        .where(SchoolYear.ends_on >= today)
        .order_by(SchoolYear.starts_on)
        .limit(2)
    )


def check_freeze_now(school_year: SchoolYear, today: date) -> None:
    """Raise FreezeRefused when the year has not begun, since it has no answers to freeze.

    The current year and earlier years may be frozen now, so an admin can freeze a past
    year again after late imports.
    """
    if today < school_year.starts_on:
        raise FreezeRefused("year_not_started", {"starts_on": school_year.starts_on})


def plan_freeze(school_year: SchoolYear, day: date | None) -> None:
    """Store ``day`` as the planned freeze date of the year, or clear it with None."""
    school_year.comparison_freeze_on = day
    school_year.save(only=[SchoolYear.comparison_freeze_on])


def due_years(today: date) -> list[SchoolYear]:
    """Return the school years whose planned freeze date has come."""
    return list(
        SchoolYear.select()
        .where(
            SchoolYear.comparison_freeze_on.is_null(False)
            & (SchoolYear.comparison_freeze_on <= today)
        )
        .order_by(SchoolYear.name)
    )
