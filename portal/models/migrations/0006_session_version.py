"""Add the session version to accounts, so logging out ends every copy of a session."""

from peewee import IntegerField


def up(migrator, db):
    migrator.migrate(migrator.add_column("account", "session_version", IntegerField(default=0)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("account", "session_version"))
