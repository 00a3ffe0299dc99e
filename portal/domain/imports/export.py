"""The portal's own file format out: a school's respondents as CSV, and an empty template."""

import csv
import io
import json

from portal.domain.report import questionnaire_items
from portal.domain.spreadsheet import spreadsheet_safe
from portal.models import Instrument, Respondent, School, SchoolYear

FIXED_COLUMNS = ("brin", "vestiging", "schooljaar", "respondent", "groep", "datum")


def _writer(buffer: io.StringIO):
    # Semicolons and CRLF, as Excel on Dutch Windows reads and writes CSV.
    return csv.writer(buffer, delimiter=";", lineterminator="\r\n")


def item_codes(school: School, school_year: SchoolYear, instrument: Instrument) -> list[str]:
    return [item.code for item in questionnaire_items(instrument, school.sector, school_year)]


def template_csv(school: School, school_year: SchoolYear, instrument: Instrument) -> str:
    """Return the header line of the own format for this school's questionnaire."""
    buffer = io.StringIO()
    _writer(buffer).writerow([*FIXED_COLUMNS, *item_codes(school, school_year, instrument)])
    return buffer.getvalue()


def export_csv(school: School, school_year: SchoolYear, instrument: Instrument) -> str:
    """Return the school's respondents of the year and instrument in the own format.

    The respondent column holds the row's database id, because the portal keeps no
    number of the questionnaire itself; importing the file again gives the same answers.
    """
    codes = item_codes(school, school_year, instrument)
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow([*FIXED_COLUMNS, *codes])
    respondents = (
        Respondent.select(
            Respondent.id, Respondent.group, Respondent.taken_on, Respondent.answers_json
        )
        .where(
            (Respondent.school == school)
            & (Respondent.school_year == school_year)
            & (Respondent.instrument == instrument)
        )
        .order_by(Respondent.id)
        .tuples()
    )
    for respondent_id, group, taken_on, answers_json in respondents:
        answers = json.loads(answers_json)
        writer.writerow(
            [
                school.brin,
                school.vestiging,
                school_year.name,
                respondent_id,
                # Group names are typed by schools, and Excel runs one like =HYPERLINK(...)
                # as a formula; the import removes the quote again.
                spreadsheet_safe(group),
                taken_on.strftime("%d-%m-%Y"),
                *(answers.get(code, "") for code in codes),
            ]
        )
    return buffer.getvalue()
