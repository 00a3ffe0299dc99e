"""Importing large survey files in the worker."""

import logging

from flask import current_app

from portal.domain.imports import run_import
from portal.domain.imports.queueing import remove_file, stored_path
from portal.models import SurveyImport

from . import job

logger = logging.getLogger(__name__)


@job
def import_file(import_id: int) -> str:
    """Run a queued import from its stored file; the file is removed when the import ends."""
    survey_import = SurveyImport.get_by_id(import_id)
    path = stored_path(survey_import)
    logger.info("import=%s school=%s started in worker", import_id, survey_import.school_id)
    data = path.read_bytes()

    def progress(rows: int) -> None:
        SurveyImport.update(progress=rows).where(SurveyImport.id == import_id).execute()

    try:
        run_import(survey_import, data, current_app.config["SUPPRESSION_THRESHOLD"], progress)
    except Exception:
        logger.exception("import=%s failed", import_id)
        raise
    remove_file(survey_import)
    return survey_import.status
