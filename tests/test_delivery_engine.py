"""The delivery engine: retries, timeouts, leases, exactly-once sends and time zones."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from rq import Queue

from jobs.mail import render_mail
from portal.clock import start_of_day
from portal.domain.calendar import DeliveryRefused
from portal.domain.delivery import (
    APPROVED,
    DELIVERED,
    DELIVERING,
    GIVEN_UP,
    REJECTED,
    RETRYING,
    SUBMITTED,
    WITHDRAWN,
    DeliveryPolicy,
    due_request_ids,
    requeue_request,
    run_due,
)
from portal.domain.transport import HttpsTransport, OutboxTransport
from portal.models import AuditEvent, DeliveryRequest, DeliveryStatusChange, Notification, db

from .factories import make_approved_request
from .receiver import Receiver

APRIL_1 = date(2018, 4, 1)
ON_APRIL_1 = datetime(2018, 4, 1, 10, 0, tzinfo=UTC)
FAST = DeliveryPolicy(max_attempts=4, retry_base=timedelta(0), lease=timedelta(seconds=30))


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def https(receiver, read_timeout: float = 2.0) -> HttpsTransport:
    return HttpsTransport(
        receiver.url, receiver.token, connect_timeout=2.0, read_timeout=read_timeout
    )


def statuses(request_id: int) -> list[str]:
    return [
        change.to_status
        for change in DeliveryStatusChange.select()
        .where(DeliveryStatusChange.request == request_id)
        .order_by(DeliveryStatusChange.id)
    ]


def test_https_delivers_with_receipt(app_context, receiver):
    request = make_approved_request(APRIL_1)
    assert run_due(ON_APRIL_1, https(receiver), FAST) == [request.id]
    stored = DeliveryRequest.get_by_id(request.id)
    assert stored.status == DELIVERED
    assert receiver.deliveries[stored.idempotency_key] == stored.payload.encode()
    assert stored.receipt == receiver.receipts[stored.idempotency_key]
    assert stored.receipt_at is not None


def test_https_500_twice_then_delivered(app_context, receiver):
    receiver.fail_next = 2
    request = make_approved_request(APRIL_1)
    for _ in range(3):
        run_due(ON_APRIL_1, https(receiver), FAST)
    stored = DeliveryRequest.get_by_id(request.id)
    assert stored.status == DELIVERED
    assert stored.attempts == 3
    assert statuses(request.id) == [
        DELIVERING,
        RETRYING,
        DELIVERING,
        RETRYING,
        DELIVERING,
        DELIVERED,
    ]
    assert len(receiver.posts) == 3
    assert len(receiver.deliveries) == 1


def test_retry_waits_for_backoff(app_context, receiver):
    receiver.fail_next = 1
    policy = DeliveryPolicy(max_attempts=4, retry_base=timedelta(minutes=10))
    request = make_approved_request(APRIL_1)
    run_due(ON_APRIL_1, https(receiver), policy)
    assert run_due(ON_APRIL_1 + timedelta(minutes=9), https(receiver), policy) == []
    assert run_due(ON_APRIL_1 + timedelta(minutes=11), https(receiver), policy) == [request.id]


def test_backoff_doubles_up_to_maximum():
    policy = DeliveryPolicy(retry_base=timedelta(minutes=1), retry_max_delay=timedelta(minutes=5))
    delays = [policy.retry_delay(n) for n in range(1, 6)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 5, 5)]


def test_slow_receiver_times_out(app_context, receiver):
    receiver.delay_seconds = 1.5
    request = make_approved_request(APRIL_1)
    run_due(ON_APRIL_1, https(receiver, read_timeout=0.5), FAST)
    stored = DeliveryRequest.get_by_id(request.id)
    assert stored.status == RETRYING
    assert "Timeout" in stored.last_error


def test_dropped_connection_is_retried(app_context, receiver):
    receiver.drop_next = 1
    request = make_approved_request(APRIL_1)
    run_due(ON_APRIL_1, https(receiver), FAST)
    assert DeliveryRequest.get_by_id(request.id).status == RETRYING
    run_due(ON_APRIL_1, https(receiver), FAST)
    assert DeliveryRequest.get_by_id(request.id).status == DELIVERED


def test_given_up_after_max_attempts(app_context, receiver):
    receiver.fail_next = 100
    request = make_approved_request(APRIL_1)
    for _ in range(FAST.max_attempts + 2):
        run_due(ON_APRIL_1, https(receiver), FAST)
    stored = DeliveryRequest.get_by_id(request.id)
    assert stored.status == GIVEN_UP
    assert stored.attempts == FAST.max_attempts
    assert len(receiver.posts) == FAST.max_attempts
    assert AuditEvent.select().where(AuditEvent.action == "delivery.given_up").count() == 1
    alerts = Notification.select().where(Notification.kind == "support_alert")
    assert [n.recipient_email for n in alerts] == ["helpdesk@demo.test"]
    subject, body = render_mail(alerts[0])
    assert subject.startswith("Actie nodig: levering opgegeven")
    assert "HTTP 500" in body


def test_requeue_after_giving_up(app_context, receiver):
    receiver.fail_next = FAST.max_attempts
    request = make_approved_request(APRIL_1)
    for _ in range(FAST.max_attempts):
        run_due(ON_APRIL_1, https(receiver), FAST)
    requeue_request(DeliveryRequest.get_by_id(request.id), None, "ontvanger hersteld")
    run_due(ON_APRIL_1, https(receiver), FAST)
    assert DeliveryRequest.get_by_id(request.id).status == DELIVERED


def test_requeue_refused_for_delivered(app_context, receiver):
    request = make_approved_request(APRIL_1)
    run_due(ON_APRIL_1, https(receiver), FAST)
    with pytest.raises(DeliveryRefused):
        requeue_request(DeliveryRequest.get_by_id(request.id), None)


@pytest.mark.parametrize("status", [SUBMITTED, REJECTED, WITHDRAWN])
def test_nothing_sent_without_approval(app_context, receiver, status):
    request = make_approved_request(APRIL_1, status=status)
    assert run_due(ON_APRIL_1 + timedelta(days=60), https(receiver), FAST) == []
    assert receiver.posts == []
    assert DeliveryRequest.get_by_id(request.id).status == status


def test_nothing_sent_before_leverdatum(app_context, receiver):
    make_approved_request(APRIL_1)
    # 23:59 on 31 March in Amsterdam (CEST, UTC+2 from 25 March 2018).
    assert run_due(datetime(2018, 3, 31, 21, 59, tzinfo=UTC), https(receiver), FAST) == []
    assert receiver.posts == []


def test_outbox_send_twice_keeps_one_file(app_context, tmp_path):
    request = make_approved_request(APRIL_1)
    transport = OutboxTransport(tmp_path / "outbox")
    first = transport.send(request, b"{}\n")
    second = transport.send(request, b"{}\n")
    assert first.id == second.id
    assert len(list((tmp_path / "outbox").rglob("*"))) == 2  # the date folder and one file


def test_expired_lease_is_claimed_again(app_context, receiver):
    request = make_approved_request(APRIL_1)
    policy = DeliveryPolicy(lease=timedelta(minutes=5))
    DeliveryRequest.update(
        status=DELIVERING, lease_until=ON_APRIL_1 + timedelta(minutes=1), attempts=1
    ).where(DeliveryRequest.id == request.id).execute()
    assert run_due(ON_APRIL_1, https(receiver), policy) == []
    assert run_due(ON_APRIL_1 + timedelta(minutes=2), https(receiver), policy) == [request.id]
    assert DeliveryRequest.get_by_id(request.id).attempts == 2


# --- real processes ---------------------------------------------------------------------


def _env(config, receiver, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="testing",
        SECRET_KEY="test-secret",
        DATABASE_URL=config["DATABASE_URL"],
        REDIS_URL=config["REDIS_URL"],
        PORTAL_DATA_DIR=str(config["PORTAL_DATA_DIR"]),
        PORTAL_TODAY="2018-04-01",
        DELIVERY_TRANSPORT="https",
        DELIVERY_HTTPS_URL=receiver.url,
        DELIVERY_HTTPS_TOKEN=receiver.token,
        DELIVERY_RETRY_BASE_SECONDS="0",
    )
    env.update(extra)
    return env


def _portal(*args) -> list[str]:
    return [sys.executable, "-m", "portal", *args]


@pytest.mark.integration
def test_two_sweeps_at_once_send_each_once(app, config, receiver):
    with app.app_context(), db.connection_context():
        ids = [make_approved_request(APRIL_1).id for _ in range(30)]
    receiver.delay_seconds = 0.02
    env = _env(config, receiver)
    command = _portal("deliveries", "run-due", "--as-of", "2018-04-01")
    sweeps = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for sweep in sweeps:
        _out, err = sweep.communicate(timeout=120)
        assert sweep.returncode == 0, err.decode()[-2000:]

    assert sorted(receiver.posts) == sorted(set(receiver.posts)), "a request was sent twice"
    assert len(receiver.deliveries) == len(ids)
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.select().where(DeliveryRequest.status == DELIVERED).count() == len(
            ids
        )


def _sending(app) -> bool:
    with app.app_context(), db.connection_context():
        return DeliveryRequest.select().where(DeliveryRequest.status == DELIVERING).exists()


@pytest.mark.integration
def test_worker_killed_mid_send_delivers_once(app, config, receiver, redis, tmp_path):
    """SIGKILL a real worker 20 times at different moments; each request arrives once."""
    receiver.delay_seconds = 0.25
    env = _env(config, receiver, DELIVERY_LEASE_SECONDS="1")
    queue = Queue(config.get("RQ_QUEUE", "portal"), connection=redis)
    all_ids = []
    killed_mid_send = 0
    with open(tmp_path / "workers.log", "wb") as log:
        for attempt in range(20):
            with app.app_context(), db.connection_context():
                all_ids += [make_approved_request(APRIL_1).id for _ in range(3)]
            worker = subprocess.Popen(
                _portal("worker", "--no-scheduler"),
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            try:
                queue.enqueue("jobs.deliveries.deliver_due")
                # Wait until the worker has claimed a batch, then kill it a varying
                # moment later: before, during or after a send.
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not _sending(app):
                    time.sleep(0.02)
                time.sleep(0.04 * (attempt % 10))
                killed_mid_send += _sending(app)
            finally:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    queue.empty()

    # Let the last leases expire. This sweep runs on the workers' clock (PORTAL_TODAY at
    # the current time of day), as a periodic sweep would.
    time.sleep(1.2)
    finish = subprocess.run(
        _portal("deliveries", "run-due"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finish.returncode == 0, finish.stderr[-2000:]

    assert killed_mid_send >= 10, f"only {killed_mid_send} of 20 kills hit a send in progress"
    with app.app_context(), db.connection_context():
        requests = list(DeliveryRequest.select().where(DeliveryRequest.id.in_(all_ids)))
        assert {r.status for r in requests} == {DELIVERED}
        keys = {r.idempotency_key for r in requests}
        for request in requests:
            assert receiver.receipts[request.idempotency_key] == request.receipt
    assert set(receiver.deliveries) == keys
    assert len(receiver.deliveries) == len(all_ids)


@pytest.mark.integration
def test_delivery_survives_redis_flush(app, config, receiver, redis, tmp_path):
    with app.app_context(), db.connection_context():
        request_id = make_approved_request(APRIL_1).id
    redis.flushall()
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        _portal("worker", "--scheduler"),
        env=_env(config, receiver),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with app.app_context(), db.connection_context():
                status = DeliveryRequest.get_by_id(request_id).status
            if status == DELIVERED:
                break
            time.sleep(0.3)
        assert status == DELIVERED
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        log.close()


DUE_SCRIPT = """
import json, sys
from datetime import datetime
from portal import create_app
from portal.models import db, DeliveryRequest
from portal.domain.delivery import due_request_ids
app = create_app()
instants = json.loads(sys.argv[1])
with app.app_context(), db.connection_context():
    names = {r.id: r.leverdatum.isoformat() for r in DeliveryRequest.select()}
    result = {i: sorted(names[r] for r in due_request_ids(datetime.fromisoformat(i))) for i in instants}
