"""The RQ queue of the portal, bound to the app's Redis connection."""

import logging

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue

logger = logging.getLogger(__name__)

MAIL_JOB = "jobs.mail.send_pending_notifications"
# A mail run usually takes seconds, and this limit leaves room for a slow SMTP server.
MAIL_JOB_TIMEOUT_SECONDS = 300


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=current_app.extensions["redis"])


def enqueue_mail_run() -> None:
    """Queue a run of the mail job, to be called after notifications were committed.

    A failure is logged and otherwise ignored, because the periodic mail run sends the
    pending notifications within a minute anyway.
    """
    try:
        job = get_queue().enqueue(MAIL_JOB, job_timeout=MAIL_JOB_TIMEOUT_SECONDS)
    except (RedisError, OSError) as error:
        logger.warning("mail run not queued, left to the periodic run: %s", error)
        return
    logger.info("mail run queued rq=%s", job.id)
