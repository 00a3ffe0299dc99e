"""The portal's clock: Europe/Amsterdam dates, UTC instants, and the PORTAL_TODAY override."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date in Amsterdam, or PORTAL_TODAY when a demo installation sets it."""
    if has_app_context():
        fixed = current_app.config.get("PORTAL_TODAY")
        if fixed:
            return fixed
    return utcnow().astimezone(AMSTERDAM).date()


def now() -> datetime:
    """Return the current instant; with PORTAL_TODAY set, the current time of day on that date."""
    moment = utcnow()
    if has_app_context() and current_app.config.get("PORTAL_TODAY"):
        local_time = moment.astimezone(AMSTERDAM).time()
        fixed = datetime.combine(current_app.config["PORTAL_TODAY"], local_time, tzinfo=AMSTERDAM)
        return fixed.astimezone(UTC)
    return moment


def amsterdam_date(moment: datetime) -> date:
    """Return the Amsterdam calendar date of an aware instant."""
    return moment.astimezone(AMSTERDAM).date()


def start_of_day(day: date) -> datetime:
    """Return midnight of ``day`` in Amsterdam as an aware UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=AMSTERDAM).astimezone(UTC)


def local(moment: datetime) -> datetime:
    """Convert an aware datetime to Amsterdam time for display."""
    return moment.astimezone(AMSTERDAM)
