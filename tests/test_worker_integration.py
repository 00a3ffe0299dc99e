"""The walk-through against a real RQ worker process and a real Redis."""

import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date

import pypdf
import pytest
from babel.numbers import format_decimal

from portal.domain.report import build_report
from portal.models import (
    DeliveryRequest,
    DeliveryStatusChange,
    FactsheetJob,
    School,
    SchoolYear,
    db,
)

from .conftest import school_id
from .test_views import FORM

pytestmark = pytest.mark.integration

# Generous, because a worker starts slowly on a loaded 2-core machine.
WAIT_SECONDS = 90


def _env(config, today: date) -> dict:
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="testing",
        SECRET_KEY="test-secret",
        DATABASE_URL=config["DATABASE_URL"],
        REDIS_URL=config["REDIS_URL"],
        PORTAL_DATA_DIR=str(config["PORTAL_DATA_DIR"]),
        PORTAL_TODAY=today.isoformat(),
    )
    return env


def _portal(*args) -> list[str]:
    return [sys.executable, "-m", "portal", *args]


@pytest.fixture
def start_worker(config, tmp_path):
    """Start `portal worker` processes; stop them all at the end of the test."""
    processes = []

    def start(today: date = date(2018, 3, 15), scheduler: bool = False) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(processes)}.log", "wb")
        args = _portal("worker", "--scheduler" if scheduler else "--no-scheduler")
        process = subprocess.Popen(
            args, env=_env(config, today), stdout=log, stderr=subprocess.STDOUT
        )
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


def _wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}")


def test_factsheet_built_by_worker(client, auth, app, start_worker):
    start_worker()
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")

    response = client.post(f"/scholen/{school}/factsheets", data={"schooljaar": "2017-2018"})
    assert response.status_code == 303
    status_url = response.headers["Location"]

    first = client.get(status_url, headers={"HX-Request": "true"}).text
    assert "hx-get" in first or 'data-status="done"' in first

    def finished():
        page = client.get(status_url, headers={"HX-Request": "true"}).text
        return page if 'data-status="done"' in page or 'data-status="failed"' in page else None

    page = _wait_for(finished, "the factsheet")
    assert 'data-status="done"' in page
    assert "hx-get" not in page, "a finished job must stop polling"
    link = re.search(r'href="([^"]+/download)"', page).group(1)

    with client.get(link) as pdf:
        assert pdf.status_code == 200
        data = pdf.data
    assert data.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "OBS De Regenboog" in text
    assert "2017-2018" in text

    with app.app_context(), db.connection_context():
        report = build_report(
            [School.get_by_id(school)], SchoolYear.get(SchoolYear.name == "2017-2018"), 10
        )
        for scale, result in report.scales.items():
            value = format_decimal(result.mean, "0.00", locale="nl")
            assert value in text, f"{scale} mean {value} missing from the PDF"
        assert FactsheetJob.get().status == "done"


def test_factsheet_of_other_school_is_404(client, auth, app, start_worker):
    auth.login("school@demo.test")
    other = school_id(app, "04XY00")
    response = client.post(f"/scholen/{other}/factsheets", data={"schooljaar": "2017-2018"})
    assert response.status_code == 404
    with app.app_context(), db.connection_context():
        assert FactsheetJob.select().count() == 0


def _approved_request(client, auth, app) -> tuple[int, int]:
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    assert (
        client.post(f"/scholen/{school}/levering", data={**FORM, "action": "submit"}).status_code
        == 303
    )
    auth.logout()
    with app.app_context(), db.connection_context():
        request_id = DeliveryRequest.get().id
    auth.login("bestuur@demo.test")
    assert client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren").status_code == 303
    auth.logout()
    return school, request_id


def _outbox_files(data_dir):
    return sorted((data_dir / "outbox").rglob("*.json"))


def test_run_due_cli_delivers_once(client, auth, app, config, data_dir):
    school, request_id = _approved_request(client, auth, app)
    env = _env(config, date(2018, 3, 15))

    early = subprocess.run(
        _portal("deliveries", "run-due", "--as-of", "2018-03-31"),
        env=env,
        capture_output=True,
        text=True,
    )
    assert early.returncode == 0, early.stderr
    assert _outbox_files(data_dir) == []

    for _ in range(2):
        run = subprocess.run(
            _portal("deliveries", "run-due", "--as-of", "2018-04-01"),
            env=env,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr

    files = _outbox_files(data_dir)
    assert [f.parent.name for f in files] == ["2018-04-01"]
    checksum = hashlib.sha256(files[0].read_bytes()).hexdigest()

    auth.login("school@demo.test")
    page = client.get(f"/scholen/{school}/levering").text
    assert 'data-status="delivered"' in page
    assert checksum in page
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        assert request.delivered_sha256 == checksum
        assert request.payload.encode() == files[0].read_bytes()
        delivered = DeliveryStatusChange.select().where(
            DeliveryStatusChange.to_status == "delivered"
        )
        assert delivered.count() == 1


def test_scheduler_delivers_on_leverdatum(client, auth, app, data_dir, start_worker):
    _school, request_id = _approved_request(client, auth, app)
    start_worker(today=date(2018, 4, 1), scheduler=True)

    def delivered():
        with app.app_context(), db.connection_context():
            return DeliveryRequest.get_by_id(request_id).status == "delivered"

    _wait_for(delivered, "the periodic sweep to deliver")
    assert len(_outbox_files(data_dir)) == 1


def test_factsheet_for_year_without_data_is_404(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    for year in ("2035-2036", "2014-2015"):
        response = client.post(f"/scholen/{school}/factsheets", data={"schooljaar": year})
        assert response.status_code == 404
    with app.app_context(), db.connection_context():
        assert FactsheetJob.select().count() == 0
