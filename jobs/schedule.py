"""Periodic jobs, declared as data with stable names so a restarted scheduler never doubles one."""

from dataclasses import dataclass

from .comparison import freeze_planned_comparisons
from .deliveries import deliver_due
from .factsheets import remove_expired_factsheets
from .mail import send_deadline_reminders, send_pending_notifications


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: object
    interval_seconds: int
    timeout_seconds: int


PERIODIC_JOBS = (
    # Delivery is due from 00:00 Amsterdam time on the leverdatum; a sweep a minute is cheap
    # because the database records what is due.
    PeriodicJob("deliveries.deliver-due", deliver_due, interval_seconds=60, timeout_seconds=1800),
    # Web requests also queue a mail run after they commit. This run sends what they could
    # not queue and retries what failed.
    PeriodicJob(
        "mail.send-pending",
        send_pending_notifications,
        interval_seconds=60,
        timeout_seconds=300,
    ),
    # The reminder is recorded per board and school year, so running hourly sends it once,
    # within an hour after its first day begins.
    PeriodicJob(
        "mail.deadline-reminders",
        send_deadline_reminders,
        interval_seconds=3600,
        timeout_seconds=600,
    ),
    # Removes factsheet PDFs and ZIPs older than FACTSHEET_RETENTION_DAYS. Daily is enough.
    PeriodicJob(
        "factsheets.remove-expired",
        remove_expired_factsheets,
        interval_seconds=24 * 3600,
        timeout_seconds=600,
    ),
    # An admin plans the freeze of the comparison values for a date. Hourly runs freeze
    # them within an hour after that date begins in Amsterdam.
    PeriodicJob(
        "comparison.freeze-planned",
        freeze_planned_comparisons,
        interval_seconds=3600,
        timeout_seconds=900,
    ),
)
