"""Freezing the national comparison values on the date an admin planned."""

import logging

from flask import current_app

from portal.clock import today
from portal.domain.comparison import due_years, freeze_and_record

from . import job

logger = logging.getLogger(__name__)


@job
def freeze_planned_comparisons() -> list[str]:
    """Freeze every school year whose planned date has come; return the names of those years.

    The values get today's date as their freeze date. That is the planned date, unless the
    worker was down on it. The plan is cleared in the same transaction, so each plan runs once.
    """
    day = today()
    frozen = []
    for school_year in due_years(day):
        planned = school_year.comparison_freeze_on
        written = freeze_and_record(school_year, day, current_app.config["SUPPRESSION_THRESHOLD"])
        logger.info(
            "planned comparison freeze done year=%s planned_on=%s values=%s",
            school_year.name,
            planned,
            written,
        )
        frozen.append(school_year.name)
    return frozen
