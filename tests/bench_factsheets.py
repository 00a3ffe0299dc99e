"""Factsheet benchmarks, run through tests.bench with `--only factsheet`.

One school factsheet: the median time of building the report and the PDF of the demo
school 15KU00 (72 respondents a year, three years of trend), in this process.
Batch: factsheets for 1,200 schools (the Vensters survey reached about 1,200 schools in
2018-2019), each with the respondents of 15KU00, built by two real RQ workers. The clock
runs from the moment the batch is queued until no job is queued or running.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis
from rq import Worker

from jobs.factsheet_pdf import render_factsheet
from jobs.factsheets import delivery_state
from portal import create_app
from portal.cli import migrate_database
from portal.demo import load_demo_data
from portal.domain import factsheets
from portal.domain.report import build_report
from portal.embedded_redis import EmbeddedRedis
from portal.models import Board, FactsheetJob, Respondent, School, SchoolYear, User, db

YEAR = "2017-2018"


def _setup(work: Path, redis_url: str):
    config = {
        "PORTAL_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{work / 'portal.db'}",
        "REDIS_URL": redis_url,
        "PORTAL_DATA_DIR": work / "data",
        "PORTAL_TODAY": "2018-03-15",
        "SECRET_KEY": "bench",
    }
    app = create_app(config)
    with app.app_context():
        migrate_database()
        with db.connection_context():
            load_demo_data("bench")
    return app, config


def bench_one_factsheet(app, runs: int = 30) -> dict:
    """Time report plus PDF of one school; return the median and slowest run in ms."""
    with app.test_request_context(), db.connection_context():
        school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
        year = SchoolYear.get(SchoolYear.name == YEAR)
        timings = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            report = build_report([school], year, 10)
            pdf = render_factsheet(report, school.name, delivery_state(school, year), 10)
            timings.append((time.perf_counter() - started) * 1000)
        timings = timings[1:]  # the first run registers the fonts
    return {
        "benchmark": "one school factsheet",
        "runs": runs,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "pdf_bytes": len(pdf),
    }


def _create_schools(count: int) -> None:
    """Create ``count`` schools, each with the respondents of 15KU00 in every year."""
    board = Board.get(Board.number == "41234")
    source = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    template = list(Respondent.select().where(Respondent.school == source).dicts())
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    with db.atomic():
        for n in range(count):
            school = School.create(
                board=board,
                brin=f"{n // 529 + 40:02d}{letters[n // 23 % 23]}{letters[n % 23]}",
                vestiging="00",
                name=f"Benchschool {n}",
                place="Utrecht",
                sector="PO",
                onderwijssoort="bo",
            )
            rows = [
                {key: value for key, value in row.items() if key != "id"} | {"school": school.id}
                for row in template
            ]
            Respondent.insert_many(rows).execute()


def bench_batch(app, config, count: int, workers: int) -> dict:
    """Build factsheets for ``count`` schools (the demo schools included) with ``workers``."""
    with app.app_context(), db.connection_context():
        _create_schools(count - School.select().count())

    env = dict(
        os.environ,
        PORTAL_ENV="testing",
        SECRET_KEY="bench",
        DATABASE_URL=config["DATABASE_URL"],
        REDIS_URL=config["REDIS_URL"],
        PORTAL_DATA_DIR=str(config["PORTAL_DATA_DIR"]),
        PORTAL_TODAY=config["PORTAL_TODAY"],
        LOG_LEVEL="WARNING",
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "portal", "worker", "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        connection = Redis.from_url(config["REDIS_URL"])
        deadline = time.monotonic() + 30
        while len(Worker.all(connection=connection)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)

        with app.test_request_context():
            with db.connection_context():
                user = User.get(User.email == "helpdesk@demo.test")
                year = SchoolYear.get(SchoolYear.name == YEAR)
                started = time.perf_counter()
                batch = factsheets.start_batch("all", year, user)
            while True:
                with db.connection_context():
                    left = (
                        FactsheetJob.select()
                        .where(
                            (FactsheetJob.batch == batch)
                            & FactsheetJob.status.in_(factsheets.ACTIVE)
                        )
                        .count()
                    )
                if left == 0 or time.perf_counter() - started > 900:
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
            with db.connection_context():
                counts = factsheets.batch_counts(batch)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
    return {
        "benchmark": "factsheet batch",
        "schools": counts["total"],
        "workers": workers,
        "database": "SQLite",
        "seconds": round(elapsed, 1),
        "per_second": round(counts["total"] / elapsed, 1),
        "done": counts["done"],
        "failed": counts["failed"],
        "unfinished": left,
    }


def run(count: int = 1200, workers: int = 2) -> list[dict]:
    """Run both factsheet benchmarks in a fresh database and Redis; return the results."""
    work = Path(tempfile.mkdtemp(prefix="msv-bench-fs-"))
    redis_server = EmbeddedRedis(work / "redis").start()
    try:
        app, config = _setup(work, redis_server.url)
        return [bench_one_factsheet(app), bench_batch(app, config, count, workers)]
    finally:
        redis_server.stop()
        if not db.is_closed():
            db.close()
        shutil.rmtree(work, ignore_errors=True)
