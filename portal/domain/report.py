"""The report Monitoring Sociale Veiligheid of a school (vestiging or whole BRIN) and year."""

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import peewee

from portal.models import (
    SCALES,
    Board,
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
    OptionShare,
    ScaleResult,
    ScoringPlan,
    group_results_from_scores,
    hidden_by_difference,
    summarise_scores,
    thin_items,
    thin_scales,
    victimisation_shares,
)

# NOTE: the portal's own choice, since no source gives a rule: a sample counts as large
# enough when at least this share of the 1 October pupils responded.
RELIABLE_RESPONSE_RATE = 0.3

# Why a report shows no figures (Report.suppression_reason). Answers of fewer respondents
# than the threshold could be traced to pupils.
TOO_FEW_RESPONDENTS = "too_few_respondents"
# A report over several vestigingen in which one vestiging has respondents, but fewer
# than the threshold. This report minus the own reports of the other vestigingen would
# give that vestiging's figures.
SMALL_VESTIGING = "small_vestiging"

logger = logging.getLogger(__name__)


@dataclass
class TrendYear:
    """The scale means of one school year of the trend; all None when ``suppressed``."""

    name: str
    respondents: int
    means: dict[str, float | None]
    suppressed: bool = False


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
    trend: list[TrendYear] = field(default_factory=list)
    # The date on which the comparison values were frozen, None while none exist.
    comparison_frozen_on: date | None = None
    # The highest score of the scales, from the questionnaire's highest answer.
    scale_max: int = 4
    # TOO_FEW_RESPONDENTS or SMALL_VESTIGING when the report shows no figures: then every
    # mean, positive share and victimisation share is None and every group is suppressed.
    suppression_reason: str | None = None
    # Location codes of the vestigingen that caused SMALL_VESTIGING.
    small_vestigingen: list[str] = field(default_factory=list)

    @property
    def suppressed(self) -> bool:
        return self.suppression_reason is not None

    @property
    def response_rate(self) -> float | None:
        if not self.pupils:
            return None
        return self.respondents / self.pupils

    @property
    def reliable(self) -> bool:
        return self.unreliable_reason is None

    @property
    def unreliable_reason(self) -> str | None:
        """Return why the sample is too small to rely on, or None when it is large enough.

        ``no_respondents``, ``no_pupil_count`` (no 1 October count, so no response rate),
        ``more_than_pupils`` (more respondents than pupils, so the file or the count is
        wrong) or ``low_response`` (under RELIABLE_RESPONSE_RATE).
        """
        if self.respondents == 0:
            return "no_respondents"
        rate = self.response_rate
        if rate is None:
            return "no_pupil_count"
        if rate > 1:
            return "more_than_pupils"
        if rate < RELIABLE_RESPONSE_RATE:
            return "low_response"
        return None