print(json.dumps(result, sort_keys=True))
"""


@pytest.mark.integration
def test_due_times_same_in_utc_and_amsterdam(app, config, receiver):
    """Leverdata around the 2018 summer-time changes fall due at Amsterdam midnight."""
    leverdata = [date(2018, 3, 25), date(2018, 3, 26), date(2018, 10, 28), date(2018, 10, 29)]
    with app.app_context(), db.connection_context():
        for leverdatum in leverdata:
            make_approved_request(leverdatum)
    expected_starts = {
        date(2018, 3, 25): "2018-03-24T23:00:00+00:00",  # CET, UTC+1
        date(2018, 3, 26): "2018-03-25T22:00:00+00:00",  # CEST, UTC+2
        date(2018, 10, 28): "2018-10-27T22:00:00+00:00",  # still CEST at midnight
        date(2018, 10, 29): "2018-10-28T23:00:00+00:00",  # CET again
    }
    for leverdatum, start in expected_starts.items():
        assert start_of_day(leverdatum).isoformat() == start

    instants = []
    for start in expected_starts.values():
        moment = datetime.fromisoformat(start)
        instants += [(moment - timedelta(seconds=1)).isoformat(), moment.isoformat()]

    outputs = {}
    for zone in ("UTC", "Europe/Amsterdam"):
        env = _env(config, receiver, TZ=zone)
        env.pop("PORTAL_TODAY")
        run = subprocess.run(
            [sys.executable, "-c", DUE_SCRIPT, json.dumps(instants)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        outputs[zone] = json.loads(run.stdout.strip().splitlines()[-1])
    assert outputs["UTC"] == outputs["Europe/Amsterdam"]

    due = outputs["UTC"]
    for leverdatum, start in expected_starts.items():
        before = (datetime.fromisoformat(start) - timedelta(seconds=1)).isoformat()
        assert leverdatum.isoformat() not in due[before]
        assert leverdatum.isoformat() in due[start]


def test_due_ids_ignore_other_statuses(app_context):
    approved = make_approved_request(APRIL_1)
    make_approved_request(APRIL_1, status=SUBMITTED)
    assert due_request_ids(ON_APRIL_1) == [approved.id]
    assert APPROVED == approved.status
