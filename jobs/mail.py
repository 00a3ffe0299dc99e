"""Sending the mail outbox, and queueing the deadline reminders.

Each pending notification is rendered from ``templates/mail/<kind>.txt``: the template's
``subject`` block is the subject and the whole template the plain-text body. A message
that fails stays pending and is tried again on the next run.
"""

import email.policy
import logging
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from portal.clock import today, utcnow
from portal.delivery.messages import status_label
from portal.domain.delivery import SUBMITTED, active_request
from portal.domain.mail_transport import MailConnectionError, MailSendError, make_mail_transport
from portal.domain.notifications import (
    BOARD_KINDS,
    REMINDER,
    SUPPORT_KINDS,
    claim,
    mark_sent,
    pending_ids,
    record_failure,
)
from portal.domain.reminders import queue_reminders
from portal.models import Notification, School

from . import job

logger = logging.getLogger(__name__)

# Headers are folded only past 998 characters, the limit of RFC 5322, because CPython
# 3.11 folds a long subject before an encoded word ("vóór") so that the unfolded subject
# has a doubled space. The body is encoded before this policy is set, so its
# quoted-printable lines keep the default maximum of 78 characters.
HEADER_POLICY = email.policy.default.clone(max_line_length=998)


def portal_url(endpoint: str, **values) -> str:
    """Return the absolute address of a portal page, based on PORTAL_BASE_URL."""
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def _request_context(notification: Notification) -> dict:
    request = notification.request
    school = request.school
    if notification.kind in BOARD_KINDS:
        link = portal_url("board.overview")
    elif notification.kind in SUPPORT_KINDS:
        link = portal_url("support.school", school_id=school.id)
    else:
        link = portal_url("delivery.show", school_id=school.id, schooljaar=request.school_year.name)
    return {
        "request": request,
        "school": school,
        "school_year": request.school_year,
        "status": status_label(request.status),
        "link": link,
    }


def _reminder_status(school: School, school_year) -> str:
    request = active_request(school, school_year)
    if request is None:
        return _("nog geen aanvraag van de school")
    if request.status == SUBMITTED:
        return _("aanvraag wacht op uw goedkeuring")
    return status_label(request.status)


def _reminder_context(notification: Notification) -> dict:
    details = notification.details
    school_year = notification.school_year
    schools = (
        School.select().where(School.id.in_(details["school_ids"])).order_by(School.name, School.id)
    )
    return {
        "board": notification.board,
        "school_year": school_year,
        "last_leverdatum": date.fromisoformat(details["last_leverdatum"]),
        "schools": [(school, _reminder_status(school, school_year)) for school in schools],
        "link": portal_url("board.overview"),
    }


def render_mail(notification: Notification) -> tuple[str, str]:
    """Return the Dutch subject and plain-text body of a notification."""
    recipient = notification.recipient
    context = {
        "kind": notification.kind,
        "recipient_name": recipient.name if recipient else "",
        "portal_link": portal_url("management.venster"),
    }
    if notification.kind == REMINDER:
        context.update(_reminder_context(notification))
    else:
        context.update(_request_context(notification))

    template = current_app.jinja_env.get_template(f"mail/{notification.kind}.txt")
    subject_parts = template.blocks["subject"](template.new_context(context))
    # A subject is one header line, whatever whitespace the template contains.
    subject = " ".join("".join(subject_parts).split())
    body = template.render(context).strip() + "\n"
    return subject, body


def build_message(notification: Notification, subject: str, body: str) -> EmailMessage:
    """Return the e-mail of a notification, addressed to its recipient."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.recipient_email
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(
        idstring=f"notification-{notification.id}", domain=sender.rpartition("@")[2] or None
    )
    # RFC 3834: marks the message as sent by a program, so out-of-office replies skip it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, cte="quoted-printable")
    message.policy = HEADER_POLICY
    return message


# Outcomes of one send.
SENT = "sent"
FAILED = "failed"
CONNECTION_LOST = "connection_lost"
TAKEN = "taken"


@job
def send_pending_notifications() -> int:
    """Send every pending notification and return how many were sent in this run."""
    return send_pending()


def send_pending() -> int:
    """Send every pending notification through the transport that MAIL_URL names."""
    config = current_app.config
    transport = make_mail_transport(config["MAIL_URL"], config["PORTAL_DATA_DIR"])
    ids = pending_ids(utcnow())
    if not ids:
        return 0

    outcomes = []
    try:
        with transport:
            for notification_id in ids:
                outcomes.append(_send_one(notification_id, transport))
                if outcomes[-1] == CONNECTION_LOST:
                    # The rest would fail the same way, so the next run tries them.
                    break
    except MailConnectionError as error:
        # Nothing was claimed, so no attempt is counted while the server is down.
        logger.warning("mail transport unavailable pending=%d error=%s", len(ids), error)
        return 0
    sent = outcomes.count(SENT)
    logger.info(
        "mail run pending=%d sent=%d failed=%d",
        len(ids),
        sent,
        outcomes.count(FAILED) + outcomes.count(CONNECTION_LOST),
    )
    return sent


def _send_one(notification_id: int, transport) -> str:
    """Claim, render and send one notification, and return the outcome."""
    notification = claim(notification_id, utcnow())
    if notification is None:
        return TAKEN
    try:
        subject, body = render_mail(notification)
        message = build_message(notification, subject, body)
    except Exception as error:  # noqa: BLE001 - one broken message must not block the others
        logger.exception(
            "notification=%s kind=%s render failed", notification.id, notification.kind
        )
        record_failure(notification, f"render failed: {type(error).__name__}: {error}")
        return FAILED

    try:
        transport.send(message, f"notification-{notification.id}")
    except MailSendError as error:
        logger.warning(
            "notification=%s kind=%s attempt=%d send failed: %s",
            notification.id,
            notification.kind,
            notification.attempts,
            error.summary,
        )
        record_failure(notification, str(error))
        return CONNECTION_LOST if isinstance(error, MailConnectionError) else FAILED

    mark_sent(notification, subject)
    logger.info(
        "notification=%s kind=%s request=%s sent attempt=%d",
        notification.id,
        notification.kind,
        notification.request_id,
        notification.attempts,
    )
    return SENT


@job
def send_deadline_reminders() -> int:
    """Queue the reminders due today, send them, and return how many boards were reminded."""
    reminded = queue_reminders(today(), current_app.config["REMINDER_DAYS_BEFORE_LAST"])
    if reminded:
        send_pending()
    return reminded
