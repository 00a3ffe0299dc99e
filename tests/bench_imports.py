"""Benchmark of survey imports and of the school report page; results go to docs/benchmarks.md.

It generates 412,000 respondents as 1,200 own-format CSV files of one school each (about
the size of the national survey of 2018-2019), imports them through the domain function
into SQLite and into PostgreSQL, and prints respondents per second. Then it times
GET /scholen/<id>/monitoring-sociale-veiligheid through the Flask test client, logged in
as the support desk, and prints p50 and p95 in milliseconds.
"""

import argparse
import logging
import multiprocessing
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

from portal import create_app
from portal.cli import migrate_database
from portal.demo import load_demo_data
from portal.domain.imports import create_import, run_import
from portal.models import Board, Instrument, School, SchoolYear, db

from .bench import _machine

TODAY = date(2018, 3, 15)
YEAR = "2017-2018"
ITEMS = ("A1", "A2", "A3", "A4", "V1", "V2", "V3", "V4", "W1", "W2", "W3", "W4", "X1")
PASSWORD = "bench"


def _files(schools: list[School], respondents: int, seed: int = 2019) -> list[bytes]:
    """Return one own-format CSV per school; the respondents are spread evenly."""
    rng = random.Random(seed)
    per_school, extra = divmod(respondents, len(schools))
    opens = date(2017, 11, 1)
    files = []
    for index, school in enumerate(schools):
        count = per_school + (1 if index < extra else 0)
        lines = [
            ";".join(["brin", "vestiging", "schooljaar", "respondent", "groep", "datum", *ITEMS])
        ]
        for number in range(1, count + 1):
            day = opens + timedelta(days=rng.randint(0, 180))
            answers = ";".join(str(rng.randint(1, 4)) if rng.random() > 0.02 else "" for _ in ITEMS)
            lines.append(
                f"{school.brin};{school.vestiging};{YEAR};{number};groep {5 + number % 4};"
                f"{day:%d-%m-%Y};{answers}"
            )
        files.append(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return files


def _create_schools(count: int) -> list[School]:
    board = Board.get(Board.number == "41234")
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    rows = []
    for number in range(count):
        brin = f"{50 + number // 529:02d}{letters[number // 23 % 23]}{letters[number % 23]}"
        rows.append(
            {
                "board": board.id,
                "brin": brin,
                "vestiging": "00",
                "name": f"Benchschool {number}",
                "place": "Utrecht",
                "sector": "PO",
                "onderwijssoort": "bo",
            }
        )
    with db.atomic():
        for start in range(0, len(rows), 500):
            School.insert_many(rows[start : start + 500]).execute()
    return list(School.select().where(School.name.startswith("Benchschool")).order_by(School.id))


def _report_timings(app, schools: list[School], requests: int) -> list[float]:
    client = app.test_client()
    response = client.post("/inloggen", data={"email": "helpdesk@demo.test", "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    sample = schools[:: max(1, len(schools) // 20)][:20]
    timings = []
    for number in range(requests):
        school = sample[number % len(sample)]
        started = time.perf_counter()
        response = client.get(
            f"/scholen/{school.id}/monitoring-sociale-veiligheid?schooljaar={YEAR}"
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return timings


def _import_files(work: list[tuple[int, bytes]]) -> int:
    """Import each (school id, file) as the upload page does; return the respondents."""
    school_year = SchoolYear.get(SchoolYear.name == YEAR)
    instrument = Instrument.get(Instrument.code == "msv")
    imported = 0
    for school_id, data in work:
        school = School.get_by_id(school_id)
        survey_import = create_import(
            school, school_year, instrument, "msv", "bench.csv", data, None
        )
        run_import(survey_import, data, 10)
        assert survey_import.status == "completed", survey_import.errors
        imported += survey_import.rows
    return imported


_worker_app = None


def _start_worker(config: dict) -> None:
    global _worker_app
    logging.getLogger().setLevel(logging.WARNING)
    _worker_app = create_app(config)


def _ready(_number: int) -> bool:
    # Long enough that each process takes one of these tasks, so all have built their app.
    time.sleep(0.5)
    return _worker_app is not None


def _import_chunk(work: list[tuple[int, bytes]]) -> int:
    with _worker_app.app_context(), db.connection_context():
        return _import_files(work)


def _import_in_processes(
    config: dict, work: list[tuple[int, bytes]], processes: int
) -> tuple[int, float]:
    """Import the files in ``processes`` parallel processes, as that many workers would.

    The clock starts when every process has started and built its app.
    """
    chunks = [work[number::processes] for number in range(processes)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_start_worker, initargs=(config,)) as pool:
        assert all(pool.map(_ready, range(processes), chunksize=1))
        started = time.perf_counter()
        imported = sum(pool.map(_import_chunk, chunks, chunksize=1))
        seconds = time.perf_counter() - started
    return imported, seconds


def run(
    database: str, url: str, schools: int, respondents: int, requests: int, processes: int
) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    config = {
        "PORTAL_ENV": "testing",
        "PORTAL_TODAY": TODAY,
        "PORTAL_DATA_DIR": data_dir,
        "DATABASE_URL": url,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
    }
    app = create_app(config)
    try:
        with app.app_context():
            migrate_database()
            with db.connection_context():
                load_demo_data(PASSWORD)
                created = _create_schools(schools)
                files = _files(created, respondents)
                work = [(school.id, data) for school, data in zip(created, files, strict=True)]
            if processes == 1:
                started = time.perf_counter()
                with db.connection_context():
                    imported = _import_files(work)
                seconds = time.perf_counter() - started
            else:
                imported, seconds = _import_in_processes(config, work, processes)
        print(
            f"{database}, {processes} import processes: {imported:,} respondents in "
            f"{len(files):,} files, {seconds:.1f} s, "
            f"{imported / seconds:,.0f} respondents per second",
            flush=True,
        )
        timings = _report_timings(app, created, requests)
    finally:
        if not db.is_closed():
            db.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    quantiles = statistics.quantiles(timings, n=100)
    return {
        "database": database,
        "processes": processes,
        "files": len(files),
        "respondents": imported,
        "seconds": seconds,
        "per_second": imported / seconds,
        "p50": statistics.median(timings),
        "p95": quantiles[94],
        "requests": len(timings),
    }


def _postgres_database(admin_url: str):
    """Create a fresh database on the server of ``admin_url``; return its URL and a dropper."""
    name = f"msv_bench_imports_{uuid.uuid4().hex[:8]}"
    parts = urlparse(admin_url)
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()

    return urlunparse(parts._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=1200)
    parser.add_argument("--respondents", type=int, default=412_000)
    parser.add_argument("--requests", type=int, default=200, help="report page requests")
    parser.add_argument(
        "--processes",
        default="1,2",
        help="comma-separated numbers of parallel import processes; each gets a fresh database",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server on which the user may create databases; '' skips it",
    )
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)
    process_counts = [int(number) for number in args.processes.split(",")]
    sizes = (args.schools, args.respondents, args.requests)

    print(_machine())
    results = []
    for processes in process_counts:
        sqlite_dir = Path(tempfile.mkdtemp(prefix="bench-imports-db-"))
        try:
            url = f"sqlite:///{sqlite_dir / 'portal.db'}"
            results.append(run("SQLite", url, *sizes, processes))
        finally:
            shutil.rmtree(sqlite_dir, ignore_errors=True)
        if args.postgres:
            url, drop = _postgres_database(args.postgres)
            try:
                results.append(run("PostgreSQL", url, *sizes, processes))
            finally:
                drop()

    print(
        "| database | import processes | files | respondents | seconds "
        "| respondents per second | report p50 ms | report p95 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['database']} | {r['processes']} | {r['files']:,} | {r['respondents']:,} "
            f"| {r['seconds']:.1f} | {r['per_second']:,.0f} | {r['p50']:.1f} | {r['p95']:.1f} |"
        )


if __name__ == "__main__":
    main()
