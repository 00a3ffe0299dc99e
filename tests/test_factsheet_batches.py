"""Bulk factsheets by the support desk, dead-worker detection, retry and retention."""

import io
import os
import signal
import subprocess
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job

from portal.clock import utcnow
from portal.domain import factsheets
from portal.models import Board, FactsheetBatch, FactsheetJob, School, SchoolYear, db

from .conftest import HTMX, school_id
from .test_worker_integration import _env, _portal, _wait_for

BATCHES = "/helpdesk/factsheets"


def _start(client, **form):
    data = {"scope": "board", "board_number": "41234", "schooljaar": "2017-2018", **form}
    return client.post(BATCHES, data=data)


def test_batch_for_board_queues_job_per_school(app, client, auth, redis):
    auth.login("helpdesk@demo.test")
    response = _start(client)
    assert response.status_code == 303

    with app.app_context(), db.connection_context():
        batch = FactsheetBatch.get()
        board = Board.get(Board.number == "41234")
        schools = {s.id for s in School.select().where(School.board == board)}
        jobs = list(batch.jobs)
        assert {job.school_id for job in jobs} == schools
        queue = Queue(app.config["RQ_QUEUE"], connection=redis)
        assert queue.count == len(schools)
        for job in jobs:
            rq_job = Job.fetch(job.rq_job_id, connection=redis)
            assert rq_job.timeout == app.config["FACTSHEET_JOB_TIMEOUT_SECONDS"]
            assert rq_job.args == (job.id,)


def test_batch_progress_polls_itself(app, client, auth, redis):
    auth.login("helpdesk@demo.test")
    url = _start(client).headers["Location"]
    partial = client.get(url, headers=HTMX)
    assert 'hx-trigger="load delay:1s"' in partial.text
    assert "<html" not in partial.text
    page = client.get(url).text
    assert '<meta http-equiv="refresh"' in page
    assert "0 van 4 factsheets klaar" in page


@pytest.mark.parametrize(
    "form",
    [
        {"scope": "school", "school_code": "99ZZ00"},
        {"scope": "school", "school_code": ""},
        {"scope": "board", "board_number": "00000"},
        {"scope": "elders"},
        {"schooljaar": "1999-2000"},
    ],
)
def test_batch_invalid_input_rejected(app, client, auth, redis, form):
    auth.login("helpdesk@demo.test")
    response = _start(client, **form)
    assert response.status_code == 422
    with app.app_context(), db.connection_context():
        assert FactsheetBatch.select().count() == 0


def test_batch_all_schools_with_data(app, client, auth, redis):
    auth.login("beheer@demo.test")
    assert _start(client, scope="all").status_code == 303
    with app.app_context(), db.connection_context():
        assert FactsheetBatch.get().jobs.count() == School.select().count()


@pytest.mark.parametrize("email", ["school@demo.test", "bestuur@demo.test"])
def test_batch_hidden_from_schools(app, client, auth, redis, email):
    auth.login("helpdesk@demo.test")
    url = _start(client).headers["Location"]
    auth.logout()
    auth.login(email)
    assert client.get(url).status_code == 404
    assert client.get(url + "/zip").status_code == 404
    assert client.get(BATCHES).status_code == 404
    assert _start(client).status_code == 404


def test_other_school_job_is_404(app, client, auth, redis):
    auth.login("helpdesk@demo.test")
    _start(client, board_number="52345")
    auth.logout()
    with app.app_context(), db.connection_context():
        job = FactsheetJob.get()
        job.status, job.file_path = "done", "factsheets/x.pdf"
        job.save()
    auth.login("school@demo.test")
    for path in ("", "/download"):
        assert client.get(f"/factsheets/{job.id}{path}").status_code == 404
    assert client.post(f"/factsheets/{job.id}/opnieuw").status_code == 404


def test_failed_rq_job_shown_failed_and_retried(app, client, auth, redis):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    url = client.post(f"/scholen/{school}/factsheets", data={"schooljaar": "2017-2018"}).headers[
        "Location"
    ]
    with app.app_context(), db.connection_context():
        job = FactsheetJob.get()
        job.status = "running"
        job.save()
        rq_job = Job.fetch(job.rq_job_id, connection=redis)
        rq_job.set_status("failed")

    page = client.get(url, headers=HTMX).text
    assert 'data-status="failed"' in page
    assert "Opnieuw proberen" in page

    assert client.post(url + "/opnieuw").status_code == 303
    with app.app_context(), db.connection_context():
        job = FactsheetJob.get()
        assert job.status == "queued"
        assert job.rq_job_id != rq_job.id


def test_queued_job_waiting_long_not_failed(app_context, redis):
    school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    job = FactsheetJob.create(
        school=school,
        school_year=SchoolYear.get(SchoolYear.name == "2017-2018"),
        created_at=utcnow() - timedelta(hours=2),
    )
    factsheets.enqueue(job)
    factsheets.mark_dead_jobs([job])
    assert FactsheetJob.get_by_id(job.id).status == "queued"


def test_lost_running_job_failed_after_timeout(app_context, redis):
    school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    job = FactsheetJob.create(
        school=school,
        school_year=SchoolYear.get(SchoolYear.name == "2017-2018"),
        status="running",
        rq_job_id="gone",
        created_at=utcnow() - timedelta(hours=1),
        started_at=utcnow() - timedelta(seconds=10),
    )
    factsheets.mark_dead_jobs([job])
    assert FactsheetJob.get_by_id(job.id).status == "running"
    job.started_at = utcnow() - timedelta(hours=1)
    job.save()
    factsheets.mark_dead_jobs([job])
    assert FactsheetJob.get_by_id(job.id).status == "failed"


