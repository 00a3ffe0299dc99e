"""Support desk actions: find schools and boards, and put a failed delivery back.

A re-queue is a guarded UPDATE on the current status, like every transition in
portal.domain.delivery, so two support staff (or a support member and the sweep) acting
at once cannot both win. Each re-queue writes a status history row and an audit event.
"""

import logging
import re
from dataclasses import dataclass

from portal.models import Board, DeliveryRequest, School, User

from .delivery import GIVEN_UP, RETRYING, requeue_request

logger = logging.getLogger(__name__)

# Statuses of a delivery that failed. The sweep retries "retrying" by itself, and
# "given_up" only after support puts it back.
REQUEUEABLE = (RETRYING, GIVEN_UP)

# History reason of a re-queue without a note of its own. Users see it, so it is Dutch.
DEFAULT_REQUEUE_REASON = "opnieuw ingepland door de helpdesk"

CODE_PATTERN = re.compile(r"^[0-9]{2}[A-Z]{2}[0-9]{2}$")
BRIN_PATTERN = re.compile(r"^[0-9]{2}[A-Z]{2}$")


@dataclass
class SearchResult:
    """Schools and boards that match a search term, each list cut at ``limit``."""

    schools: list[School]
    boards: list[Board]
    more_schools: bool
    more_boards: bool


def find_schools_and_boards(term: str, limit: int = 50) -> SearchResult:
    """Find schools by name, BRIN or location code and boards by name or board number.

    Names match anywhere and case-insensitively. BRIN, location code (BRIN plus
    vestigingsnummer, such as 15KU00) and board number must match exactly.
    """
    term = term.strip()
    compact = re.sub(r"\s+", "", term).upper()

    school_match = School.name.contains(term)
    if BRIN_PATTERN.match(compact):
        school_match |= School.brin == compact
    if CODE_PATTERN.match(compact):
        school_match |= (School.brin == compact[:4]) & (School.vestiging == compact[4:])
    schools = list(
        School.select(School, Board)
        .join(Board)
        .where(school_match)
        .order_by(School.name, School.brin, School.vestiging)
        .limit(limit + 1)
    )

    board_match = Board.name.contains(term) | (Board.number == compact)
    boards = list(Board.select().where(board_match).order_by(Board.name).limit(limit + 1))

    return SearchResult(
        schools=schools[:limit],
        boards=boards[:limit],
        more_schools=len(schools) > limit,
        more_boards=len(boards) > limit,
    )


def requeue_delivery(request: DeliveryRequest, user: User, note: str = "") -> None:
    """Put a failed delivery back to approved, so the next sweep sends it again.

    Raises DeliveryRefused("not_failed") when the request did not fail, and
    DeliveryRefused("status_changed") when its status changed since it was read.
    """
    requeue_request(request, user, note or DEFAULT_REQUEUE_REASON)
