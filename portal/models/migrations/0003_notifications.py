"""Create the mail outbox (notification) and the record of deadline reminders."""

from peewee import CharField, ForeignKeyField, IntegerField, Model, TextField

from portal.models.base import UTCDateTimeField


def up(migrator, db):
    # Frozen stand-ins for the tables that the new ones reference; they are not created here.
    class Board(Model):
        class Meta:
            database = db
            table_name = "board"

    class SchoolYear(Model):
        class Meta:
            database = db
            table_name = "school_year"

    class User(Model):
        class Meta:
            database = db
            table_name = "account"

    class DeliveryRequest(Model):
        class Meta:
            database = db
            table_name = "delivery_request"

    class Notification(Model):
        kind = CharField(max_length=20)
        request = ForeignKeyField(DeliveryRequest, null=True, on_delete="CASCADE")
        board = ForeignKeyField(Board, null=True, on_delete="CASCADE")
        school_year = ForeignKeyField(SchoolYear, null=True, on_delete="CASCADE")
        recipient = ForeignKeyField(User, null=True, on_delete="SET NULL")
        recipient_email = CharField(max_length=254)
        subject = CharField(max_length=300, default="")
        details_json = TextField(default="{}")
        created_at = UTCDateTimeField()
        sent_at = UTCDateTimeField(null=True, index=True)
        attempts = IntegerField(default=0)
        last_error = TextField(default="")
        lease_until = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "notification"

    class BoardReminder(Model):
        board = ForeignKeyField(Board, on_delete="CASCADE")
        school_year = ForeignKeyField(SchoolYear, on_delete="CASCADE")
        created_at = UTCDateTimeField()
        recipients = IntegerField()

        class Meta:
            database = db
            table_name = "board_reminder"
            indexes = ((("board", "school_year"), True),)

    db.create_tables([Notification, BoardReminder], safe=False)


def down(migrator, db):
    migrator.migrate(migrator.drop_table("board_reminder"))
    migrator.migrate(migrator.drop_table("notification"))