def school_instrument(schools: Sequence[School], school_year: SchoolYear) -> Instrument | None:
    """Return the instrument most respondents of these schools used in the year.

    A tie goes to the instrument with the lowest id, the same rule as ``_main_instrument``.
    """
    row = (
        Respondent.select(Respondent.instrument, peewee.fn.COUNT(Respondent.id).alias("n"))
        .where((Respondent.school.in_(schools)) & (Respondent.school_year == school_year))
        .group_by(Respondent.instrument)
        .order_by(peewee.fn.COUNT(Respondent.id).desc(), Respondent.instrument)
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


class _QuestionnaireItems:
    """The items in force per instrument and year for one sector, in two queries at most.

    A report reads the questionnaire of every year of its trend. The versions of the
    instruments involved are read once, and the items of each version once.
    """

    def __init__(self, sector: str, instrument_ids: set[int]):
        self.versions: dict[int, list[tuple[str, int]]] = defaultdict(list)
        query = (
            Questionnaire.select(Questionnaire.id, Questionnaire.instrument, SchoolYear.name)
            .join(SchoolYear, on=(Questionnaire.valid_from == SchoolYear.id))
            .where(
                (Questionnaire.sector == sector) & (Questionnaire.instrument.in_(instrument_ids))
            )
            .tuples()
        )
        for questionnaire_id, instrument_id, valid_from in query:
            self.versions[instrument_id].append((valid_from, questionnaire_id))
        for versions in self.versions.values():
            versions.sort(reverse=True)
        self.items: dict[int, list[Item]] | None = None

    def _load_items(self) -> dict[int, list[Item]]:
        ids = [qid for versions in self.versions.values() for _name, qid in versions]
        items: dict[int, list[Item]] = defaultdict(list)
        for item in Item.select().where(Item.questionnaire.in_(ids)).order_by(Item.position):
            items[item.questionnaire_id].append(item)
        return items

    def __call__(self, instrument_id: int, year_name: str) -> list[Item]:
        questionnaire_id = next(
            (qid for valid_from, qid in self.versions[instrument_id] if valid_from <= year_name),
            None,
        )
        if questionnaire_id is None:
            return []
        if self.items is None:
            self.items = self._load_items()
        return self.items[questionnaire_id]


@dataclass
class _YearRows:
    """The respondents of one school year: (school id, instrument id, group, answers)."""

    name: str
    school_year_id: int
    rows: list[tuple[int, int, str, dict]] = field(default_factory=list)


def _respondent_rows(
    schools: Sequence[School], school_year: SchoolYear, earlier_years: bool
) -> dict[str, _YearRows]:
    """Read the respondents of the year, and of every earlier year when asked, in one query.

    Each answers_json is parsed once here. The result maps year name to its rows.
    """
    if earlier_years:
        year_filter = SchoolYear.name <= school_year.name
    else:
        year_filter = Respondent.school_year == school_year
    query = (
        Respondent.select(
            SchoolYear.name,
            Respondent.school_year,
            Respondent.school,
            Respondent.instrument,
            Respondent.group,
            Respondent.answers_json,
        )
        .join(SchoolYear, on=(Respondent.school_year == SchoolYear.id))
        .where(Respondent.school.in_(schools) & year_filter)
        .tuples()
    )
    years: dict[str, _YearRows] = {}
    for name, year_id, school_id, instrument_id, group, answers_json in query:
        year = years.get(name)
        if year is None:
            year = years[name] = _YearRows(name, year_id)
        year.rows.append((school_id, instrument_id, group, json.loads(answers_json)))
    return years


def _main_instrument(rows: list[tuple[int, int, str, dict]]) -> int:
    """Return the id of the instrument most rows used. A tie goes to the lowest id."""
    counts = Counter(instrument_id for _school, instrument_id, _group, _answers in rows)
    return min(counts, key=lambda instrument_id: (-counts[instrument_id], instrument_id))


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
    return {scale: mean for scale, (mean, _frozen_on) in _comparison(sector, school_year).items()}


def _comparison(sector: str, school_year: SchoolYear) -> dict[str, tuple[float, date]]:
    return {
        row.scale: (row.mean, row.frozen_on)
        for row in ComparisonValue.select().where(
            (ComparisonValue.sector == sector) & (ComparisonValue.school_year == school_year)
        )
    }


def build_report(
    schools: Sequence[School], school_year: SchoolYear, threshold: int, with_trend: bool = True
) -> Report:
    """Compute the report for one or more vestigingen of one sector in a school year.

    Only the respondents of the instrument most of them used that year count, so that
    every mean comes from one questionnaire. The report shows no figures when it has
    respondents, but fewer than ``threshold``, or when one of its vestigingen has. Below
    that, ``suppressed_groups`` and ``hidden_by_difference`` decide which groups are
    hidden. Each year of the trend follows the same rules.
    """
    sector = schools[0].sector
    pupils = _pupils(schools, school_year)
    comparison = _comparison(sector, school_year)
    frozen_on = max((day for _mean, day in comparison.values()), default=None)
    years = _respondent_rows(schools, school_year, earlier_years=with_trend)
    current = years.get(school_year.name)
    if current is None:
        empty = {scale: ScaleResult(scale, 0, None, None) for scale in SCALES}
        return Report(
            list(schools), school_year, None, 0, pupils, empty,
            {scale: mean for scale, (mean, _day) in comparison.items()}, [], [],
            comparison_frozen_on=frozen_on,
        )  # fmt: skip

    instruments = {year.name: _main_instrument(year.rows) for year in years.values()}
    items_of = _QuestionnaireItems(sector, set(instruments.values()))
    instrument_id = instruments[school_year.name]
    items = items_of(instrument_id, school_year.name)
    plan = ScoringPlan.of(items)
    rows = [row for row in current.rows if row[1] == instrument_id]
    scores = [plan.scores(answers) for _school, _instrument, _group, answers in rows]

    codes = {school.id: school.code for school in schools}
    reason, small = _suppression((row[0] for row in rows), codes, threshold)
    also_hide = frozenset()
    if len(schools) > 1:
        counts = Counter((group, school_id) for school_id, _instrument, group, _answers in rows)
        also_hide = hidden_by_difference(counts, threshold)
    # A scale or item that some vestiging scores from too few respondents is hidden, as
    # the report of that vestiging hides it and the difference would give it away.
    hidden_scales = thin_scales(
        ((row[0], row_scores) for row, row_scores in zip(rows, scores, strict=True)), threshold
    )
    hidden_items = thin_items(items, ((row[0], row[3]) for row in rows), threshold)
    scales = summarise_scores(plan.answer_max, scores, hidden_scales)
    victimisation = victimisation_shares(items, [row[3] for row in rows], hidden_items)
    if reason is not None:
        scales = {
            scale: ScaleResult(scale, result.respondents, None, None)
            for scale, result in scales.items()
        }
        victimisation = [_without_shares(shares) for shares in victimisation]
        logger.debug(
            "report schools=%s year=%s suppressed reason=%s small=%s",
            sorted(codes),
            school_year.name,
            reason,
            small,
        )
    report = Report(
        schools=list(schools),
        school_year=school_year,
        instrument=Instrument.get_by_id(instrument_id),
        respondents=len(rows),
        pupils=pupils,
        scales=scales,
        comparison={scale: mean for scale, (mean, _day) in comparison.items()},
        groups=group_results_from_scores(
            plan.answer_max,
            ((row[2], row_scores) for row, row_scores in zip(rows, scores, strict=True)),
            threshold,
            also_hide,
            hide_all=reason is not None,
            hidden_scales=hidden_scales,
        ),
        victimisation=victimisation,
        comparison_frozen_on=frozen_on,
        scale_max=max(plan.answer_max.values(), default=4),
        suppression_reason=reason,
        small_vestigingen=small,
    )
    if with_trend:
        current_year = TrendYear(
            school_year.name,
            report.respondents,
            {scale: result.mean for scale, result in report.scales.items()},
            report.suppressed,
        )
        report.trend = _trend(years, instruments, items_of, current_year, codes, threshold)
    return report


def _suppression(
    school_ids: Iterable[int], codes: dict[int, str], threshold: int
) -> tuple[str | None, list[str]]:
    """Return why a report of these respondents' school ids shows no figures, or None.

    Also returns the location codes of the vestigingen with too few respondents.
    """
    counts = Counter(school_ids)
    total = sum(counts.values())
    if 0 < total < threshold:
        return TOO_FEW_RESPONDENTS, []
    small = sorted(codes[school_id] for school_id, count in counts.items() if count < threshold)
    if small:
        return SMALL_VESTIGING, small
    return None, []


def _without_shares(shares: ItemShares) -> ItemShares:
    """Return the victimisation item with its answer options but no share."""
    return ItemShares(
        shares.code, shares.text, [OptionShare(option.label, None) for option in shares.options]
    )


def _trend(
    years: dict[str, _YearRows],
    instruments: dict[str, int],
    items_of: _QuestionnaireItems,
    current_year: TrendYear,
    codes: dict[int, str],
    threshold: int,
) -> list[TrendYear]:
    """Return the scale means of every year that has respondents, oldest first.

    ``current_year`` is the report's own year, already computed. An earlier year follows
    the same rules as a report of that year, so it is suppressed in the same cases.
    """
    trend = []
    for name in sorted(years):
        if name == current_year.name:
            trend.append(current_year)
            continue
        instrument_id = instruments[name]
        rows = [row for row in years[name].rows if row[1] == instrument_id]
        reason, _small = _suppression((row[0] for row in rows), codes, threshold)
        if reason is not None:
            trend.append(TrendYear(name, len(rows), dict.fromkeys(SCALES), suppressed=True))
            continue
        plan = ScoringPlan.of(items_of(instrument_id, name))
        year_scores = [(row[0], plan.scores(row[3])) for row in rows]
        scales = summarise_scores(
            plan.answer_max,
            (row_scores for _school, row_scores in year_scores),
            thin_scales(year_scores, threshold),
        )
        means = {scale: result.mean for scale, result in scales.items()}
        trend.append(TrendYear(name, len(rows), means))
    return trend


@dataclass
class BoardRow:
    """One school of a board report."""

    school: School
    report: Report

    @property
    def suppressed(self) -> bool:
        """Whether the school's own report hides its figures, so the board report does too."""
        return self.report.suppressed


def build_board_report(board: Board, school_year: SchoolYear, threshold: int) -> list[BoardRow]:
    """Compute the report of every school of the board for the year, by school name.

    Each row is the school's own report, so a school whose report shows no figures (see
    ``build_report``) shows none here either.
    """
    rows = []
    for school in School.select().where(School.board == board).order_by(School.name):
        report = build_report([school], school_year, threshold, with_trend=False)
        rows.append(BoardRow(school, report))
    return rows
