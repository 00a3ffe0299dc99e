"""The worker entry: an RQ worker and, beside it, RQ's cron scheduler for periodic jobs."""

import logging
import multiprocessing
import os
import socket

from flask import Flask
from redis import Redis
from rq import Queue, Worker
from rq.cron import CronScheduler

from .schedule import PERIODIC_JOBS

logger = logging.getLogger(__name__)


def run_cron_scheduler(redis_url: str, queue_name: str) -> None:
    """Enqueue each periodic job on its interval until stopped by SIGTERM or SIGINT."""
    from portal import configure_logging

    configure_logging()
    scheduler = CronScheduler(
        connection=Redis.from_url(redis_url), name=f"cron:{socket.gethostname()}:{os.getpid()}"
    )
    for periodic in PERIODIC_JOBS:
        scheduler.register(
            periodic.func,
            queue_name=queue_name,
            interval=periodic.interval_seconds,
            job_timeout=periodic.timeout_seconds,
            name=periodic.name,
        )
    scheduler.start()


class PortalWorker(Worker):
    """An RQ worker whose command listener wakes every second.

    RQ's listener thread blocks up to 60 s waiting for a message, and closing its
    connection at shutdown waits for that block to end, so a stopped worker could linger
    for a minute.
    """

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def _preload_job_modules() -> None:
    """Import the job modules and register the PDF font before RQ forks a work horse per job.

    A horse that imports them itself spends most of a second on it (reportlab and the
    report code), which is several times the work of one factsheet.
    """
    from . import deliveries, factsheets, imports, mail  # noqa: F401
    from .pdf_layout import FontMissing, register_fonts

    try:
        register_fonts()
    except FontMissing as error:
        # Deliveries and mail still work without the font, so the worker keeps running and
        # each factsheet job fails with this same error.
        logger.error("factsheet font unavailable: %s", error)


def run_worker(app: Flask, with_scheduler: bool = True, burst: bool = False) -> None:
    """Work the portal queue in this process; start the cron scheduler in a child process."""
    redis = app.extensions["redis"]
    queue_name = app.config["RQ_QUEUE"]
    cron = None
    if with_scheduler and not burst:
        cron = multiprocessing.get_context("spawn").Process(
            target=run_cron_scheduler,
            args=(app.config["REDIS_URL"], queue_name),
            name="portal-cron",
            daemon=True,
        )
        cron.start()
        logger.info("cron scheduler started pid=%s", cron.pid)
    _preload_job_modules()
    try:
        with app.app_context():
            worker = PortalWorker([Queue(queue_name, connection=redis)], connection=redis)
            logger.info("worker %s starting queue=%s", worker.name, queue_name)
            worker.work(with_scheduler=with_scheduler, burst=burst)
    finally:
        if cron is not None and cron.is_alive():
            cron.terminate()
            cron.join(10)
        logger.info("worker stopped")
