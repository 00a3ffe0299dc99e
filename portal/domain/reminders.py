"""Deadline reminders to boards whose schools have data but nothing on its way yet.

A board is reminded at most once per school year: a board_reminder row with a unique
(board, school year) index is written in the same transaction as the e-mails.
"""

import logging
from datetime import date, timedelta

import peewee

from portal.clock import utcnow
from portal.models import BoardReminder, DeliveryDate, Respondent, School, SchoolYear, db

from .calendar import current_school_year
from .delivery import SUBMITTED, active_request
from .notifications import REMINDER, board_secretaries, encode_details, insert_notifications

logger = logging.getLogger(__name__)


def last_leverdatum(school_year: SchoolYear) -> date | None:
    """Return the last leverdatum of the school year, or None when it has none."""
    row = (
        DeliveryDate.select(DeliveryDate.date)
        .where(DeliveryDate.school_year == school_year)
        .order_by(DeliveryDate.date.desc())
        .first()
    )
    return row.date if row else None


def reminder_window(school_year: SchoolYear, days_before: int) -> tuple[date, date] | None:
    """Return the first day of reminding and the last leverdatum, or None without dates.

    Reminders go out from ``days_before`` days before the last leverdatum up to the day
    before it, because a request needs approval before its leverdatum.
    """
    last = last_leverdatum(school_year)
    if last is None:
        return None
    return last - timedelta(days=days_before), last


def schools_awaiting_board(board_id: int, school_year: SchoolYear) -> list[School]:
    """Return the board's schools with survey data in the year that still need the board.

    A school needs the board when it has no request yet or its request waits for
    approval. An approved, delivering or delivered request needs nothing more from the
    board, and a failed one is for the support desk.
    """
    with_data = (
        School.select()
        .where(
            (School.board == board_id)
            & peewee.fn.EXISTS(
                Respondent.select(Respondent.id).where(
                    (Respondent.school == School.id) & (Respondent.school_year == school_year)
                )
            )
        )
        .order_by(School.name, School.id)
    )
    awaiting = []
    for school in with_data:
        request = active_request(school, school_year)
        if request is None or request.status == SUBMITTED:
            awaiting.append(school)
    return awaiting


def queue_reminders(today: date, days_before: int) -> int:
    """Write the reminder e-mails due on ``today`` and return how many boards were reminded."""
    school_year = current_school_year(today)
    if school_year is None:
        return 0
    window = reminder_window(school_year, days_before)
    if window is None:
        return 0
    first_day, last = window
    if not first_day <= today < last:
        return 0

    already = {
        row.board_id
        for row in BoardReminder.select(BoardReminder.board).where(
            BoardReminder.school_year == school_year
        )
    }
    board_ids = sorted({row.board_id for row in School.select(School.board).distinct()} - already)
    reminded = 0
    for board_id in board_ids:
        if _remind_board(board_id, school_year, last):
            reminded += 1
    logger.info(
        "reminders year=%s last_leverdatum=%s boards_reminded=%d",
        school_year.name,
        last,
        reminded,
    )
    return reminded


def _remind_board(board_id: int, school_year: SchoolYear, last: date) -> bool:
    """Queue the reminder of one board, unless no school awaits it or it has no secretary."""
    schools = schools_awaiting_board(board_id, school_year)
    if not schools:
        return False
    secretaries = list(board_secretaries(board_id))
    if not secretaries:
        # No record is written, so a secretary added later still gets the reminder.
        logger.warning(
            "reminder board=%s year=%s skipped: board has no active secretary",
            board_id,
            school_year.name,
        )
        return False

    now = utcnow()
    try:
        with db.atomic():
            BoardReminder.create(
                board=board_id,
                school_year=school_year,
                created_at=now,
                recipients=len(secretaries),
            )
            insert_notifications(
                REMINDER,
                secretaries,
                now,
                board=board_id,
                school_year=school_year.id,
                details_json=encode_details(
                    school_ids=[school.id for school in schools], last_leverdatum=last
                ),
            )
    except peewee.IntegrityError:
        # A concurrent run recorded this board's reminder first.
        logger.info("reminder board=%s year=%s already queued", board_id, school_year.name)
        return False
    logger.info(
        "reminder board=%s year=%s schools=%d recipients=%d",
        board_id,
        school_year.name,
        len(schools),
        len(secretaries),
    )
    return True
