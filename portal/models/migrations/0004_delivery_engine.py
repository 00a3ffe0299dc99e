"""Add retry scheduling, idempotency keys and receipt times to delivery requests.

A partial unique index keeps one active request per school, school year and instrument,
even when two people submit at the same moment.
"""

from peewee import CharField

from portal.models.base import UTCDateTimeField

ACTIVE = "('submitted', 'approved', 'delivering', 'retrying', 'delivered', 'given_up')"


def up(migrator, db):
    migrator.migrate(
        migrator.add_column(
            "delivery_request", "idempotency_key", CharField(max_length=64, default="")
        ),
        migrator.add_column("delivery_request", "next_attempt_at", UTCDateTimeField(null=True)),
        migrator.add_column("delivery_request", "receipt_at", UTCDateTimeField(null=True)),
    )
    db.execute_sql("UPDATE delivery_request SET status = 'retrying' WHERE status = 'failed'")
    db.execute_sql(
        "CREATE UNIQUE INDEX delivery_request_one_active ON delivery_request "
        f"(school_id, school_year_id, instrument_id) WHERE status IN {ACTIVE}"
    )


def down(migrator, db):
    db.execute_sql("DROP INDEX delivery_request_one_active")
    migrator.migrate(
        migrator.drop_column("delivery_request", "receipt_at"),
        migrator.drop_column("delivery_request", "next_attempt_at"),
        migrator.drop_column("delivery_request", "idempotency_key"),
    )
