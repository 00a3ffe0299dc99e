"""Store how many rows a survey file is expected to have, for the progress bar of its job."""

from peewee import IntegerField


def up(migrator, db):
    migrator.migrate(migrator.add_column("survey_import", "rows_expected", IntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("survey_import", "rows_expected"))
