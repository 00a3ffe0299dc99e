"""The periodic delivery sweep."""

import logging

from portal.clock import today
from portal.domain.delivery import run_due
from portal.domain.transport import OutboxTransport

from . import data_dir, job

logger = logging.getLogger(__name__)


def default_transport() -> OutboxTransport:
    return OutboxTransport(data_dir() / "outbox")


@job
def deliver_due() -> list[int]:
    """Deliver every approved request whose leverdatum has come (Amsterdam date)."""
    return run_due(today(), default_transport())
