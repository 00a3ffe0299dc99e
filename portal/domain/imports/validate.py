"""Check every row of a file against the chosen school, year and questionnaire.

Plain Python on purpose: the column-to-item map and the valid answer texts are computed
once per file, so a row costs a few dictionary look-ups per cell and no objects per cell.
"""

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from portal.domain.spreadsheet import FORMULA_START

from .errors import FileRejected, ImportRejected, ProblemList
from .formats import ImportFormat

DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
GROUP_MAX_LENGTH = 32
# The widest format has 7 fixed columns and a questionnaire has tens of items; 500 leaves
# ample room, and a header beyond it is not a survey file (Excel allows 16,384 columns).
MAX_COLUMNS = 500
# A number written with the ASCII digits 0-9 only, with an optional sign and decimal
# part. float() alone would also read full-width and other Unicode digits, and "1_0".
ASCII_NUMBER = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?$")
# Control and format characters (Unicode Cc and Cf, such as U+202E right-to-left override
# and U+200B zero-width space) are invisible or reorder text, so a group name with one
# can pass for another group in the report.
HIDDEN_CATEGORIES = ("Cc", "Cf")
# Rows between two calls of the progress callback.
PROGRESS_EVERY = 5000


@dataclass(frozen=True)
class ItemRule:
    code: str
    answer_max: int


@dataclass(frozen=True)
class Target:
    """The chosen school, year and questionnaire items that every row of a file must match."""

    brin: str
    vestiging: str
    school_year: str
    survey_opens_on: date
    survey_closes_on: date
    items: tuple[ItemRule, ...]
    # (name, survey opens, survey closes) of every school year, to name the year of a date.
    survey_windows: tuple[tuple[str, date, date], ...] = ()


@dataclass
class CheckedFile:
    """The rows that passed every check, ready to insert."""

    rows: list[tuple[str, date, str]]
    respondents: int


def parse_date(text: str) -> date | None:
    """Parse dd-mm-yyyy, d-m-yyyy, dd/mm/yyyy (day first, never month first) or yyyy-mm-dd."""
    match = DAY_FIRST.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
    else:
        match = ISO.match(text)
        if not match:
            return None
        year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _column_map(import_format: ImportFormat, header: list[str], target: Target):
    """Map the header to field positions and item positions; reject unknown or missing columns."""
    if len(header) > MAX_COLUMNS:
        raise FileRejected(
            _(
                "De eerste regel heeft %(count)s kolommen. Een bestand met antwoorden heeft er hoogstens %(max)s. Controleer of u het juiste bestand hebt gekozen en of de eerste regel de kolomkoppen bevat.",
                count=len(header),
                max=MAX_COLUMNS,
            )
        )
    problems = ProblemList()
    by_name = {}
    duplicates = set()
    for position, name in enumerate(header):
        if not name:
            problems.add(
                _(
                    "Kolom %(number)s heeft geen naam. Geef elke kolom een naam in de eerste regel.",
                    number=position + 1,
                ),
                row=1,
            )
            continue
        key = name.casefold()
        if key in by_name and key not in duplicates:
            duplicates.add(key)
            problems.add(
                _(
                    "De kolom %(column)s staat meer dan één keer in het bestand. Laat er één over.",
                    column=name,
                ),
                row=1,
                column=name,
            )
        by_name[key] = position

    fields: dict[str, int] = {}
    used: set[int] = set()
    for field, accepted in import_format.fields.items():
        for column in accepted:
            position = by_name.get(column.casefold())
            if position is not None:
                fields[field] = position
                used.add(position)
                break
        else:
            problems.add(
                _(
                    "De verplichte kolom %(column)s ontbreekt. Voeg die kolom toe of kies het juiste formaat.",
                    column=accepted[0],
                ),
                row=1,
                column=accepted[0],
            )

    rules = {rule.code: rule for rule in target.items}
    item_columns = []
    for position, name in enumerate(header):
        if not name or position in used:
            continue
        if import_format.items is None:
            code = next((c for c in rules if c.casefold() == name.casefold()), None)
        else:
            code = next(
                (v for k, v in import_format.items.items() if k.casefold() == name.casefold()),
                None,
            )
        if code is None or code not in rules:
            problems.add(
                _(
                    "De kolom %(column)s is onbekend: het is geen vaste kolom en geen vraag van deze vragenlijst. Verwijder de kolom of kies het juiste formaat en instrument.",
                    column=name,
                ),
                row=1,
                column=name,
            )
            continue
        item_columns.append((position, name, rules[code]))
    if not item_columns and not problems:
        problems.add(
            _("Het bestand heeft geen kolommen met antwoorden op vragen van deze vragenlijst."),
            row=1,
        )
    if problems:
        raise ImportRejected(problems.items, problems.total)
    # Sorted by item code, so the answers dictionary is built in the order JSON stores it.
    item_columns.sort(key=lambda entry: entry[2].code)
    return fields, item_columns


