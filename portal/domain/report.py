"""The report Monitoring Sociale Veiligheid of a school (vestiging or whole BRIN) and year."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import peewee

from portal.models import (
    SCALES,
    ComparisonValue,
    Instrument,
    Item,
    PupilCount,
    Questionnaire,
    Respondent,
    School,
    SchoolYear,
)

from .indicators import (
    GroupResult,
    ItemShares,
    ScaleResult,
    group_results,
    hidden_by_difference,
    summarise_scales,
    victimisation_shares,
)

# NOTE: the portal's own choice, since no source gives a rule: a sample counts as large
# enough when at least this share of the 1 October pupils responded.
RELIABLE_RESPONSE_RATE = 0.3


@dataclass
class Report:
    schools: list[School]
    school_year: SchoolYear
    instrument: Instrument | None
    respondents: int
    pupils: int | None
    scales: dict[str, ScaleResult]
    comparison: dict[str, float]
    groups: list[GroupResult]
    victimisation: list[ItemShares]
    trend: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        if not self.pupils:
            return None
        return self.respondents / self.pupils

    @property
    def reliable(self) -> bool:
        rate = self.response_rate
        return rate is not None and rate >= RELIABLE_RESPONSE_RATE


def school_instrument(schools: Sequence[School], school_year: SchoolYear) -> Instrument | None:
    """Return the instrument most respondents of these schools used in the year."""
    row = (
        Respondent.select(Respondent.instrument, peewee.fn.COUNT(Respondent.id).alias("n"))
        .where((Respondent.school.in_(schools)) & (Respondent.school_year == school_year))
        .group_by(Respondent.instrument)
        .order_by(peewee.fn.COUNT(Respondent.id).desc())
        .first()
    )
    return Instrument.get_by_id(row.instrument_id) if row else None


def questionnaire_items(instrument: Instrument, sector: str, school_year: SchoolYear) -> list[Item]:
    """Return the items of the questionnaire version in force for the sector and year."""
    questionnaire = (
        Questionnaire.select()
        .join(SchoolYear, on=(Questionnaire.valid_from == SchoolYear.id))
        .where(
            (Questionnaire.instrument == instrument)
            & (Questionnaire.sector == sector)
            & (SchoolYear.name <= school_year.name)
        )
        .order_by(SchoolYear.name.desc())
        .first()
    )
    if questionnaire is None:
        return []
    return list(questionnaire.items.order_by(Item.position))


def _answer_rows(schools: Sequence[School], school_year: SchoolYear, instrument: Instrument):
    return (
        Respondent.select(Respondent.group, Respondent.answers_json)
        .where(
            (Respondent.school.in_(schools))
            & (Respondent.school_year == school_year)
            & (Respondent.instrument == instrument)
        )
        .tuples()
    )


def _pupils(schools: Sequence[School], school_year: SchoolYear) -> int | None:
    counts = [
        c.pupils
        for c in PupilCount.select().where(
            (PupilCount.school.in_(schools)) & (PupilCount.school_year == school_year)
        )
    ]
    return sum(counts) if counts else None


def comparison_values(sector: str, school_year: SchoolYear) -> dict[str, float]:
    """Return the frozen national mean per scale for the sector and year."""
    return {
        row.scale: row.mean
        for row in ComparisonValue.select().where(
            (ComparisonValue.sector == sector) & (ComparisonValue.school_year == school_year)
        )
    }


def build_report(
    schools: Sequence[School], school_year: SchoolYear, threshold: int, with_trend: bool = True
) -> Report:
    """Compute the report for one or more vestigingen of one sector in a school year."""
    sector = schools[0].sector
    instrument = school_instrument(schools, school_year)
    pupils = _pupils(schools, school_year)
    if instrument is None:
        empty = {scale: ScaleResult(scale, 0, None, None) for scale in SCALES}
        return Report(list(schools), school_year, None, 0, pupils, empty, {}, [], [])

    items = questionnaire_items(instrument, sector, school_year)
    rows = list(_answer_rows(schools, school_year, instrument))
    also_hide = frozenset()
    if len(schools) > 1:
        counts = (
            Respondent.select(Respondent.group, Respondent.school, peewee.fn.COUNT(Respondent.id))
            .where(
                (Respondent.school.in_(schools))
                & (Respondent.school_year == school_year)
                & (Respondent.instrument == instrument)
            )
            .group_by(Respondent.group, Respondent.school)
            .tuples()
        )
        also_hide = hidden_by_difference(
            {(group, school): count for group, school, count in counts}, threshold
        )
    answer_sets = [json.loads(answers) for _, answers in rows]
    report = Report(
        schools=list(schools),
        school_year=school_year,
        instrument=instrument,
        respondents=len(rows),
        pupils=pupils,
        scales=summarise_scales(items, answer_sets),
        comparison=comparison_values(sector, school_year),
        groups=group_results(items, rows, threshold, also_hide),
        victimisation=victimisation_shares(items, answer_sets),
    )
    if with_trend:
        report.trend = _trend(schools, school_year)
    return report


def _trend(schools: Sequence[School], school_year: SchoolYear) -> list[tuple[str, dict]]:
    """Return the scale means of this and every earlier year that has respondents."""
    years = (
        SchoolYear.select()
        .join(Respondent, on=(Respondent.school_year == SchoolYear.id))
        .where((Respondent.school.in_(schools)) & (SchoolYear.name <= school_year.name))
        .distinct()
        .order_by(SchoolYear.name)
    )
    trend = []
    for year in years:
        instrument = school_instrument(schools, year)
        items = questionnaire_items(instrument, schools[0].sector, year)
        answer_sets = [json.loads(a) for _, a in _answer_rows(schools, year, instrument)]
        scales = summarise_scales(items, answer_sets)
        trend.append((year.name, {scale: result.mean for scale, result in scales.items()}))
    return trend
