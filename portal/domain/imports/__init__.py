"""Import of survey results: check a whole file, then replace the school's respondents.

A file is imported whole or not at all. Every row is checked in memory first, then the
earlier respondents of the school, year and instrument are deleted and the new ones
inserted in one transaction, together with the import record, the audit event and the
refreshed delivery payload.
"""

import csv
import hashlib
import io
import json
import logging
from collections.abc import Callable

from flask_babel import format_datetime
from flask_babel import gettext as _
from peewee import PostgresqlDatabase

from portal import clock
from portal.domain import audit
from portal.domain.delivery import APPROVED, RETRYING, SUBMITTED, refresh_payload
from portal.domain.report import questionnaire_items
from portal.models import (
    DeliveryRequest,
    Instrument,
    Respondent,
    School,
    SchoolYear,
    SurveyImport,
    User,
    db,
)

from .errors import MAX_REPORTED, FileRejected, ImportRejected, Problem
from .formats import ImportFormat, import_formats
from .readers import file_kind, read_table
from .validate import CheckedFile, ItemRule, Target, check_rows

logger = logging.getLogger(__name__)

__all__ = [
    "FileRejected",
    "ImportFormat",
    "ImportRejected",
    "Problem",
    "create_import",
    "import_formats",
    "run_import",
    "sha256_of",
    "target_for",
]

# Payloads of requests in these states have not been sent yet, so they follow the data.
REFRESHABLE = (SUBMITTED, APPROVED, RETRYING)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def target_for(school: School, school_year: SchoolYear, instrument: Instrument) -> Target:
    """Return what a file for this school, year and instrument must match."""
    items = questionnaire_items(instrument, school.sector, school_year)
    windows = tuple(
        SchoolYear.select(SchoolYear.name, SchoolYear.survey_opens_on, SchoolYear.survey_closes_on)
        .order_by(SchoolYear.name)
        .tuples()
    )
    return Target(
        brin=school.brin.upper(),
        vestiging=school.vestiging,
        school_year=school_year.name,
        survey_opens_on=school_year.survey_opens_on,
        survey_closes_on=school_year.survey_closes_on,
        items=tuple(ItemRule(item.code, item.answer_max) for item in items),
        survey_windows=windows,
    )


def create_import(
    school: School,
    school_year: SchoolYear,
    instrument: Instrument,
    format_code: str,
    filename: str,
    data: bytes,
    user: User | None,
) -> SurveyImport:
    """Record a new import attempt in status queued."""
    return SurveyImport.create(
        school=school,
        school_year=school_year,
        instrument=instrument,
        format=format_code,
        filename=filename[:255],
        sha256=sha256_of(data),
        size_bytes=len(data),
        user=user,
        created_at=clock.now(),
    )


def _earlier_import(survey_import: SurveyImport) -> SurveyImport | None:
    """Return the import whose respondents are in place now, if it was this same file.

    The latest import is the one with the highest id, because ids only grow while
    clock.now() on an installation with PORTAL_TODAY goes back a day at midnight.
    """
    latest = (
        SurveyImport.select()
        .where(
            (SurveyImport.school == survey_import.school_id)
            & (SurveyImport.school_year == survey_import.school_year_id)
            & (SurveyImport.instrument == survey_import.instrument_id)
            & (SurveyImport.status == "completed")
            & (SurveyImport.id != survey_import.id)
        )
        .order_by(SurveyImport.id.desc())
        .first()
    )
    if latest is not None and latest.sha256 == survey_import.sha256:
        return latest
    return None


def _fail(survey_import: SurveyImport, problems: list[Problem], total: int) -> None:
    """Store the problems of a rejected file and audit the failure."""
    survey_import.status = "failed"
    survey_import.errors_json = json.dumps([p.as_dict() for p in problems[:MAX_REPORTED]])
    survey_import.error_count = total
    survey_import.finished_at = clock.now()
    survey_import.save()
    audit.record(
        "import.failed",
        survey_import.user,
        survey_import.school,
        survey_import,
        school_year=survey_import.school_year.name,
        filename=survey_import.filename,
        errors=total,
    )
    logger.info(
        "import=%s school=%s year=%s rejected errors=%d",
        survey_import.id,
        survey_import.school_id,
        survey_import.school_year.name,
        total,
    )


def _bulk_insert(rows: list[tuple[str, object, str]], survey_import: SurveyImport) -> None:
    """Insert the checked rows as respondents on the open transaction.

    The cursor is used directly, because peewee's insert_many builds Python objects per
    value and costs more than parsing the file.
    """
    imported_at = Respondent.imported_at.db_value(clock.utcnow())
    fixed = (survey_import.school_id, survey_import.school_year_id, survey_import.instrument_id)
    table = Respondent._meta.table_name
    columns = ", ".join(
        f'"{field.column_name}"'
        for field in (
            Respondent.school,
            Respondent.school_year,
            Respondent.instrument,
            Respondent.group,
            Respondent.taken_on,
            Respondent.answers_json,
            Respondent.imported_at,
        )
    )
    database = db.obj
    cursor = database.cursor()
    if isinstance(database, PostgresqlDatabase):
        # COPY took the import from 17,000 to 22,500 respondents per second on PostgreSQL
        # in tests/bench_imports.py. The csv module quotes group names with commas or quotes.
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        stamp = imported_at.isoformat(sep=" ")
        writer.writerows(
            (*fixed, group, taken_on.isoformat(), answers, stamp)
            for group, taken_on, answers in rows
        )
        buffer.seek(0)
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)', buffer)
        return
    # SQLite stores dates and datetimes as ISO text, as peewee writes them.
    stamp = str(imported_at)
    values = [
        (*fixed, group, taken_on.isoformat(), answers, stamp) for group, taken_on, answers in rows
    ]
    cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)', values)


