"""Create survey_import: each attempt to import a school's answers from a file."""

from peewee import BigIntegerField, CharField, ForeignKeyField, IntegerField, Model, TextField

from portal.models.base import UTCDateTimeField


def up(migrator, db):
    # Frozen stand-ins for the tables that the new one references; they are not created here.
    def stand_in(table):
        class Meta:
            database = db
            table_name = table

        return type(f"StandIn_{table}", (Model,), {"Meta": Meta})

    school_table = stand_in("school")
    school_year_table = stand_in("school_year")
    instrument_table = stand_in("instrument")
    account_table = stand_in("account")

    class SurveyImport(Model):
        school = ForeignKeyField(school_table, on_delete="CASCADE")
        school_year = ForeignKeyField(school_year_table, on_delete="CASCADE")
        instrument = ForeignKeyField(instrument_table, on_delete="RESTRICT")
        format = CharField(max_length=32)
        filename = CharField(max_length=255)
        sha256 = CharField(max_length=64)
        size_bytes = BigIntegerField(default=0)
        status = CharField(max_length=10, default="queued")
        rows = IntegerField(default=0)
        replaced = IntegerField(default=0)
        progress = IntegerField(default=0)
        errors_json = TextField(default="[]")
        error_count = IntegerField(default=0)
        file_path = CharField(max_length=300, default="")
        rq_job_id = CharField(max_length=64, default="")
        user = ForeignKeyField(account_table, null=True, on_delete="SET NULL")
        created_at = UTCDateTimeField()
        started_at = UTCDateTimeField(null=True)
        finished_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "survey_import"
            indexes = ((("school", "school_year", "instrument", "sha256"), False),)

    db.create_tables([SurveyImport], safe=False)


def down(migrator, db):
    migrator.migrate(migrator.drop_table("survey_import"))
