"""The national comparison value: hand-computed means, freezing, and the planned freeze."""

import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest
from rq import Queue

from jobs.comparison import freeze_planned_comparisons
from portal.domain.comparison import compute_comparison, freeze_comparison, plan_freeze
from portal.domain.report import build_report
from portal.models import (
    AuditEvent,
    ComparisonValue,
    Instrument,
    PupilCount,
    Respondent,
    School,
    SchoolYear,
    db,
)

from .conftest import DEFAULT_TODAY, school_id
from .factories import make_school


def _add_respondents(school: School, year: SchoolYear, answer_sets: list[dict]) -> None:
    instrument = Instrument.get(Instrument.code == "msv")
    Respondent.insert_many(
        [
            {
                "school": school.id,
                "school_year": year.id,
                "instrument": instrument.id,
                "group": "groep 8",
                "taken_on": year.survey_opens_on,
                "answers_json": json.dumps(answers),
            }
            for answers in answer_sets
        ]
    ).execute()


def _stored(year: SchoolYear, sector: str) -> dict[str, tuple]:
    return {
        value.scale: (value.mean, value.respondents, value.schools, value.frozen_on)
        for value in ComparisonValue.select().where(
            (ComparisonValue.school_year == year) & (ComparisonValue.sector == sector)
        )
    }


def _report_comparison_cells(page: str) -> dict[str, str]:
    """Return the comparison column of the scale table of a report page, per scale."""
    cells = {}
    for scale, row in re.findall(r'<tr data-scale="(\w+)">(.*?)</tr>', page, re.S):
        cells[scale] = re.findall(r"<td>(.*?)</td>", row)[-1]
    return cells


def test_means_computed_by_hand(app_context):
    """Each school counts once with its own mean; reversed items are mirrored."""
    year = SchoolYear.get(SchoolYear.name == "2020-2021")
    first, second, special = make_school(), make_school(), make_school()
    special.sector = "SO"
    special.save()
    # veiligheidsbeleving: first school 4 and 2, mean 3; second school (1 + (5 - 1)) / 2 = 2.5.
    _add_respondents(first, year, [{"V1": 4}, {"V1": 2}])
    _add_respondents(second, year, [{"V1": 1, "V3": 1}])
    # welbevinden only at the first school's second respondent: W1 = 3, W3 reversed 4 -> 1.
    _add_respondents(first, year, [{"W1": 3, "W3": 4}])
    _add_respondents(special, year, [{"A1": 1}])

    values = {(v["sector"], v["scale"]): v for v in compute_comparison(year, threshold=1)}

    safety = values[("PO", "veiligheidsbeleving")]
    assert safety["mean"] == pytest.approx(2.75)
    assert safety["schools"] == 2
    assert safety["respondents"] == 3
    wellbeing = values[("PO", "welbevinden")]
    assert wellbeing["mean"] == pytest.approx(2.0)
    assert wellbeing["schools"] == 1
    assert values[("SO", "aantasting")]["mean"] == pytest.approx(4.0)
    assert ("PO", "aantasting") not in values
    assert ("VO", "veiligheidsbeleving") not in values


def test_small_school_left_out(app_context):
    """A school under the threshold shows no figures, so it must not count in the mean."""
    year = SchoolYear.get(SchoolYear.name == "2020-2021")
    large, small = make_school(), make_school()
    _add_respondents(large, year, [{"V1": 4}] * 10)
    _add_respondents(small, year, [{"V1": 1}] * 9)

    safety = {v["sector"]: v for v in compute_comparison(year, threshold=10)
              if v["scale"] == "veiligheidsbeleving"}  # fmt: skip
    assert safety["PO"]["mean"] == pytest.approx(4.0)
    assert safety["PO"]["schools"] == 1
    assert safety["PO"]["respondents"] == 10

    # At a threshold of 9 both schools count, each with its own mean: (4 + 1) / 2.
    lower = {v["sector"]: v for v in compute_comparison(year, threshold=9)
             if v["scale"] == "veiligheidsbeleving"}  # fmt: skip
    assert lower["PO"]["mean"] == pytest.approx(2.5)
    assert lower["PO"]["schools"] == 2


def test_scale_of_few_respondents_left_out(app_context):
    """A school counts on a scale only when enough of its respondents scored on it."""
    year = SchoolYear.get(SchoolYear.name == "2020-2021")
    school = make_school()
    # 12 respondents answer V1; only 3 of them answer W1.
    _add_respondents(school, year, [{"V1": 4, "W1": 3}] * 3 + [{"V1": 4}] * 9)

    values = {(v["sector"], v["scale"]): v for v in compute_comparison(year, threshold=10)}

    assert values[("PO", "veiligheidsbeleving")]["schools"] == 1
    assert ("PO", "welbevinden") not in values


def test_more_respondents_than_pupils_left_out(app_context):
    year = SchoolYear.get(SchoolYear.name == "2020-2021")
    wrong, right = make_school(), make_school()
    PupilCount.create(school=wrong, school_year=year, pupils=5)
    _add_respondents(wrong, year, [{"V1": 1}] * 10)
    _add_respondents(right, year, [{"V1": 4}] * 10)

    values = {(v["sector"], v["scale"]): v for v in compute_comparison(year, threshold=10)}

    assert values[("PO", "veiligheidsbeleving")]["schools"] == 1
    assert values[("PO", "veiligheidsbeleving")]["mean"] == pytest.approx(4.0)


