"""Periodic jobs, declared as data with stable names so a restarted scheduler never doubles one."""

from dataclasses import dataclass

from .deliveries import deliver_due


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: object
    interval_seconds: int
    timeout_seconds: int


PERIODIC_JOBS = (
    # Delivery is due from 00:00 Amsterdam time on the leverdatum; a sweep a minute is cheap
    # because the database says what is due.
    PeriodicJob("deliveries.deliver-due", deliver_due, interval_seconds=60, timeout_seconds=1800),
)
