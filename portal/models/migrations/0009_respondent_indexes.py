"""Drop two respondent indexes that cost every import and serve no query.

The index on (school, school_year, instrument) already serves every lookup by school, and
no query looks respondents up by instrument alone: instruments are never deleted, which
is the one case (ON DELETE RESTRICT) that would scan for them. Each index dropped is one
index entry less to write per imported respondent. The index on school_year stays for
the national comparison, which reads a whole year.
"""


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("respondent", "respondent_school_id"),
        migrator.drop_index("respondent", "respondent_instrument_id"),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.add_index("respondent", ("school_id",), False),
        migrator.add_index("respondent", ("instrument_id",), False),
    )
