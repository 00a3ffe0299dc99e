"""Imports run by a worker: store the file, queue the job, notice dead workers, retry.

Times come from portal.clock.now(), like the import record's own timestamps, so that an
installation with PORTAL_TODAY compares like with like.
"""

import logging
from datetime import timedelta
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from portal.clock import now as clock_now
from portal.models import SurveyImport
from portal.queue import get_queue

logger = logging.getLogger(__name__)

IMPORT_JOB = "jobs.imports.import_file"
ACTIVE = ("queued", "running")
WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
DEAD = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
# An import without job and stored file runs inside the upload request. Gunicorn stops
# that request after its worker timeout, 30 s by default, which `portal serve` keeps.
# So an inline import still active after this many seconds has lost its request.
INLINE_MAX_SECONDS = 120


def inline_max_bytes() -> int:
    return current_app.config["IMPORT_INLINE_MAX_BYTES"]


def job_timeout() -> int:
    return current_app.config["IMPORT_JOB_TIMEOUT_SECONDS"]


def stored_path(survey_import: SurveyImport) -> Path | None:
    if not survey_import.file_path:
        return None
    return current_app.config["PORTAL_DATA_DIR"] / survey_import.file_path


def store_file(survey_import: SurveyImport, data: bytes) -> None:
    """Write the upload under PORTAL_DATA_DIR/imports/ for the worker."""
    relative = f"imports/import-{survey_import.id}.upload"
    target = current_app.config["PORTAL_DATA_DIR"] / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    survey_import.file_path = relative
    survey_import.rows_expected = expected_rows(data)
    survey_import.save(only=[SurveyImport.file_path, SurveyImport.rows_expected])


def expected_rows(data: bytes) -> int | None:
    """Estimate the data rows of a CSV file from its line breaks; None for a workbook.

    A CSV file has one row a line after its header, unless a quoted cell contains a line
    break, so the estimate may be a little high. A workbook is a ZIP archive, whose rows
    are only known once read.
    """
    if data.startswith(b"PK\x03\x04"):
        return None
    lines = data.count(b"\n")
    if data and not data.endswith(b"\n"):
        lines += 1
    return max(lines - 1, 0)


def remove_file(survey_import: SurveyImport) -> None:
    path = stored_path(survey_import)
    if path is not None:
        path.unlink(missing_ok=True)
    survey_import.file_path = ""
    survey_import.save(only=[SurveyImport.file_path])


def enqueue(survey_import: SurveyImport) -> bool:
    """Queue the import job; mark the import failed when Redis is unavailable."""
    try:
        rq_job = get_queue().enqueue(
            IMPORT_JOB, survey_import.id, job_timeout=job_timeout(), failure_ttl=7 * 24 * 3600
        )
    except (RedisError, OSError):
        logger.exception("import=%s could not be queued", survey_import.id)
        survey_import.status = "failed"
        survey_import.error_count = 0
        survey_import.finished_at = clock_now()
        survey_import.save()
        return False
    survey_import.rq_job_id = rq_job.id
    survey_import.save(only=[SurveyImport.rq_job_id])
    logger.info(
        "import=%s school=%s queued rq=%s", survey_import.id, survey_import.school_id, rq_job.id
    )
    return True


def mark_dead(survey_import: SurveyImport) -> None:
    """Mark a queued or running import whose worker died as failed, so it can be retried.

    Dead means RQ failed or stopped the job while the row is still active, or the row is
    older than the job timeout and RQ no longer has the job or still calls it started. An
    import that ran inside the upload request is dead after INLINE_MAX_SECONDS.
    """
    if survey_import.status not in ACTIVE:
        return
    now = clock_now()
    since = survey_import.started_at or survey_import.created_at
    inline = not survey_import.rq_job_id and not survey_import.file_path
    limit = INLINE_MAX_SECONDS if inline else job_timeout() + 30
    overdue = now - since > timedelta(seconds=limit)
    try:
        status = None
        if survey_import.rq_job_id:
            connection = current_app.extensions["redis"]
            status = Job.fetch(survey_import.rq_job_id, connection=connection).get_status()
    except NoSuchJobError:
        status = None
    except (RedisError, OSError):
        logger.warning("import=%s: RQ status unavailable", survey_import.id)
        return
    if status in DEAD or (status not in WAITING and overdue):
        updated = (
            SurveyImport.update(status="failed", finished_at=now)
            .where((SurveyImport.id == survey_import.id) & (SurveyImport.status.in_(ACTIVE)))
            .execute()
        )
        if updated:
            survey_import.status, survey_import.finished_at = "failed", now
            logger.warning(
                "import=%s marked failed: worker died rq_status=%s", survey_import.id, status
            )


def can_retry(survey_import: SurveyImport) -> bool:
    """Tell whether a failed import can be queued again, because its worker died.

    An import that stored problems ended in the worker: its file was checked and
    rejected, and reading it again would give the same result.
    """
    if survey_import.status != "failed" or survey_import.error_count:
        return False
    path = stored_path(survey_import)
    return path is not None and path.is_file()


def retry(survey_import: SurveyImport) -> bool:
    """Queue a failed import again with its stored file; False when that is not possible."""
    if not can_retry(survey_import):
        return False
    updated = (
        SurveyImport.update(
            status="queued",
            rq_job_id="",
            progress=0,
            errors_json="[]",
            error_count=0,
            created_at=clock_now(),
            started_at=None,
            finished_at=None,
        )
        .where((SurveyImport.id == survey_import.id) & (SurveyImport.status == "failed"))
        .execute()
    )
    if not updated:
        return False
    return enqueue(SurveyImport.get_by_id(survey_import.id))
