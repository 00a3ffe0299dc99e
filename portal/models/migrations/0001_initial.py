"""Create the initial schema (generated from the models by playhouse.migrations)."""
from peewee import *
from portal.models.base import UTCDateTimeField

def up(migrator, db):
    class Board(Model):
        number = CharField(unique=True, max_length=8)
        name = CharField(max_length=200)
        class Meta:
            database = db
            table_name = 'board'
    db.create_tables([Board])

    class User(Model):
        email = CharField(unique=True, max_length=254)
        name = CharField(max_length=200)
        password_hash = CharField()
        role = CharField(max_length=20)
        board = ForeignKeyField(Board, null=True, on_delete='SET NULL')
        active = BooleanField(default=True)
        last_login_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'account'
    db.create_tables([User])

    class School(Model):
        board = ForeignKeyField(Board, on_delete='RESTRICT')
        brin = CharField(index=True, max_length=4)
        vestiging = CharField(max_length=2)
        name = CharField(max_length=200)
        place = CharField(max_length=100)
        sector = CharField(max_length=2)
        onderwijssoort = CharField(max_length=100, default='')
        class Meta:
            database = db
            table_name = 'school'
            indexes = ((('brin', 'vestiging'), True),)
    db.create_tables([School])

    class AuditEvent(Model):
        at = UTCDateTimeField(index=True)
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        action = CharField(max_length=64)
        school = ForeignKeyField(School, null=True, on_delete='SET NULL')
        object_type = CharField(max_length=32, default='')
        object_id = IntegerField(null=True)
        details_json = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'audit_event'
    db.create_tables([AuditEvent])

    class SchoolYear(Model):
        name = CharField(unique=True, max_length=9)
        starts_on = DateField()
        ends_on = DateField()
        survey_opens_on = DateField()
        survey_closes_on = DateField()
        class Meta:
            database = db
            table_name = 'school_year'
    db.create_tables([SchoolYear])

    class ComparisonValue(Model):
        school_year = ForeignKeyField(SchoolYear, on_delete='CASCADE')
        sector = CharField(max_length=2)
        scale = CharField(max_length=32)
        mean = FloatField()
        respondents = IntegerField()
        frozen_on = DateField()
        class Meta:
            database = db
            table_name = 'comparison_value'
            indexes = ((('school_year', 'sector', 'scale'), True),)
    db.create_tables([ComparisonValue])

    class DeliveryDate(Model):
        school_year = ForeignKeyField(SchoolYear, on_delete='CASCADE')
        date = DateField()
        class Meta:
            database = db
            table_name = 'delivery_date'
            indexes = ((('school_year', 'date'), True),)
    db.create_tables([DeliveryDate])

    class Instrument(Model):
        code = CharField(unique=True, max_length=32)
        name = CharField(max_length=100)
        external = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'instrument'
    db.create_tables([Instrument])

    class DeliveryRequest(Model):
        school = ForeignKeyField(School, on_delete='RESTRICT')
        school_year = ForeignKeyField(SchoolYear, on_delete='RESTRICT')
        instrument = ForeignKeyField(Instrument, on_delete='RESTRICT')
        status = CharField(index=True, max_length=20)
        leverdatum = DateField(index=True)
        level = CharField(max_length=10)
        groups = CharField(max_length=300)
        representative = BooleanField()
        representative_explanation = TextField(default='')
        consent_name = CharField(max_length=200)
        consent_function = CharField(max_length=200)
        consent_date = DateField()
        contact_name = CharField(max_length=200)
        contact_email = CharField(max_length=254)
        contact_phone = CharField(max_length=40, default='')
        payload = TextField()
        payload_sha256 = CharField(max_length=64)
        created_by = ForeignKeyField(User, on_delete='RESTRICT')
        created_at = UTCDateTimeField()
        updated_at = UTCDateTimeField()
        decided_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        decided_at = UTCDateTimeField(null=True)
        rejection_reason = TextField(default='')
        attempts = IntegerField(default=0)
        lease_until = UTCDateTimeField(null=True)
        delivered_at = UTCDateTimeField(null=True)
        delivered_sha256 = CharField(max_length=64, default='')
        receipt = CharField(max_length=300, default='')
        last_error = TextField(default='')
        class Meta:
            database = db
            table_name = 'delivery_request'
    db.create_tables([DeliveryRequest])

    class DeliveryStatusChange(Model):
        request = ForeignKeyField(DeliveryRequest, on_delete='CASCADE')
        from_status = CharField(null=True, max_length=20)
        to_status = CharField(max_length=20)
        changed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        changed_at = UTCDateTimeField()
        reason = TextField(default='')
        class Meta:
            database = db
            table_name = 'delivery_status_change'
    db.create_tables([DeliveryStatusChange])

    class FactsheetJob(Model):
        school = ForeignKeyField(School, on_delete='CASCADE')
        school_year = ForeignKeyField(SchoolYear, on_delete='CASCADE')
        requested_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        status = CharField(max_length=10, default='queued')
        rq_job_id = CharField(max_length=64, default='')
        file_path = CharField(max_length=300, default='')
        error = TextField(default='')
        created_at = UTCDateTimeField()
        finished_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'factsheet_job'
    db.create_tables([FactsheetJob])

    class InstrumentYear(Model):
        instrument = ForeignKeyField(Instrument, on_delete='CASCADE')
        school_year = ForeignKeyField(SchoolYear, on_delete='CASCADE')
        first_delivery_on = DateField(null=True)
        class Meta:
            database = db
            table_name = 'instrument_year'
            indexes = ((('instrument', 'school_year'), True),)
    db.create_tables([InstrumentYear])

    class Questionnaire(Model):
        instrument = ForeignKeyField(Instrument, on_delete='CASCADE')
        sector = CharField(max_length=2)
        valid_from = ForeignKeyField(SchoolYear, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'questionnaire'
    db.create_tables([Questionnaire])

    class Item(Model):
        questionnaire = ForeignKeyField(Questionnaire, on_delete='CASCADE')
        code = CharField(max_length=16)
        position = IntegerField()
        text = CharField(max_length=300)
        scale = CharField(null=True, max_length=32)
        reversed = BooleanField(default=False)
        answer_max = IntegerField(default=4)
        answer_labels = CharField(max_length=300)
        class Meta:
            database = db
            table_name = 'item'
            indexes = ((('questionnaire', 'code'), True),)
    db.create_tables([Item])

    class PupilCount(Model):
        school = ForeignKeyField(School, on_delete='CASCADE')
        school_year = ForeignKeyField(SchoolYear, on_delete='CASCADE')
        pupils = IntegerField()
        class Meta:
            database = db
            table_name = 'pupil_count'
            indexes = ((('school', 'school_year'), True),)
    db.create_tables([PupilCount])

    class Respondent(Model):
        school = ForeignKeyField(School, on_delete='CASCADE')
        school_year = ForeignKeyField(SchoolYear, on_delete='CASCADE')
        instrument = ForeignKeyField(Instrument, on_delete='RESTRICT')
        group = CharField(max_length=32)
        taken_on = DateField()
        answers_json = TextField()
        imported_at = UTCDateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'respondent'
            indexes = ((('school', 'school_year', 'instrument'), False),)
    db.create_tables([Respondent])

    class UserSchool(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        school = ForeignKeyField(School, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'user_school'
            indexes = ((('user', 'school'), True),)
    db.create_tables([UserSchool])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('user_school'))
    migrator.migrate(migrator.drop_table('respondent'))
    migrator.migrate(migrator.drop_table('pupil_count'))
    migrator.migrate(migrator.drop_table('item'))
    migrator.migrate(migrator.drop_table('questionnaire'))
    migrator.migrate(migrator.drop_table('instrument_year'))
    migrator.migrate(migrator.drop_table('factsheet_job'))
    migrator.migrate(migrator.drop_table('delivery_status_change'))
    migrator.migrate(migrator.drop_table('delivery_request'))
    migrator.migrate(migrator.drop_table('instrument'))
    migrator.migrate(migrator.drop_table('delivery_date'))
    migrator.migrate(migrator.drop_table('comparison_value'))
    migrator.migrate(migrator.drop_table('school_year'))
    migrator.migrate(migrator.drop_table('audit_event'))
    migrator.migrate(migrator.drop_table('school'))
    migrator.migrate(migrator.drop_table('account'))
    migrator.migrate(migrator.drop_table('board'))