def _replace_respondents(survey_import: SurveyImport, checked: CheckedFile, threshold: int) -> None:
    """Swap the respondents in one transaction and record the result."""
    school = survey_import.school
    school_year = survey_import.school_year
    instrument = survey_import.instrument
    with db.atomic():
        replaced = (
            Respondent.delete()
            .where(
                (Respondent.school == school)
                & (Respondent.school_year == school_year)
                & (Respondent.instrument == instrument)
            )
            .execute()
        )
        _bulk_insert(checked.rows, survey_import)
        survey_import.status = "completed"
        survey_import.rows = checked.respondents
        survey_import.progress = checked.respondents
        survey_import.replaced = replaced
        survey_import.errors_json = "[]"
        survey_import.error_count = 0
        survey_import.finished_at = clock.now()
        survey_import.save()
        details = {
            "school_year": school_year.name,
            "instrument": instrument.code,
            "filename": survey_import.filename,
            "respondents": checked.respondents,
            "sha256": survey_import.sha256,
        }
        audit.record("import.completed", survey_import.user, school, survey_import, **details)
        if replaced:
            audit.record(
                "import.replaced",
                survey_import.user,
                school,
                survey_import,
                removed=replaced,
                **details,
            )
        for request in _requests_to_refresh(school, school_year):
            refresh_payload(request, threshold, survey_import.user)


def _requests_to_refresh(school: School, school_year: SchoolYear) -> list[DeliveryRequest]:
    """Return the unsent requests of the year whose summary covers the school's data.

    That is the school's own request, and a whole-BRIN request of another vestiging of the
    same BRIN, whose summary also counts this school's respondents.
    """
    same_brin = School.select(School.id).where(School.brin == school.brin)
    return list(
        DeliveryRequest.select()
        .where(
            (DeliveryRequest.school_year == school_year)
            & DeliveryRequest.status.in_(REFRESHABLE)
            & (
                (DeliveryRequest.school == school)
                | (DeliveryRequest.school.in_(same_brin) & (DeliveryRequest.level == "brin"))
            )
        )
        .order_by(DeliveryRequest.id)
    )


def run_import(
    survey_import: SurveyImport,
    data: bytes,
    threshold: int,
    progress: Callable[[int], None] | None = None,
) -> SurveyImport:
    """Check the file of an import and, when it has no problems, replace the respondents.

    Returns the import with status completed or failed. A failure stores its problems,
    also when the check itself fails unexpectedly, so that no import stays queued or
    running. Only an error while storing that failure is raised.
    """
    try:
        return _check_and_replace(survey_import, data, threshold, progress)
    except Exception:
        # A last-resort boundary: the file was read by third-party parsers and a bug there
        # or here must not leave the import active for good. The transaction of the
        # replacement has been rolled back, so the earlier respondents are still in place.
        logger.exception(
            "import=%s school=%s failed unexpectedly", survey_import.id, survey_import.school_id
        )
        _fail(
            survey_import,
            [
                Problem(
                    _(
                        "Het bestand kon door een fout in het portaal niet worden gecontroleerd. Er is niets veranderd. Probeer het later opnieuw of neem contact op met de helpdesk."
                    )
                )
            ],
            1,
        )
        return survey_import


def _check_and_replace(
    survey_import: SurveyImport,
    data: bytes,
    threshold: int,
    progress: Callable[[int], None] | None,
) -> SurveyImport:
    """Run the import: reject another file type or a file seen before, check every row, then replace."""
    started = clock.now()
    survey_import.status = "running"
    survey_import.started_at = started
    if progress is not None:
        # Only a worker's import is watched while it runs, so an import within the request
        # saves the extra commit.
        survey_import.save(only=[SurveyImport.status, SurveyImport.started_at])

    # The file type comes first: a PDF or .exe with the bytes of an earlier import needs
    # the type message, not "already imported".
    try:
        file_kind(data, survey_import.filename)
    except FileRejected as error:
        _fail(survey_import, [Problem(error.message)], 1)
        return survey_import

    earlier = _earlier_import(survey_import)
    if earlier is not None:
        _fail(
            survey_import,
            [
                Problem(
                    _(
                        "Dit bestand is al ingelezen op %(when)s. De gegevens uit dat bestand staan al in het portaal.",
                        when=format_datetime(earlier.finished_at, "d MMMM y 'om' HH:mm"),
                    )
                )
            ],
            1,
        )
        return survey_import

    import_format = import_formats()[survey_import.format]
    target = target_for(survey_import.school, survey_import.school_year, survey_import.instrument)
    try:
        if not target.items:
            raise FileRejected(
                _(
                    "Voor dit instrument, deze sector en dit schooljaar is geen vragenlijst bekend. Neem contact op met de helpdesk."
                )
            )
        _kind, header, rows = read_table(data, survey_import.filename)
        checked = check_rows(import_format, header, rows, target, progress)
    except FileRejected as error:
        _fail(survey_import, [Problem(error.message)], 1)
        return survey_import
    except ImportRejected as error:
        _fail(survey_import, error.problems, error.total)
        return survey_import

    _replace_respondents(survey_import, checked, threshold)
    seconds = (clock.now() - started).total_seconds()
    logger.info(
        "import=%s school=%s year=%s completed respondents=%d replaced=%d seconds=%.2f",
        survey_import.id,
        survey_import.school_id,
        survey_import.school_year.name,
        survey_import.rows,
        survey_import.replaced,
        seconds,
    )
    return survey_import