def test_freeze_stores_values_with_date(app_context):
    year = SchoolYear.get(SchoolYear.name == "2020-2021")
    school = make_school()
    _add_respondents(school, year, [{"V1": 4}, {"V1": 3}])

    written = freeze_comparison(year, date(2021, 5, 1), threshold=1)

    assert written == 1
    assert _stored(year, "PO") == {"veiligheidsbeleving": (3.5, 2, 1, date(2021, 5, 1))}


def test_frozen_value_unmoved_by_new_data(client, auth, app):
    """Respondents added after the freeze change neither the stored nor the shown value."""
    regenboog = school_id(app, "15KU00")
    auth.login("school@demo.test")
    url = f"/scholen/{regenboog}/monitoring-sociale-veiligheid?schooljaar=2017-2018"
    page_before = _report_comparison_cells(client.get(url).get_data(as_text=True))
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        stored_before = _stored(year, "PO")
        report_before = build_report([School.get_by_id(regenboog)], year, 10).comparison
        anker = School.get(School.brin == "04XY")
        worst = {"V1": 1, "V2": 1, "V3": 4, "V4": 1, "W1": 1, "W2": 1, "W3": 4, "W4": 1}
        # 100 more keeps Het Anker under its 230 pupils, so it still counts when frozen again.
        _add_respondents(anker, year, [worst] * 100)

    page_after = _report_comparison_cells(client.get(url).get_data(as_text=True))
    with app.app_context(), db.connection_context():
        assert _stored(year, "PO") == stored_before
        report_after = build_report([School.get_by_id(regenboog)], year, 10).comparison
        assert report_after == report_before
    assert page_before["veiligheidsbeleving"] not in ("", "–")
    assert page_after == page_before

    with app.app_context(), db.connection_context():
        freeze_comparison(year, DEFAULT_TODAY, threshold=10)
        stored_again = _stored(year, "PO")
    page_again = _report_comparison_cells(client.get(url).get_data(as_text=True))
    assert stored_again["veiligheidsbeleving"][0] < stored_before["veiligheidsbeleving"][0]
    assert stored_again["welbevinden"][0] < stored_before["welbevinden"][0]
    assert page_again["veiligheidsbeleving"] != page_before["veiligheidsbeleving"]


def test_planned_freeze_runs_on_its_date(app):
    app.config["PORTAL_TODAY"] = date(2018, 4, 9)
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        plan_freeze(year, date(2018, 4, 10))
        before = _stored(year, "PO")
        anker = School.get(School.brin == "04XY")
        _add_respondents(anker, year, [{"V1": 1, "V2": 1, "V4": 1}] * 100)

        assert freeze_planned_comparisons() == []
        assert _stored(year, "PO") == before
        assert SchoolYear.get_by_id(year.id).comparison_freeze_on == date(2018, 4, 10)

    app.config["PORTAL_TODAY"] = date(2018, 4, 10)
    with app.app_context(), db.connection_context():
        assert freeze_planned_comparisons() == ["2017-2018"]
        after = _stored(year, "PO")
        assert after["veiligheidsbeleving"][0] < before["veiligheidsbeleving"][0]
        assert after["veiligheidsbeleving"][3] == date(2018, 4, 10)
        assert SchoolYear.get_by_id(year.id).comparison_freeze_on is None
        event = AuditEvent.get(AuditEvent.action == "comparison.frozen")
        assert event.details["planned_on"] == "2018-04-10"
        assert event.user is None

        assert freeze_planned_comparisons() == []


def test_planned_freeze_is_periodic_job():
    from jobs.schedule import PERIODIC_JOBS

    names = {job.name: job for job in PERIODIC_JOBS}

    assert names["comparison.freeze-planned"].func is freeze_planned_comparisons


@pytest.mark.integration
def test_worker_runs_planned_freeze(client, auth, app, config):
    """A real RQ worker, with the portal's clock on the planned date, freezes the year."""
    auth.login("beheer@demo.test")
    planned = client.post(
        "/beheer/vergelijkingswaarden",
        data={"schooljaar": "2017-2018", "moment": "date", "datum": "2018-04-10"},
    )
    assert planned.status_code == 303
    Queue(app.config["RQ_QUEUE"], connection=app.extensions["redis"]).enqueue(
        "jobs.comparison.freeze_planned_comparisons"
    )
    env = dict(
        os.environ,
        PORTAL_ENV="testing",
        SECRET_KEY="test-secret",
        DATABASE_URL=config["DATABASE_URL"],
        REDIS_URL=config["REDIS_URL"],
        PORTAL_DATA_DIR=str(config["PORTAL_DATA_DIR"]),
        PORTAL_TODAY="2018-04-10",
    )

    worker = subprocess.run(
        [sys.executable, "-m", "portal", "worker", "--no-scheduler", "--burst"],
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        assert year.comparison_freeze_on is None
        assert {value[3] for value in _stored(year, "PO").values()} == {date(2018, 4, 10)}
