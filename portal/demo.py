"""Deterministic demo data: two boards, seven vestigingen, one account per role, answers.

The same seed gives the same boards, schools and answers on every machine, so the demo
and the tests can rely on them. The demo covers the current school year and the two before it.
"""

import json
import random
from datetime import timedelta

from flask import current_app

from .clock import today, utcnow
from .domain.calendar import school_year_name
from .domain.comparison import freeze_comparison
from .models import (
    Board,
    Instrument,
    Item,
    PupilCount,
    Questionnaire,
    Respondent,
    School,
    SchoolYear,
    User,
    UserSchool,
    db,
)

SEED = 20180401
FREQUENCY = "niet gebeurd|1 of 2 keer|3 of 4 keer|5 keer of vaker"
OFTEN = "nooit|soms|vaak|altijd"

# (code, text, scale, reversed, labels); the wording is the portal's own.
ITEMS = (
    ("V1", "Ik voel me veilig op school.", "veiligheidsbeleving", False, OFTEN),
    ("V2", "Ik voel me veilig in mijn klas.", "veiligheidsbeleving", False, OFTEN),
    ("V3", "Ik ben op school bang voor andere leerlingen.", "veiligheidsbeleving", True, OFTEN),
    ("V4", "Ik voel me veilig op het schoolplein.", "veiligheidsbeleving", False, OFTEN),
    ("W1", "Ik ga graag naar school.", "welbevinden", False, OFTEN),
    ("W2", "Ik heb het naar mijn zin in mijn klas.", "welbevinden", False, OFTEN),
    ("W3", "Ik voel me alleen op school.", "welbevinden", True, OFTEN),
    ("W4", "Mijn leraren helpen mij als ik dat nodig heb.", "welbevinden", False, OFTEN),
    ("A1", "Ik ben de afgelopen maanden gepest.", "aantasting", True, FREQUENCY),
    ("A2", "Ik ben de afgelopen maanden geslagen of geschopt.", "aantasting", True, FREQUENCY),
    (
        "A3",
        "Ik ben uitgescholden om mijn afkomst, geloof of wie ik ben.",
        "aantasting",
        True,
        FREQUENCY,
    ),
    ("A4", "Ik ben online gepest.", "aantasting", True, FREQUENCY),
    ("X1", "Ik ben tevreden over de lessen.", None, False, OFTEN),
)

BOARDS = (
    ("41234", "Stichting Openbaar Onderwijs Rivierenland"),
    ("52345", "Vereniging Christelijk Onderwijs Kustlanden"),
)

# (board number, BRIN, vestiging, name, place, sector, onderwijssoort, instrument,
#  groups and respondents per group, pupils on 1 October, climate from -1 to 1)
SCHOOLS = (
    ("41234", "15KU", "00", "OBS De Regenboog", "Tiel", "PO", "bo", "msv",
     {"groep 6": 24, "groep 7": 26, "groep 8": 22}, 210, 0.4),
    ("41234", "15KU", "01", "OBS De Regenboog, locatie Oost", "Tiel", "PO", "bo", "msv",
     {"groep 6": 14, "groep 7": 12, "groep 8": 7}, 95, -0.1),
    ("41234", "21AB", "00", "Rivierenland College", "Culemborg", "VO", "havo/vwo", "msv",
     {"leerjaar 1": 120, "leerjaar 2": 110, "leerjaar 3": 105, "leerjaar 4": 90}, 820, 0.1),
    ("41234", "23PR", "00", "Praktijkschool De Brug", "Tiel", "VO", "praktijkonderwijs", "prozo",
     {"leerjaar 1": 30, "leerjaar 2": 28, "leerjaar 3": 25, "leerjaar 4": 9}, 160, -0.3),
    ("52345", "04XY", "00", "CBS Het Anker", "Katwijk", "PO", "bo", "msv",
     {"groep 7": 30, "groep 8": 28}, 240, 0.2),
    ("52345", "27VM", "00", "Kustlanden Lyceum", "Katwijk", "VO", "vmbo", "msv",
     {"leerjaar 1": 95, "leerjaar 2": 90, "leerjaar 3": 80}, 610, 0.0),
    ("52345", "30SO", "00", "De Branding", "Noordwijk", "SO", "vso", "msv",
     {"groep 8": 8, "leerjaar 1": 12, "leerjaar 2": 11}, 70, -0.2),
)  # fmt: skip