def _answer_table(rule: ItemRule, answer_codes: dict | None) -> dict[str, int | None]:
    """Return the valid cell texts of an item and their values; None means skipped."""
    if answer_codes is None:
        table: dict[str, int | None] = {
            str(value): value for value in range(1, rule.answer_max + 1)
        }
        # A whole number with a decimal comma or point, as Excel may write it.
        for value in range(1, rule.answer_max + 1):
            table[f"{value},0"] = value
            table[f"{value}.0"] = value
        return table
    return {
        code: value
        for code, value in answer_codes.items()
        if value is None or 1 <= value <= rule.answer_max
    }


def _answer_problem(text: str, rule: ItemRule, answer_codes: dict | None) -> str:
    """Explain why a cell is not a valid answer."""
    if answer_codes is not None:
        if text in answer_codes:
            return _(
                "De antwoordcode %(value)s staat voor een antwoord buiten 1 tot en met %(max)s. Controleer het formaat.",
                value=text,
                max=rule.answer_max,
            )
        return _(
            "Onbekende antwoordcode. Geldig zijn %(codes)s, of een lege cel als de vraag niet beantwoord is.",
            codes=", ".join(sorted(answer_codes)),
        )
    if not ASCII_NUMBER.match(text):
        if any(character.isdigit() for character in text):
            return _(
                "Het antwoord is geen geheel getal met de cijfers 0 tot en met 9. Typ het antwoord opnieuw als geheel getal van 1 tot en met %(max)s, of laat de cel leeg.",
                max=rule.answer_max,
            )
        return _(
            "Het antwoord is geen getal. Vul een geheel getal van 1 tot en met %(max)s in, of laat de cel leeg.",
            max=rule.answer_max,
        )
    if not float(text.replace(",", ".")).is_integer():
        return _(
            "Het antwoord is geen geheel getal. Vul een geheel getal van 1 tot en met %(max)s in.",
            max=rule.answer_max,
        )
    return _(
        "Het antwoord ligt buiten de schaal. Vul een geheel getal van 1 tot en met %(max)s in, of laat de cel leeg.",
        max=rule.answer_max,
    )


def _year_of(day: date, target: Target) -> str | None:
    for name, opens, closes in target.survey_windows:
        if opens <= day <= closes:
            return name
    return None


def hidden_characters(text: str) -> list[str]:
    """Return the control and format characters in ``text`` as U+XXXX codes."""
    return [
        f"U+{ord(character):04X}"
        for character in text
        if not character.isprintable() and unicodedata.category(character) in HIDDEN_CATEGORIES
    ]


def shown_safely(text: str) -> str:
    """Return ``text`` with each control or format character written as its U+XXXX code."""
    return "".join(
        f"U+{ord(character):04X}"
        if unicodedata.category(character) in HIDDEN_CATEGORIES
        else character
        for character in text
    )


