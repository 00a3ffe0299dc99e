"""The periodic delivery sweep."""

import logging

from flask import current_app

from portal.clock import now
from portal.domain.delivery import DeliveryPolicy, run_due
from portal.domain.transport import make_transport

from . import job

logger = logging.getLogger(__name__)


@job
def deliver_due() -> list[int]:
    """Deliver every request that is due now: approved, retry time reached, or lease expired."""
    config = current_app.config
    return run_due(now(), make_transport(config), DeliveryPolicy.from_config(config))
