"""Factsheet jobs and batches: queue them, notice dead workers, retry, bundle as ZIP."""

import logging
import os
import zipfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from portal.clock import utcnow
from portal.models import (
    Board,
    FactsheetBatch,
    FactsheetJob,
    Respondent,
    School,
    SchoolYear,
    User,
    db,
)
from portal.queue import get_queue

logger = logging.getLogger(__name__)

BUILD_JOB = "jobs.factsheets.build_factsheet"
ACTIVE = ("queued", "running")
# RQ states in which a job still waits for a worker; a row in these is not stale.
WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
DEAD = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
WORKER_DIED = "worker stopped"


def job_timeout() -> int:
    return current_app.config["FACTSHEET_JOB_TIMEOUT_SECONDS"]


def enqueue(job: FactsheetJob) -> bool:
    """Put the job on the RQ queue with an explicit timeout; mark it failed when Redis is down."""
    try:
        rq_job = get_queue().enqueue(
            BUILD_JOB,
            job.id,
            job_timeout=job_timeout(),
            failure_ttl=7 * 24 * 3600,
        )
    except (RedisError, OSError):
        logger.exception("factsheet job=%s could not be queued", job.id)
        job.status = "failed"
        job.error = "queue unavailable"
        job.finished_at = utcnow()
        job.save()
        return False
    job.rq_job_id = rq_job.id
    job.save(only=[FactsheetJob.rq_job_id])
    logger.info("factsheet job=%s school=%s queued rq=%s", job.id, job.school_id, rq_job.id)
    return True


def _rq_status(job: FactsheetJob) -> str | None:
    """Return the RQ status of the job, or None when RQ no longer has it."""
    if not job.rq_job_id:
        return None
    try:
        return Job.fetch(job.rq_job_id, connection=current_app.extensions["redis"]).get_status()
    except NoSuchJobError:
        return None


def mark_dead_jobs(jobs) -> None:
    """Mark queued or running jobs whose worker died as failed, so they can be retried.

    A job is dead when RQ failed or stopped it while the row status is still queued or running
    (the work horse was killed before the job could write its own failure), or when the
    row is older than the job timeout and RQ either lost the job or still calls it started.
    A job that RQ still holds in its queue is waiting, not dead, however long the queue.
    """
    now = utcnow()
    limit = timedelta(seconds=job_timeout() + 30)
    for job in jobs:
        if job.status not in ACTIVE:
            continue
        since = job.started_at or job.created_at
        overdue = now - since > limit
        # A queued row is only asked about once overdue, so a page that follows a batch of
        # a thousand waiting jobs does not fetch each of them from Redis every second.
        if job.status == "queued" and not overdue:
            continue
        try:
            status = _rq_status(job)
        except (RedisError, OSError):
            logger.warning("factsheet job=%s: RQ status unavailable", job.id)
            return
        if status in DEAD or (status not in WAITING and overdue):
            updated = (
                FactsheetJob.update(status="failed", error=WORKER_DIED, finished_at=now)
                .where((FactsheetJob.id == job.id) & (FactsheetJob.status.in_(ACTIVE)))
                .execute()
            )
            if updated:
                job.status, job.error, job.finished_at = "failed", WORKER_DIED, now
                logger.warning(
                    "factsheet job=%s marked failed: worker died rq=%s rq_status=%s",
                    job.id,
                    job.rq_job_id,
                    status,
                )


def retry(job: FactsheetJob) -> bool:
    """Queue a failed job again; return False when it is not failed."""
    updated = (
        FactsheetJob.update(
            status="queued",
            error="",
            rq_job_id="",
            created_at=utcnow(),
            started_at=None,
            finished_at=None,
        )  # fmt: skip
        .where((FactsheetJob.id == job.id) & (FactsheetJob.status == "failed"))
        .execute()
    )
    if not updated:
        return False
    if job.batch_id:
        discard_zip(FactsheetBatch.get_by_id(job.batch_id))
    return enqueue(FactsheetJob.get_by_id(job.id))


def batch_schools(scope: str, school_year: SchoolYear, school=None, board=None) -> list[School]:
    """Return the schools of a batch: one school, every school of a board, or all with data."""
    if scope == "school":
        return [school]
    if scope == "board":
        return list(School.select().where(School.board == board).order_by(School.brin, School.id))
    with_data = Respondent.select(Respondent.school).where(Respondent.school_year == school_year)
    return list(School.select().where(School.id.in_(with_data)).order_by(School.brin, School.id))


