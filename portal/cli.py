"""The `portal` command: database, demo data, worker, deliveries and the all-in-one server."""

import contextlib
import logging
import os
import signal
import subprocess
import sys
from datetime import UTC

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .config import ConfigError
from .models import User, db

logger = logging.getLogger(__name__)


def _create_app():
    from . import create_app

    return create_app()


def main() -> None:
    cli = FlaskGroup(
        create_app=_create_app,
        add_default_commands=False,
        load_dotenv=False,
        help="Portaal Monitoring Sociale Veiligheid.",
    )
    try:
        cli(prog_name="portal")
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


def migrate_database() -> list[str]:
    """Apply every pending migration; return the names applied."""
    from pathlib import Path

    from playhouse.migrations import Runner

    directory = Path(__file__).parent / "models" / "migrations"
    with db.connection_context():
        return Runner(db.obj, str(directory)).up()


def register_commands(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Database schema."""

    @db_group.command("upgrade")
    @with_appcontext
    def db_upgrade():
        """Apply pending migrations."""
        applied = migrate_database()
        click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")

    @app.cli.command("demo-data")
    @click.option("--if-empty", is_flag=True, help="Do nothing when accounts already exist.")
    @with_appcontext
    def demo_data(if_empty: bool):
        """Fill the database with deterministic demo boards, schools, accounts and answers."""
        from .demo import load_demo_data

        migrate_database()
        with db.connection_context():
            if if_empty and User.select().exists():
                click.echo("demo data already present")
                return
            summary = load_demo_data(current_app.config["PORTAL_DEMO_PASSWORD"])
        click.echo(f"demo data loaded: {summary}")

    @app.cli.command("worker")
    @click.option("--scheduler/--no-scheduler", default=True, help="Also run the periodic jobs.")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @with_appcontext
    def worker(scheduler: bool, burst: bool):
        """Run an RQ worker for the portal queue."""
        from jobs.worker import run_worker

        run_worker(current_app._get_current_object(), with_scheduler=scheduler, burst=burst)

    @app.cli.group("deliveries")
    def deliveries_group():
        """Deliveries to the Inspectie."""

    @deliveries_group.command("run-due")
    @click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Deliver as if it were noon of this date in Amsterdam (YYYY-MM-DD).",
    )
    @with_appcontext
    def run_due_command(as_of):
        """Deliver every request that is due: approved, retry time reached, or lease expired."""
        from portal.clock import AMSTERDAM, now
        from portal.domain.delivery import DeliveryPolicy, run_due
        from portal.domain.transport import make_transport

        config = current_app.config
        moment = now()
        if as_of:
            moment = as_of.replace(hour=12, tzinfo=AMSTERDAM).astimezone(UTC)
        with db.connection_context():
            delivered = run_due(moment, make_transport(config), DeliveryPolicy.from_config(config))
        click.echo(f"{len(delivered)} delivered as of {moment.isoformat()}: {delivered}")

    @deliveries_group.command("list")
    @click.option(
        "--status",
        type=click.Choice(
            [
                "submitted",
                "approved",
                "delivering",
                "retrying",
                "delivered",
                "given_up",
                "rejected",
                "withdrawn",
            ]
        ),
        help="Only requests in this status.",
    )
    @click.option(
        "--date",
        "leverdatum",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Only this leverdatum.",
    )
    @with_appcontext
    def list_command(status, leverdatum):
        """List delivery requests with school, leverdatum, status and attempts."""
        from .models import DeliveryRequest, School

        with db.connection_context():
            query = (
                DeliveryRequest.select(DeliveryRequest, School)
                .join(School)
                .order_by(DeliveryRequest.leverdatum, DeliveryRequest.id)
            )
            if status:
                query = query.where(DeliveryRequest.status == status)
            if leverdatum:
                query = query.where(DeliveryRequest.leverdatum == leverdatum.date())
            rows = list(query)
            for request in rows:
                click.echo(
                    f"{request.id:>6}  {request.school.code}  {request.leverdatum.isoformat()}  "
                    f"{request.status:<10}  attempts={request.attempts}  {request.last_error[:60]}"
                )
        click.echo(f"{len(rows)} requests")

    @deliveries_group.command("retry")
    @click.argument("request_id", type=click.IntRange(1, 2**63 - 1))
    @with_appcontext
    def retry_command(request_id: int):
        """Schedule a retrying or given-up delivery for the next sweep."""
        from .domain.calendar import DeliveryRefused
        from .domain.delivery import requeue_request
        from .models import DeliveryRequest

        with db.connection_context():
            request = DeliveryRequest.get_or_none(DeliveryRequest.id == request_id)
            if request is None:
                raise click.ClickException(f"delivery request {request_id} not found")
            try:
                requeue_request(request, None, "opnieuw ingepland via de opdrachtregel")
            except DeliveryRefused as error:
                raise click.ClickException(
                    f"request {request_id} has status {request.status}; only retrying or given_up "
                    "requests can be retried"
                ) from error
        click.echo(f"request {request_id} scheduled for the next sweep")

    @app.cli.command("serve")
    @click.option("--port", type=int, envvar="PORT", default=5000, show_default=True)
    @click.option(
        "--web-workers",
        type=click.IntRange(1, 64),
        default=2,
        show_default=True,
        help="gunicorn processes",
    )
    @with_appcontext
    def serve(port: int, web_workers: int):
        """Run everything on this machine: migrations, demo data, Redis, a worker, the web server."""
        _serve(current_app._get_current_object(), port, web_workers)


DEMO_LOGINS = (
    ("school@demo.test", "schoolmedewerker"),
    ("bestuur@demo.test", "bestuurssecretaris"),
    ("helpdesk@demo.test", "helpdesk"),
    ("beheer@demo.test", "beheerder"),
)


def _serve(app: Flask, port: int, web_workers: int) -> None:
    from .demo import load_demo_data
    from .embedded_redis import EmbeddedRedis

    data_dir = app.config["PORTAL_DATA_DIR"]
    migrate_database()
    with db.connection_context():
        if not User.select().exists():
            click.echo(f"demo data loaded: {load_demo_data(app.config['PORTAL_DEMO_PASSWORD'])}")

    env = dict(os.environ)
    env.setdefault("PORTAL_DATA_DIR", str(data_dir))
    # Links in e-mails point at this server unless an operator configured the public address.
    env.setdefault("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        redis_server = EmbeddedRedis(data_dir).start()
        env["REDIS_URL"] = redis_server.url

    children: list[subprocess.Popen] = []

    def stop(*_args):
        for child in children:
            if child.poll() is None:
                child.terminate()
            else:
                # The leader died; what it started (a worker's cron scheduler) may live on.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                # Each child leads its own process group: this also ends the worker's
                # cron scheduler and work horse.
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if redis_server is not None:
            redis_server.stop()

    # Children run in their own session, so Ctrl-C reaches only this process, which then
    # stops each child with exactly one SIGTERM. An RQ worker that receives a second signal
    # during its warm shutdown hangs until its blocking dequeue times out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # A shell that starts this in the background may have set SIGINT to be ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "portal", "worker"], env=env, start_new_session=True
            )
        )
        children.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn",
                    "--workers", str(web_workers),
                    "--bind", f"127.0.0.1:{port}",
                    "--access-logfile", "-",
                    "--no-control-socket",
                    "wsgi:app",
                ],
                env=env,
                start_new_session=True,
            )
        )  # fmt: skip
        click.echo(f"\nPortaal draait op http://127.0.0.1:{port}  (stoppen: Ctrl-C)")
        password = app.config["PORTAL_DEMO_PASSWORD"]
        click.echo(f"Demo-accounts (wachtwoord: {password}):")
        for email, role in DEMO_LOGINS:
            click.echo(f"  {email:<22} {role}")
        while all(child.poll() is None for child in children):
            try:
                children[0].wait(1)
            except subprocess.TimeoutExpired:
                continue
        stopped = next(child for child in children if child.poll() is not None)
        click.echo(
            f"{' '.join(stopped.args[2:4])} exited with {stopped.returncode}; stopping the others",
            err=True,
        )
        exit_code = 1
    except KeyboardInterrupt:
        exit_code = 0
    finally:
        stop()
    sys.exit(exit_code)
