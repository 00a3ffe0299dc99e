"""E-mail notifications: the outbox rows, sending over a real SMTP server on loopback,
the .eml file transport, the deadline reminder and a real worker process that sends."""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from redis import Redis

from jobs.mail import send_deadline_reminders, send_pending, send_pending_notifications
from portal.clock import utcnow
from portal.domain import delivery
from portal.domain.delivery import (
    DeliveryPolicy,
    approve_request,
    change_request,
    deliver_request,
    reject_request,
    stored_answers,
)
from portal.domain.notifications import MAX_ATTEMPTS, queue_notifications
from portal.domain.reminders import queue_reminders
from portal.domain.transport import TransportError
from portal.models import (
    Board,
    BoardReminder,
    DeliveryRequest,
    Notification,
    School,
    User,
    UserSchool,
    db,
)

from .conftest import school_id
from .test_views import FORM

BASE_URL = "https://msv.example.test/portaal"
WAIT_SECONDS = 30


class MailSink:
    """An aiosmtpd handler that keeps every message and can refuse chosen recipients."""

    def __init__(self):
        self.envelopes = []
        self.refused = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self):
        return [message_from_bytes(e.content, policy=default_policy) for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; yields (sink, port)."""
    sink = MailSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def smtp_config(config, smtp_server):
    """Settings that send mail to the test's SMTP server; request it before ``app``."""
    _sink, port = smtp_server
    config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    config["MAIL_FROM"] = "portaal@msv.example.test"
    config["PORTAL_BASE_URL"] = BASE_URL
    return config


def _submit(client, auth, app, code: str = "15KU00") -> int:
    auth.login("school@demo.test")
    school = school_id(app, code)
    response = client.post(f"/scholen/{school}/levering", data={**FORM, "action": "submit"})
    assert response.status_code == 303
    auth.logout()
    with app.app_context(), db.connection_context():
        return DeliveryRequest.select().order_by(DeliveryRequest.id.desc()).get().id


def _notifications(app, **where) -> list[Notification]:
    with app.app_context(), db.connection_context():
        query = Notification.select().order_by(Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(query)


def _send(app) -> int:
    with app.app_context(), db.connection_context():
        return send_pending()


# --- the outbox rows ---------------------------------------------------------------------


def test_submit_mails_active_secretaries_of_board(client, auth, app):
    with app.app_context(), db.connection_context():
        board = Board.get(Board.number == "41234")
        for email, active in (("tweede@demo.test", True), ("oud@demo.test", False)):
            User.create(
                email=email,
                name=email,
                password_hash="-",
                role="board_secretary",
                board=board,
                active=active,
            )

    request_id = _submit(client, auth, app)

    rows = _notifications(app)
    assert [row.kind for row in rows] == ["submitted", "submitted"]
    assert [row.recipient_email for row in rows] == ["bestuur@demo.test", "tweede@demo.test"]
    assert all(row.request_id == request_id for row in rows)
    assert all(row.sent_at is None for row in rows)


def test_approval_mails_linked_school_staff(client, auth, app):
    request_id = _submit(client, auth, app)
    with app.app_context(), db.connection_context():
        school = School.get_by_id(school_id(app, "15KU00"))
        colleague = User.create(
            email="collega@demo.test", name="Collega", password_hash="-", role="school_staff"
        )
        UserSchool.create(user=colleague, school=school)
        former = User.create(
            email="vertrokken@demo.test",
            name="Vertrokken",
            password_hash="-",
            role="school_staff",
            active=False,
        )
        UserSchool.create(user=former, school=school)

    auth.login("bestuur@demo.test")
    assert client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren").status_code == 303

    approved = _notifications(app, kind="approved")
    assert [row.recipient_email for row in approved] == ["school@demo.test", "collega@demo.test"]


def test_refused_approval_writes_no_rows(client, auth, app):
    request_id = _submit(client, auth, app)
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        secretary = User.get(User.email == "bestuur@demo.test")
        with pytest.raises(delivery.DeliveryRefused):
            approve_request(request, secretary, date(2018, 4, 1))
        reject_request(request, secretary, "Eerst overleggen.")
        with pytest.raises(delivery.DeliveryRefused):
            reject_request(DeliveryRequest.get_by_id(request_id), secretary, "nogmaals")

    assert _notifications(app, kind="approved") == []
    assert len(_notifications(app, kind="rejected")) == 1


def test_rolled_back_transition_writes_no_rows(client, auth, app, monkeypatch):
    request_id = _submit(client, auth, app)

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(delivery.audit, "record", broken_audit)
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        secretary = User.get(User.email == "bestuur@demo.test")
        with pytest.raises(RuntimeError):
            reject_request(request, secretary, "reden")
        assert DeliveryRequest.get_by_id(request_id).status == "submitted"

    assert _notifications(app, kind="rejected") == []


def test_change_mails_board_again(client, auth, app):
    request_id = _submit(client, auth, app)
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        answers = replace(stored_answers(request), groups="groep 7 en 8")
        change_request(
            request,
            date(2018, 5, 1),
            answers,
            User.get(User.email == "school@demo.test"),
            date(2018, 3, 15),
            10,
        )

    changed = _notifications(app, kind="changed")
    assert [row.recipient_email for row in changed] == ["bestuur@demo.test"]


def test_unknown_kind_is_rejected(client, auth, app):
    request_id = _submit(client, auth, app)
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        with pytest.raises(ValueError, match="unknown notification kind"):
            queue_notifications("withdrawn", request)


class BrokenTransport:
    def send(self, request, data):
        raise TransportError("receiver unavailable")


class FixedReceipt:
    def send(self, request, data):
        return SimpleNamespace(id="ontvangst-1", at=utcnow())


@pytest.mark.parametrize(
    ("transport", "kind"), [(FixedReceipt(), "delivered"), (BrokenTransport(), "failed")]
)
def test_delivery_outcome_mails_school(client, auth, app, transport, kind):
    request_id = _submit(client, auth, app)
    auth.login("bestuur@demo.test")
    assert client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren").status_code == 303
    with app.app_context(), db.connection_context():
        DeliveryRequest.update(status="delivering", attempts=1).where(
            DeliveryRequest.id == request_id
        ).execute()
        policy = DeliveryPolicy(max_attempts=1)
        deliver_request(request_id, transport, policy, utcnow())

    rows = _notifications(app, kind=kind)
    assert [row.recipient_email for row in rows] == ["school@demo.test"]


# --- sending over SMTP -------------------------------------------------------------------


def test_smtp_sends_dutch_mail_once(smtp_config, client, auth, app, smtp_server):
    sink, _port = smtp_server
    request_id = _submit(client, auth, app)

    assert _send(app) == 1
    assert _send(app) == 0

    assert len(sink.envelopes) == 1
    assert sink.envelopes[0].rcpt_tos == ["bestuur@demo.test"]
    assert sink.envelopes[0].mail_from == "portaal@msv.example.test"
    message = sink.messages[0]
    assert message["To"] == "bestuur@demo.test"
    assert message["Subject"] == "Aanvraag levering ter goedkeuring: OBS De Regenboog (15KU00)"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert "Beste Bram Jansen," in body
    assert "Schooljaar: 2017-2018" in body
    assert "Leverdatum: 1 april 2018" in body
    assert "wacht op goedkeuring van het bevoegd gezag" in body
    assert "Wat moet u doen?" in body
    assert f"{BASE_URL}/bestuur/" in body

    [row] = _notifications(app, request=request_id)
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.subject == message["Subject"]


def test_rejection_mail_gives_reason(smtp_config, client, auth, app, smtp_server):
    sink, _port = smtp_server
    request_id = _submit(client, auth, app)
    auth.login("bestuur@demo.test")
    response = client.post(
        f"/bestuur/aanvragen/{request_id}/afwijzen",
        data={f"r{request_id}-reason": "De toestemming van het bestuur ontbreekt nog."},
    )
    assert response.status_code == 303

    assert _send(app) == 2

    [rejection] = [m for m in sink.messages if m["To"] == "school@demo.test"]
    assert rejection["Subject"] == "Aanvraag levering afgewezen: OBS De Regenboog (15KU00)"
    body = rejection.get_content()
    assert "Reden: De toestemming van het bestuur ontbreekt nog." in body
    assert "afgewezen door het bevoegd gezag" in body
    school = school_id(app, "15KU00")
    assert f"{BASE_URL}/scholen/{school}/levering?schooljaar=2017-2018" in body


def test_refused_recipient_retried_next_run(smtp_config, client, auth, app, smtp_server, caplog):
    sink, _port = smtp_server
    sink.refused.add("bestuur@demo.test")
    _submit(client, auth, app)

    with caplog.at_level(logging.WARNING, logger="jobs.mail"):
        assert _send(app) == 0
    [row] = _notifications(app)
    assert row.sent_at is None
    assert row.attempts == 1
    assert "550" in row.last_error
    assert f"notification={row.id}" in caplog.text
    assert "bestuur@demo.test" not in caplog.text

    sink.refused.clear()
    assert _send(app) == 1
    [row] = _notifications(app)
    assert row.sent_at is not None
    assert row.attempts == 2
    assert [e.rcpt_tos for e in sink.envelopes] == [["bestuur@demo.test"]]


def test_row_given_up_after_max_attempts(smtp_config, client, auth, app, smtp_server):
    sink, _port = smtp_server
    sink.refused.add("bestuur@demo.test")
    _submit(client, auth, app)

    for _ in range(MAX_ATTEMPTS + 2):
        _send(app)

    [row] = _notifications(app)
    assert row.attempts == MAX_ATTEMPTS
    assert row.sent_at is None
    assert sink.envelopes == []


def test_server_down_counts_no_attempt(client, auth, app):
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{_free_port()}"
    _submit(client, auth, app)

    assert _send(app) == 0

    [row] = _notifications(app)
    assert row.attempts == 0
    assert row.sent_at is None


def test_mail_url_rejects_unknown_scheme(app_context):
    app_context.config["MAIL_URL"] = "smtps://mail.example.test"
    with pytest.raises(ValueError, match="unsupported scheme"):
        send_pending_notifications()


def test_mail_url_rejects_password_without_tls(app_context):
    app_context.config["MAIL_URL"] = "smtp://portal:geheim@127.0.0.1:25"
    with pytest.raises(ValueError, match="smtp\\+starttls") as raised:
        send_pending_notifications()
    assert "geheim" not in str(raised.value)


# --- the file transport ------------------------------------------------------------------


def test_file_transport_writes_eml(client, auth, app, data_dir):
    request_id = _submit(client, auth, app)
    auth.login("bestuur@demo.test")
    assert client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren").status_code == 303

    assert _send(app) == 2
    assert _send(app) == 0

    files = sorted((data_dir / "mail").glob("*.eml"))
    assert [f.name for f in files] == ["notification-1.eml", "notification-2.eml"]
    messages = [message_from_bytes(f.read_bytes(), policy=default_policy) for f in files]
    assert [m["To"] for m in messages] == ["bestuur@demo.test", "school@demo.test"]
    assert messages[1]["From"] == "noreply@portal.invalid"
    assert messages[1]["Subject"] == "Levering goedgekeurd: OBS De Regenboog (15KU00)"
    body = messages[1].get_content()
    assert "U hoeft niets te doen." in body
    assert "goedgekeurd, ingepland" in body
    assert "http://127.0.0.1:5000/scholen/" in body
    assert list((data_dir / "mail").glob("*.partial")) == []


# --- the deadline reminder ---------------------------------------------------------------


def _reminders(app) -> list[Notification]:
    return _notifications(app, kind="reminder")


def test_reminder_lists_schools_awaiting_board(client, auth, app, data_dir):
    approved = _submit(client, auth, app, "15KU00")
    waiting = _submit(client, auth, app, "21AB00")
    auth.login("bestuur@demo.test")
    assert client.post(f"/bestuur/aanvragen/{approved}/goedkeuren").status_code == 303
    app.config["PORTAL_TODAY"] = date(2018, 6, 20)

    with app.app_context(), db.connection_context():
        assert send_deadline_reminders() == 2

    rows = _reminders(app)
    assert sorted(row.recipient_email for row in rows) == [
        "bestuur2@demo.test",
        "bestuur@demo.test",
    ]
    assert all(row.sent_at is not None for row in rows)
    [row] = [r for r in rows if r.recipient_email == "bestuur@demo.test"]
    with app.app_context(), db.connection_context():
        listed = sorted(School.get_by_id(i).code for i in row.details["school_ids"])
        assert DeliveryRequest.get_by_id(waiting).status == "submitted"
    assert listed == ["15KU01", "21AB00", "23PR00"]

    message = message_from_bytes(
        (data_dir / "mail" / f"notification-{row.id}.eml").read_bytes(), policy=default_policy
    )
    assert message["Subject"] == (
        "Herinnering: levering Monitoring Sociale Veiligheid 2017-2018 vóór 1 juli 2018"
    )
    body = message.get_content()
    assert "Rivierenland College (21AB00): aanvraag wacht op uw goedkeuring" in body
    assert "(15KU01): nog geen aanvraag van de school" in body
    assert "(15KU00)" not in body
    assert "Stichting Openbaar Onderwijs Rivierenland" in body


def test_reminder_sent_once_per_board_and_year(app_context):
    assert queue_reminders(date(2018, 6, 17), 14) == 2
    assert queue_reminders(date(2018, 6, 17), 14) == 0
    assert queue_reminders(date(2018, 6, 30), 14) == 0

    assert Notification.select().where(Notification.kind == "reminder").count() == 2
    assert BoardReminder.select().count() == 2


@pytest.mark.parametrize("today", [date(2018, 6, 16), date(2018, 7, 1), date(2018, 3, 15)])
def test_reminder_outside_window_sends_nothing(app_context, today):
    assert queue_reminders(today, 14) == 0
    assert Notification.select().count() == 0
    assert BoardReminder.select().count() == 0


def test_reminder_waits_for_a_secretary(app_context):
    User.update(active=False).where(User.email == "bestuur2@demo.test").execute()
    assert queue_reminders(date(2018, 6, 20), 14) == 1

    User.update(active=True).where(User.email == "bestuur2@demo.test").execute()
    assert queue_reminders(date(2018, 6, 21), 14) == 1

    recipients = [
        row.recipient_email
        for row in Notification.select()
        .where(Notification.kind == "reminder")
        .order_by(Notification.id)
    ]
    assert recipients == ["bestuur@demo.test", "bestuur2@demo.test"]


# --- through a real worker process -------------------------------------------------------


@pytest.fixture
def start_mail_worker(config, smtp_server, tmp_path):
    """Start `portal worker` processes that send mail to the test's SMTP server."""
    processes = []
    _sink, port = smtp_server

    def start(scheduler: bool) -> subprocess.Popen:
        env = dict(os.environ)
        env.update(
            PORTAL_ENV="testing",
            SECRET_KEY="test-secret",
            DATABASE_URL=config["DATABASE_URL"],
            REDIS_URL=config["REDIS_URL"],
            PORTAL_DATA_DIR=str(config["PORTAL_DATA_DIR"]),
            PORTAL_TODAY=config["PORTAL_TODAY"].isoformat(),
            MAIL_URL=f"smtp://127.0.0.1:{port}",
            PORTAL_BASE_URL=BASE_URL,
        )
        log = open(tmp_path / f"mail-worker-{len(processes)}.log", "wb")
        args = [sys.executable, "-m", "portal", "worker"]
        args.append("--scheduler" if scheduler else "--no-scheduler")
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        return process

    yield start
    for process, log in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _wait_for_mail(sink, count: int):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if len(sink.envelopes) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(
        f"timed out after {WAIT_SECONDS} s waiting for {count} mails, got {len(sink.envelopes)}"
    )


@pytest.mark.integration
def test_worker_sends_mail_queued_by_request(
    smtp_config, client, auth, app, smtp_server, start_mail_worker
):
    sink, _port = smtp_server
    start_mail_worker(scheduler=False)

    _submit(client, auth, app)

    _wait_for_mail(sink, 1)
    message = sink.messages[0]
    assert message["To"] == "bestuur@demo.test"
    assert "ter goedkeuring" in message["Subject"]
    assert f"{BASE_URL}/bestuur/" in message.get_content()
    time.sleep(1)
    assert len(sink.envelopes) == 1
    [row] = _notifications(app)
    assert row.sent_at is not None


@pytest.mark.integration
def test_scheduler_sends_mail_not_queued(
    smtp_config, client, auth, app, redis, smtp_server, start_mail_worker
):
    sink, _port = smtp_server
    _submit(client, auth, app)
    # Drop the mail run that the request queued, so only the periodic run can send.
    redis.flushdb()

    start_mail_worker(scheduler=True)

    _wait_for_mail(sink, 1)
    assert sink.envelopes[0].rcpt_tos == ["bestuur@demo.test"]


def test_enqueue_failure_keeps_request(client, auth, app, caplog):
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:9/0", socket_timeout=2)

    with caplog.at_level(logging.WARNING, logger="portal.queue"):
        request_id = _submit(client, auth, app)

    rows = _notifications(app, request=request_id)
    assert [row.kind for row in rows] == ["submitted"]
    assert "mail run not queued" in caplog.text