def start_batch(
    scope: str,
    school_year: SchoolYear,
    user: User,
    school: School | None = None,
    board: Board | None = None,
) -> FactsheetBatch:
    """Create a batch with one factsheet job per school, then queue each job."""
    schools = batch_schools(scope, school_year, school, board)
    now = utcnow()
    with db.atomic():
        batch = FactsheetBatch.create(
            scope=scope,
            school=school,
            board=board,
            school_year=school_year,
            requested_by=user,
            created_at=now,
        )
        rows = [
            {
                "school": s.id,
                "school_year": school_year.id,
                "requested_by": user.id,
                "batch": batch.id,
                "created_at": now,
            }
            for s in schools
        ]
        for start in range(0, len(rows), 500):
            FactsheetJob.insert_many(rows[start : start + 500]).execute()
    # The rows are read in full first: on SQLite a write while a read cursor is still open
    # fails at once with "database is locked" when a worker committed in between.
    jobs = list(FactsheetJob.select().where(FactsheetJob.batch == batch).order_by(FactsheetJob.id))
    for job in jobs:
        enqueue(job)
    logger.info("factsheet batch=%s scope=%s schools=%d queued", batch.id, scope, len(schools))
    return batch


def batch_counts(batch: FactsheetBatch) -> dict[str, int]:
    """Return the number of the batch's jobs per status, and the total."""
    counts = {status: 0 for status in ("queued", "running", "done", "failed", "expired")}
    for job in batch.jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    counts["total"] = sum(counts.values())
    return counts


def discard_zip(batch: FactsheetBatch) -> None:
    """Remove the batch's ZIP, because a retried job will change its contents."""
    if batch.zip_path:
        (current_app.config["PORTAL_DATA_DIR"] / batch.zip_path).unlink(missing_ok=True)
        batch.zip_path = ""
        batch.save(only=[FactsheetBatch.zip_path])


def batch_zip(batch: FactsheetBatch) -> Path:
    """Return the ZIP of the batch's finished PDFs, writing it first when missing.

    The ZIP is written under a temporary name and renamed, so a download never gets a
    half-written archive.
    """
    data_dir = current_app.config["PORTAL_DATA_DIR"]
    if batch.zip_path and (data_dir / batch.zip_path).is_file():
        return data_dir / batch.zip_path
    relative = f"factsheets/batches/batch-{batch.id}-{batch.school_year.name}.zip"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    done = (
        FactsheetJob.select(FactsheetJob, School)
        .join(School)
        .where((FactsheetJob.batch == batch) & (FactsheetJob.status == "done"))
        .order_by(School.brin, School.vestiging)
    )
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        for job in done:
            source = data_dir / job.file_path
            if source.is_file():
                archive.write(source, f"factsheet-{job.school.code}-{batch.school_year.name}.pdf")
    os.replace(partial, target)
    batch.zip_path = relative
    batch.save(only=[FactsheetBatch.zip_path])
    return target


def remove_expired(days: int) -> tuple[int, int]:
    """Delete factsheet PDFs and batch ZIPs older than ``days``; return how many of each."""
    data_dir = current_app.config["PORTAL_DATA_DIR"]
    cutoff = utcnow() - timedelta(days=days)
    files = 0
    old_jobs = list(
        FactsheetJob.select().where(
            (FactsheetJob.status == "done") & (FactsheetJob.finished_at < cutoff)
        )
    )
    for job in old_jobs:
        (data_dir / job.file_path).unlink(missing_ok=True)
        job.status, job.file_path = "expired", ""
        job.save(only=[FactsheetJob.status, FactsheetJob.file_path])
        files += 1
    # A build whose worker died leaves its temporary file behind. None of them is offered,
    # and one older than a day belongs to no running build (the job timeout is far shorter).
    stale = utcnow().timestamp() - 24 * 3600
    for partial in (data_dir / "factsheets").rglob("*.partial"):
        if partial.stat().st_mtime < stale:
            partial.unlink(missing_ok=True)
    zips = 0
    old_batches = list(
        FactsheetBatch.select().where(
            (FactsheetBatch.zip_path != "") & (FactsheetBatch.created_at < cutoff)
        )
    )
    for batch in old_batches:
        discard_zip(batch)
        zips += 1
    return files, zips
