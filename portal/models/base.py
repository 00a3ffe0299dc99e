"""The database proxy, the base model and the UTC datetime field shared by all models."""

from datetime import UTC, datetime
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect

db = peewee.DatabaseProxy()


class UTCDateTimeField(peewee.DateTimeField):
    """An instant stored as naive UTC and returned as an aware UTC datetime.

    Naive datetimes are rejected, so no local time can reach the database by accident.
    """

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} for field {self.name}; pass an aware one")
        return super().db_value(value.astimezone(UTC).replace(tzinfo=None))

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


def open_database(url: str) -> peewee.Database:
    """Create the database named by ``url`` (sqlite:/// or postgresql://), not yet connected."""
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        return connect(
            url,
            # A deferred transaction that reads first cannot wait for the write lock: it
            # fails at once with "database is locked" when another process wrote meanwhile.
            # Taking the write lock at BEGIN lets busy_timeout do its work.
            lock_type="IMMEDIATE",
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                # Web and worker processes share the file: wait for a lock instead of failing.
                "busy_timeout": 10_000,
                "synchronous": "normal",
            },
        )
    if scheme in ("postgres", "postgresql"):
        return connect(url.replace("postgres://", "postgresql://", 1))
    raise ValueError(
        f"DATABASE_URL has unsupported scheme {scheme!r}; use sqlite:/// or postgresql://"
    )