def unquote_spreadsheet_text(value: str) -> str:
    """Remove the quote that the respondents export puts before a formula-like group name."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def check_rows(
    import_format: ImportFormat,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    target: Target,
    progress: Callable[[int], None] | None = None,
) -> CheckedFile:
    """Check the rows of a file; return the accepted rows or raise ImportRejected."""
    fields, item_columns = _column_map(import_format, header, target)
    width = len(header)
    answer_codes = import_format.answer_codes
    items = [
        (position, name, rule, _answer_table(rule, answer_codes))
        for position, name, rule in item_columns
    ]
    columns = {field: header[position] for field, position in fields.items()}
    school_code = f"{target.brin}{target.vestiging}"
    brin_at = fields.get("brin")
    vestiging_at = fields.get("vestiging")
    code_at = fields.get("school_code")
    year_at = fields.get("school_year")
    respondent_at = fields["respondent"]
    group_at = fields["group"]
    date_at = fields["taken_on"]
    group_template = import_format.group_template

    problems = ProblemList()
    seen_respondents: dict[str, int] = {}
    dates: dict[str, date | None] = {}
    accepted: list[tuple[str, date, str]] = []
    dumps = json.dumps

    for count, (line, cells) in enumerate(rows, start=1):
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        # An empty row is skipped also at the header's width, as an XLSX row is padded.
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width:
            if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
                cells = cells[:width]
            else:
                problems.add(
                    _(
                        "De regel heeft %(cells)s cellen, de eerste regel %(columns)s kolommen. Controleer scheidingstekens en aanhalingstekens in deze regel.",
                        cells=len(cells),
                        columns=width,
                    ),
                    row=line,
                )
                continue
        errors_before = problems.total

        if code_at is not None:
            code = cells[code_at].strip().upper()
            if code != school_code:
                problems.add(
                    _(
                        "Deze regel hoort bij school %(value)s, niet bij de gekozen school %(school)s. Kies de juiste school of het juiste bestand.",
                        value=code,
                        school=school_code,
                    ),
                    line,
                    columns["school_code"],
                    code,
                )
        else:
            brin = cells[brin_at].strip().upper()
            vestiging = cells[vestiging_at].strip()
            # Excel drops the leading zero of a vestigingsnummer typed as a number.
            if vestiging.isdigit() and len(vestiging) < 2:
                vestiging = vestiging.zfill(2)
            if brin != target.brin or vestiging != target.vestiging:
                problems.add(
                    _(
                        "Deze regel hoort bij school %(value)s, niet bij de gekozen school %(school)s. Kies de juiste school of het juiste bestand.",
                        value=f"{brin}{vestiging}",
                        school=school_code,
                    ),
                    line,
                    columns["brin"],
                    f"{brin} {vestiging}",
                )

        if year_at is not None:
            year = cells[year_at].strip()
            if year != target.school_year:
                problems.add(
                    _(
                        "Het schooljaar %(value)s is niet het gekozen schooljaar %(year)s. Kies het juiste schooljaar of het juiste bestand.",
                        value=year,
                        year=target.school_year,
                    ),
                    line,
                    columns["school_year"],
                    year,
                )

        respondent = cells[respondent_at].strip()
        if not respondent:
            problems.add(
                _(
                    "Het respondentnummer ontbreekt. Geef elke ingevulde vragenlijst een eigen nummer."
                ),
                line,
                columns["respondent"],
            )
        elif respondent in seen_respondents:
            problems.add(
                _(
                    "Respondent %(value)s staat al in regel %(first)s. Elke respondent mag maar één keer in het bestand staan.",
                    value=respondent,
                    first=seen_respondents[respondent],
                ),
                line,
                columns["respondent"],
                respondent,
            )
        else:
            seen_respondents[respondent] = line

        group = unquote_spreadsheet_text(cells[group_at].strip())
        if group_template and group.isdigit():
            group = group_template.format(group)
        if not group:
            problems.add(
                _(
                    "De groep of het leerjaar ontbreekt. Vul in welke groep of welk leerjaar de respondent zit."
                ),
                line,
                columns["group"],
            )
        elif not group.isprintable() and (hidden := hidden_characters(group)):
            problems.add(
                _(
                    "De naam van de groep bevat een onzichtbaar teken of stuurteken (%(codes)s). Zulke tekens kunnen de naam in het rapport anders laten lijken. Typ de naam opnieuw met gewone letters en cijfers.",
                    codes=", ".join(dict.fromkeys(hidden)),
                ),
                line,
                columns["group"],
                shown_safely(group),
            )
        elif len(group) > GROUP_MAX_LENGTH:
            problems.add(
                _(
                    "De naam van de groep is langer dan %(max)s tekens. Kort hem in.",
                    max=GROUP_MAX_LENGTH,
                ),
                line,
                columns["group"],
                group,
            )

        raw_date = cells[date_at].strip()
        if raw_date in dates:
            taken_on = dates[raw_date]
        else:
            taken_on = dates[raw_date] = parse_date(raw_date)
        if taken_on is None:
            problems.add(
                _(
                    "De datum is ongeldig. Schrijf de dag eerst (dd-mm-jjjj, bijvoorbeeld 02-12-2017 voor 2 december 2017) of jjjj-mm-dd, en controleer of de dag bestaat."
                ),
                line,
                columns["taken_on"],
                raw_date,
            )
        elif not target.survey_opens_on <= taken_on <= target.survey_closes_on:
            other = _year_of(taken_on, target)
            if other is not None and other != target.school_year:
                message = _(
                    "De datum %(date)s valt in de afnameperiode van schooljaar %(other)s, niet in die van %(year)s. Kies het juiste schooljaar of controleer de datum.",
                    date=taken_on.strftime("%d-%m-%Y"),
                    other=other,
                    year=target.school_year,
                )
            else:
                message = _(
                    "De datum %(date)s ligt buiten de afnameperiode van %(year)s (%(opens)s tot en met %(closes)s). Alleen vragenlijsten uit die periode tellen mee.",
                    date=taken_on.strftime("%d-%m-%Y"),
                    year=target.school_year,
                    opens=target.survey_opens_on.strftime("%d-%m-%Y"),
                    closes=target.survey_closes_on.strftime("%d-%m-%Y"),
                )
            problems.add(message, line, columns["taken_on"], raw_date)

        answers = {}
        for position, name, rule, table in items:
            text = cells[position]
            if not text:
                continue
            value = table.get(text, 0)
            if value == 0:
                text = text.strip()
                if not text:
                    continue
                value = table.get(text, 0)
                if value == 0:
                    problems.add(_answer_problem(text, rule, answer_codes), line, name, text)
                    continue
            if value is not None:
                answers[rule.code] = value

        if not answers and problems.total == errors_before:
            problems.add(
                _(
                    "De regel bevat geen enkel antwoord. Verwijder de regel of vul de antwoorden in."
                ),
                line,
            )
        if problems.total == errors_before:
            accepted.append((group, taken_on, dumps(answers)))

    if problems:
        raise ImportRejected(problems.items, problems.total)
    if not accepted:
        raise FileRejected(
            _(
                "Het bestand bevat alleen kolomkoppen en geen antwoorden. Kies het bestand met de ingevulde vragenlijsten."
            )
        )
    return CheckedFile(rows=accepted, respondents=len(accepted))
