"""Benchmarks of the portal, run with `make bench`; results go to docs/benchmarks.md.

Delivery: one leverdatum for 1,200 schools (the Vensters survey reached about 1,200 schools
in 2018-2019) and for 8,000 schools (about every Dutch school location), through the
HTTPS transport to a receiver on loopback and through the outbox, with two real RQ
workers. The clock runs from the moment both sweeps are queued until every request is
delivered.
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from redis import Redis
from rq import Queue

from portal import create_app
from portal.cli import migrate_database
from portal.demo import load_demo_data
from portal.domain.payload import encode_summary, sha256_hex
from portal.embedded_redis import EmbeddedRedis
from portal.models import Board, DeliveryRequest, Instrument, School, SchoolYear, User, db

LEVERDATUM = date(2018, 7, 1)


def _serve_receiver(port_queue) -> None:
    from tests.receiver import Receiver

    receiver = Receiver().start()
    port_queue.put(receiver.url)
    while True:
        time.sleep(3600)


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def _create_requests(count: int) -> None:
    """Create ``count`` schools, each with an approved request for LEVERDATUM."""
    board = Board.get(Board.number == "41234")
    year = SchoolYear.get(SchoolYear.name == "2017-2018")
    instrument = Instrument.get(Instrument.code == "msv")
    secretary = User.get(User.email == "bestuur@demo.test")
    now = datetime.now(UTC)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    with db.atomic():
        schools = [
            {
                "board": board.id,
                "brin": f"{n // 529 + 40:02d}{letters[n // 23 % 23]}{letters[n % 23]}",
                "vestiging": "00",
                "name": f"Benchschool {n}",
                "place": "Utrecht",
                "sector": "PO",
                "onderwijssoort": "bo",
            }
            for n in range(count)
        ]
        for start in range(0, count, 500):
            School.insert_many(schools[start : start + 500]).execute()
    created = list(School.select().where(School.name.startswith("Benchschool ")))
    rows = []
    for school in created:
        summary = {"brin": school.brin, "vestiging": school.vestiging, "school_year": year.name}
        summary["scales"] = {"veiligheidsbeleving": {"mean": 3.1, "positive_share": 0.8}}
        payload = encode_summary(summary)
        rows.append(
            {
                "school": school.id,
                "school_year": year.id,
                "instrument": instrument.id,
                "status": "approved",
                "leverdatum": LEVERDATUM,
                "level": "vestiging",
                "groups": "groep 6, 7 en 8",
                "representative": True,
                "consent_name": "J. de Boer",
                "consent_function": "voorzitter",
                "consent_date": date(2018, 3, 1),
                "contact_name": "S. de Vries",
                "contact_email": "contact@school.example",
                "payload": payload.decode(),
                "payload_sha256": sha256_hex(payload),
                "idempotency_key": str(uuid.uuid4()),
                "created_by": secretary.id,
                "created_at": now,
                "updated_at": now,
            }
        )
    with db.atomic():
        for start in range(0, len(rows), 500):
            DeliveryRequest.insert_many(rows[start : start + 500]).execute()


def bench_delivery(count: int, transport: str, workers: int, database_url: str | None) -> dict:
    """Deliver ``count`` approved requests with ``workers`` RQ workers; return the timing."""
    work = Path(tempfile.mkdtemp(prefix="msv-bench-"))
    redis_server = EmbeddedRedis(work / "redis").start()
    receiver = None
    created_database = None
    try:
        if database_url:
            created_database = f"msv_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(
                ["createdb", "-h", "127.0.0.1", "-U", "postgres", created_database], check=True
            )
            url = database_url.rsplit("/", 1)[0] + f"/{created_database}"
        else:
            url = f"sqlite:///{work / 'portal.db'}"
        config = {
            "PORTAL_ENV": "testing",
            "DATABASE_URL": url,
            "REDIS_URL": redis_server.url,
            "PORTAL_DATA_DIR": work / "data",
            "PORTAL_TODAY": LEVERDATUM,
        }
        app = create_app(config)
        with app.app_context():
            migrate_database()
            with db.connection_context():
                load_demo_data("bench")
                _create_requests(count)

        env = dict(
            os.environ,
            PORTAL_ENV="testing",
            SECRET_KEY="bench",
            DATABASE_URL=url,
            REDIS_URL=redis_server.url,
            PORTAL_DATA_DIR=str(work / "data"),
            PORTAL_TODAY=LEVERDATUM.isoformat(),
            DELIVERY_TRANSPORT=transport,
            LOG_LEVEL="WARNING",
        )
        if transport == "https":
            urls = multiprocessing.Queue()
            receiver = multiprocessing.Process(target=_serve_receiver, args=(urls,), daemon=True)
            receiver.start()
            env.update(DELIVERY_HTTPS_URL=urls.get(timeout=10), DELIVERY_HTTPS_TOKEN="test-token")

        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "portal", "worker", "--no-scheduler"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        connection = Redis.from_url(redis_server.url)
        deadline = time.monotonic() + 30
        from rq import Worker

        while len(Worker.all(connection=connection)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)

        queue = Queue("portal", connection=connection)
        started = time.perf_counter()
        for _ in range(workers):
            queue.enqueue("jobs.deliveries.deliver_due", job_timeout=1800)
        with app.app_context():
            while True:
                with db.connection_context():
                    left = (
                        DeliveryRequest.select()
                        .where(DeliveryRequest.status != "delivered")
                        .count()
                    )
                if left == 0 or time.perf_counter() - started > 900:
                    break
                time.sleep(0.1)
        elapsed = time.perf_counter() - started
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        return {
            "schools": count,
            "transport": transport,
            "workers": workers,
            "database": "PostgreSQL" if database_url else "SQLite",
            "seconds": round(elapsed, 2),
            "per_second": round(count / elapsed, 1),
            "undelivered": left,
        }
    finally:
        if receiver is not None:
            receiver.terminate()
        redis_server.stop()
        db.close() if not db.is_closed() else None
        if created_database:
            subprocess.run(
                ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", created_database],
                check=False,
            )
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1200,8000", help="school counts, comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server may create a database")
    parser.add_argument(
        "--only",
        choices=("delivery", "factsheet"),
        help="run only the delivery or only the factsheet benchmarks (default: both)",
    )
    parser.add_argument(
        "--factsheet-schools", type=int, default=1200, help="schools in the factsheet batch"
    )
    args = parser.parse_args()

    print(f"machine: {_machine()}")
    if args.only != "delivery":
        from tests import bench_factsheets

        for result in bench_factsheets.run(args.factsheet_schools, args.workers):
            print(json.dumps(result))
    if args.only == "factsheet":
        return
    results = []
    for count in (int(c) for c in args.counts.split(",")):
        for transport in ("https", "outbox"):
            for database_url in [None] + ([args.postgres] if args.postgres else []):
                result = bench_delivery(count, transport, args.workers, database_url)
                results.append(result)
                print(json.dumps(result))


if __name__ == "__main__":
    main()
