"""Create factsheet batches (bulk generation by the support desk) and link jobs to them.

started_at on factsheet_job lets the portal see that a job ran longer than its timeout,
which means its worker died.
"""

from peewee import CharField, ForeignKeyField, Model

from portal.models.base import UTCDateTimeField


def up(migrator, db):
    # Frozen stand-ins for the tables that the new one references; they are not created here.
    class Board(Model):
        class Meta:
            database = db
            table_name = "board"

    class School(Model):
        class Meta:
            database = db
            table_name = "school"

    class SchoolYear(Model):
        class Meta:
            database = db
            table_name = "school_year"

    class User(Model):
        class Meta:
            database = db
            table_name = "account"

    class FactsheetBatch(Model):
        scope = CharField(max_length=10)
        school = ForeignKeyField(School, null=True, on_delete="CASCADE")
        board = ForeignKeyField(Board, null=True, on_delete="CASCADE")
        school_year = ForeignKeyField(SchoolYear, on_delete="CASCADE")
        requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = UTCDateTimeField()
        zip_path = CharField(max_length=300, default="")

        class Meta:
            database = db
            table_name = "factsheet_batch"

    db.create_tables([FactsheetBatch], safe=False)
    migrator.migrate(
        migrator.add_column(
            "factsheet_job",
            "batch_id",
            ForeignKeyField(
                FactsheetBatch, null=True, on_delete="CASCADE", field=FactsheetBatch.id
            ),
        ),
        migrator.add_column("factsheet_job", "started_at", UTCDateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("factsheet_job", "started_at"),
        migrator.drop_column("factsheet_job", "batch_id"),
        migrator.drop_table("factsheet_batch"),
    )
