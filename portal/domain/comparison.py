"""The national comparison value: the mean of all schools of a sector, frozen on a date."""

import json
from collections import defaultdict
from datetime import date

from portal.models import SCALES, ComparisonValue, Instrument, Respondent, School, SchoolYear, db

from .indicators import respondent_scale_scores
from .report import questionnaire_items


def freeze_comparison(school_year: SchoolYear, frozen_on: date) -> int:
    """Compute and store the comparison value per sector and scale; return the rows written.

    Each school counts once, with its own mean, so a large school does not outweigh a
    small one. Later imports do not move a frozen value until it is frozen again.
    """
    school_scores: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    items_cache = {}
    query = (
        Respondent.select(
            Respondent.school, Respondent.instrument, School.sector, Respondent.answers_json
        )
        .join(School)
        .where(Respondent.school_year == school_year)
        .tuples()
    )
    for school_id, instrument_id, sector, answers_json in query:
        key = (instrument_id, sector)
        if key not in items_cache:
            items_cache[key] = questionnaire_items(
                Instrument.get_by_id(instrument_id), sector, school_year
            )
        scores = respondent_scale_scores(items_cache[key], json.loads(answers_json))
        for scale, score in scores.items():
            school_scores[(school_id, sector)][scale].append(score)

    per_sector: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    respondents: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (_school_id, sector), scales in school_scores.items():
        for scale, values in scales.items():
            per_sector[sector][scale].append(sum(values) / len(values))
            respondents[sector][scale] += len(values)

    written = 0
    with db.atomic():
        ComparisonValue.delete().where(ComparisonValue.school_year == school_year).execute()
        for sector, scales in per_sector.items():
            for scale in SCALES:
                means = scales.get(scale)
                if not means:
                    continue
                ComparisonValue.create(
                    school_year=school_year,
                    sector=sector,
                    scale=scale,
                    mean=sum(means) / len(means),
                    respondents=respondents[sector][scale],
                    frozen_on=frozen_on,
                )
                written += 1
    return written