def test_retention_removes_old_files(app_context):
    data_dir = app_context.config["PORTAL_DATA_DIR"]
    school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    year = SchoolYear.get(SchoolYear.name == "2017-2018")
    paths = []
    for age_days in (31, 29):
        relative = f"factsheets/old-{age_days}.pdf"
        (data_dir / "factsheets").mkdir(parents=True, exist_ok=True)
        (data_dir / relative).write_bytes(b"%PDF-1.4")
        paths.append(data_dir / relative)
        FactsheetJob.create(
            school=school,
            school_year=year,
            status="done",
            file_path=relative,
            created_at=utcnow() - timedelta(days=age_days),
            finished_at=utcnow() - timedelta(days=age_days),
        )

    assert factsheets.remove_expired(30) == (1, 0)
    assert not paths[0].exists()
    assert paths[1].exists()
    statuses = [job.status for job in FactsheetJob.select().order_by(FactsheetJob.id)]
    assert statuses == ["expired", "done"]


def test_retention_job_declared():
    from jobs.schedule import PERIODIC_JOBS

    names = [job.name for job in PERIODIC_JOBS]
    assert "factsheets.remove-expired" in names
    assert len(names) == len(set(names))


@pytest.fixture
def worker_group(config, tmp_path):
    """Start `portal worker` processes in their own process groups; kill leftovers at the end."""
    processes = []

    def start(**extra_env) -> subprocess.Popen:
        from datetime import date

        log = open(tmp_path / f"worker-{len(processes)}.log", "wb")
        env = {**_env(config, date(2018, 3, 15)), **extra_env}
        process = subprocess.Popen(
            _portal("worker", "--no-scheduler"),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


@pytest.mark.integration
def test_board_batch_through_worker_zip(app, client, auth, redis, worker_group):
    worker_group()
    auth.login("helpdesk@demo.test")
    url = _start(client).headers["Location"]

    def finished():
        page = client.get(url, headers=HTMX).text
        return page if 'data-status="finished"' in page else None

    page = _wait_for(finished, "the batch")
    assert "4 van 4 factsheets klaar, 0 mislukt" in page
    with client.get(url + "/zip") as response:
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    with app.app_context(), db.connection_context():
        codes = {s.code for s in School.select().join(Board).where(Board.number == "41234")}
    assert sorted(archive.namelist()) == sorted(f"factsheet-{c}-2017-2018.pdf" for c in codes)
    for name in archive.namelist():
        assert archive.read(name).startswith(b"%PDF")


def _child_pids(parent: int) -> list[int]:
    """Return the ids of the processes whose parent is ``parent``, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def _slow_school(app) -> int:
    """Give one school enough respondents that its factsheet takes a few seconds to build."""
    from portal.models import Respondent

    with app.app_context(), db.connection_context():
        school = School.get((School.brin == "21AB") & (School.vestiging == "00"))
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        template = Respondent.get((Respondent.school == school) & (Respondent.school_year == year))
        row = {
            "school": school.id,
            "school_year": year.id,
            "instrument": template.instrument_id,
            "group": "leerjaar 1",
            "taken_on": template.taken_on,
            "answers_json": template.answers_json,
            "imported_at": utcnow(),
        }
        with db.atomic():
            for _ in range(60):
                Respondent.insert_many([row] * 1000).execute()
        return school.id


@pytest.mark.integration
def test_killed_worker_leaves_job_retryable(app, client, auth, redis, worker_group, config):
    config_timeout = 3
    app.config["FACTSHEET_JOB_TIMEOUT_SECONDS"] = config_timeout
    school = _slow_school(app)
    worker = worker_group(FACTSHEET_JOB_TIMEOUT_SECONDS=str(config_timeout))
    auth.login("school@demo.test")
    url = client.post(f"/scholen/{school}/factsheets", data={"schooljaar": "2017-2018"}).headers[
        "Location"
    ]

    def running():
        with app.app_context(), db.connection_context():
            return FactsheetJob.get().status == "running"

    _wait_for(running, "the factsheet to start")
    # RQ's work horse moves to a process group of its own, so a dead machine is simulated
    # by killing the horse as well as the worker's group.
    for pid in _child_pids(worker.pid):
        os.kill(pid, signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    with app.app_context(), db.connection_context():
        assert FactsheetJob.get().status == "running"

    def failed():
        page = client.get(url, headers=HTMX).text
        return page if 'data-status="failed"' in page else None

    page = _wait_for(failed, "the dead job to show as failed")
    assert "Opnieuw proberen" in page
    assert client.post(url + "/opnieuw").status_code == 303
    with app.app_context(), db.connection_context():
        assert FactsheetJob.get().status == "queued"
    # The killed build may leave its .partial file, but never a PDF that could be offered.
    assert list((config["PORTAL_DATA_DIR"]).rglob("*.pdf")) == []


def test_zip_of_active_batch_refused(app, client, auth, redis):
    auth.login("helpdesk@demo.test")
    url = _start(client).headers["Location"]
    response = client.get(url + "/zip")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url)
    with app.app_context(), db.connection_context():
        assert FactsheetBatch.get().zip_path == ""


def test_retention_removes_stale_partial(app_context):
    folder = app_context.config["PORTAL_DATA_DIR"] / "factsheets"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / "a.pdf.partial", folder / "b.pdf.partial"
    old.write_bytes(b"%PDF")
    fresh.write_bytes(b"%PDF")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    factsheets.remove_expired(30)
    assert not old.exists()
    assert fresh.exists()