USERS = (
    ("school@demo.test", "Sanne de Vries", "school_staff", None, ("15KU00", "21AB00", "23PR00")),
    ("bestuur@demo.test", "Bram Jansen", "board_secretary", "41234", ()),
    ("bestuur2@demo.test", "Fatima El Amrani", "board_secretary", "52345", ()),
    ("school2@demo.test", "Pieter Bakker", "school_staff", None, ("04XY00", "27VM00", "30SO00")),
    ("helpdesk@demo.test", "Helpdesk Portaal", "support", None, ()),
    ("beheer@demo.test", "Beheerder Portaal", "admin", None, ()),
)


def _questionnaires(first_year: SchoolYear) -> None:
    for instrument in Instrument.select():
        sectors = ("VO",) if instrument.external else ("PO", "VO", "SO")
        for sector in sectors:
            questionnaire = Questionnaire.create(
                instrument=instrument, sector=sector, valid_from=first_year
            )
            for position, (code, text, scale, reversed_, labels) in enumerate(ITEMS, start=1):
                Item.create(
                    questionnaire=questionnaire,
                    code=code,
                    position=position,
                    text=text,
                    scale=scale,
                    reversed=reversed_,
                    answer_max=4,
                    answer_labels=labels,
                )


def _answer(rng: random.Random, climate: float, reversed_: bool) -> int:
    """Draw a 1-4 answer; a better climate makes favourable answers more likely."""
    favourable = min(4, max(1, round(rng.gauss(2.9 + climate, 0.8))))
    return 5 - favourable if reversed_ else favourable


def _respondents(rng, school, school_year, instrument, groups, climate, drift) -> list[dict]:
    rows = []
    window_end = min(school_year.survey_closes_on, max(today(), school_year.survey_opens_on))
    window_days = (window_end - school_year.survey_opens_on).days
    for group, count in groups.items():
        for _ in range(count):
            answers = {
                code: _answer(rng, climate + drift, reversed_)
                for code, _text, _scale, reversed_, _labels in ITEMS
                if rng.random() > 0.02
            }
            rows.append(
                {
                    "school": school.id,
                    "school_year": school_year.id,
                    "instrument": instrument.id,
                    "group": group,
                    "taken_on": school_year.survey_opens_on
                    + timedelta(days=rng.randint(0, window_days)),
                    "answers_json": json.dumps(answers, sort_keys=True),
                    "imported_at": utcnow(),
                }
            )
    return rows


def load_demo_data(password: str) -> dict:
    """Create the demo records in one transaction; return counts of what was made."""
    rng = random.Random(SEED)
    current_name = school_year_name(today())
    first = int(current_name[:4])
    year_names = [f"{y}-{y + 1}" for y in (first - 2, first - 1, first)]
    years = [SchoolYear.get(SchoolYear.name == name) for name in year_names]
    instruments = {i.code: i for i in Instrument.select()}

    with db.atomic():
        _questionnaires(SchoolYear.select().order_by(SchoolYear.name).first())
        boards = {number: Board.create(number=number, name=name) for number, name in BOARDS}
        schools = {}
        respondents = 0
        for (
            board,
            brin,
            vestiging,
            name,
            place,
            sector,
            soort,
            instrument,
            groups,
            pupils,
            climate,
        ) in SCHOOLS:
            school = School.create(
                board=boards[board], brin=brin, vestiging=vestiging, name=name,
                place=place, sector=sector, onderwijssoort=soort,
            )  # fmt: skip
            schools[school.code] = school
            for offset, year in enumerate(years):
                PupilCount.create(school=school, school_year=year, pupils=pupils - 5 * offset)
                drift = 0.1 * (offset - 1)
                rows = _respondents(
                    rng, school, year, instruments[instrument], groups, climate, drift
                )
                for start in range(0, len(rows), 200):
                    Respondent.insert_many(rows[start : start + 200]).execute()
                respondents += len(rows)

        for email, name, role, board, school_codes in USERS:
            user = User(email=email, name=name, role=role, board=boards.get(board))
            user.set_password(password)
            user.save()
            for code in school_codes:
                UserSchool.create(user=user, school=schools[code])

        for year in years:
            freeze_comparison(
                year, min(today(), year.ends_on), current_app.config["SUPPRESSION_THRESHOLD"]
            )

    return {
        "boards": len(boards),
        "schools": len(schools),
        "users": len(USERS),
        "respondents": respondents,
    }
