"""Plan a comparison freeze on a school year, and count the schools behind each value.

Values frozen before this migration get 0 schools, which the admin page shows as unknown.
"""

from peewee import DateField, IntegerField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("school_year", "comparison_freeze_on", DateField(null=True)),
        migrator.add_column("comparison_value", "schools", IntegerField(default=0)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("comparison_value", "schools"),
        migrator.drop_column("school_year", "comparison_freeze_on"),
    )
