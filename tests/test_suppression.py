"""The small-numbers rule across the report, its trend, the factsheet and the summary.

Results of fewer respondents than the threshold (10 here) are hidden. So is every
figure from which such results could be computed by subtraction. Examples are the school
total next to all but one group, a whole-BRIN report next to one vestiging's report,
and a trend year next to the report of that year.
"""

import io
import json
import re
from datetime import date

import pypdf
import pytest

from jobs.factsheets import build_factsheet
from portal.clock import utcnow
from portal.domain.delivery import build_payload
from portal.domain.indicators import hidden_by_difference, suppressed_groups
from portal.domain.report import (
    SMALL_VESTIGING,
    TOO_FEW_RESPONDENTS,
    build_board_report,
    build_report,
)
from portal.models import (
    Board,
    DeliveryRequest,
    FactsheetJob,
    PupilCount,
    Respondent,
    School,
    SchoolYear,
    db,
)

from .conftest import HTMX, school_id
from .factories import ANSWERS, make_school
from .test_report import P1, P2, P3, SVG, add_respondents, chart, login, page_of, table_row
from .test_views import FORM

YEAR = "2017-2018"
SCALES = ("veiligheidsbeleving", "welbevinden", "aantasting")


# --- which groups are hidden ------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "hidden"),
    [
        # The total (32) minus groep 7 would give groep 8, so groep 7 goes too.
        ({"groep 7": 30, "groep 8": 2}, {"groep 7", "groep 8"}),
        # The smallest visible group is hidden, not the largest.
        ({"groep 6": 14, "groep 7": 30, "groep 8": 2}, {"groep 6", "groep 8"}),
        # A tie goes to the group that comes first in the report.
        ({"groep 6": 12, "groep 7": 12, "groep 8": 4}, {"groep 6", "groep 8"}),
        # Two small groups that together reach the threshold need no extra group.
        ({"groep 6": 5, "groep 7": 6, "groep 8": 30}, {"groep 6", "groep 7"}),
        # Hidden groups that never reach the threshold hide everything.
        ({"klas a": 3, "klas b": 3, "klas c": 3}, {"klas a", "klas b", "klas c"}),
        ({"groep 8": 4}, {"groep 8"}),
        ({"groep 7": 12, "groep 8": 10}, set()),
        ({}, set()),
    ],
)
def test_suppressed_groups_table(counts, hidden):
    assert suppressed_groups(counts, 10) == hidden


def test_suppressed_groups_sorts_numbers_as_numbers():
    counts = {"groep 10": 12, "groep 9": 12, "groep 8": 3}
    assert suppressed_groups(counts, 10) == {"groep 8", "groep 9"}


def test_suppressed_groups_counts_also_hidden():
    # groep 8 is hidden for another reason and has 12, so nothing more is needed.
    counts = {"groep 7": 30, "groep 8": 12}
    assert suppressed_groups(counts, 10, frozenset({"groep 8"})) == {"groep 8"}


def test_difference_hides_complement_of_location():
    # Location 1 hides groep 7 to protect its groep 8 of 2. Combined, groep 7 has 70,
    # but 70 minus location 2's own groep 7 would give location 1's hidden groep 7.
    counts = {("groep 7", 1): 30, ("groep 8", 1): 2, ("groep 7", 2): 40, ("groep 8", 2): 40}
    assert hidden_by_difference(counts, 10) == {"groep 7", "groep 8"}


def test_difference_keeps_groups_of_large_parts():
    counts = {("groep 7", 1): 30, ("groep 8", 1): 20, ("groep 7", 2): 40}
    assert hidden_by_difference(counts, 10) == set()


# --- one school ---------------------------------------------------------------


def school_with(app, groups: dict[str, tuple[dict, int]], pupils: int = 40) -> int:
    """Create a school with respondents per group in 2017-2018; return its id."""
    with app.app_context(), db.connection_context():
        school = make_school()
        year = SchoolYear.get(SchoolYear.name == YEAR)
        PupilCount.create(school=school, school_year=year, pupils=pupils)
        for group, (answers, count) in groups.items():
            add_respondents(school, year, group, answers, count)
        return school.id


def report_of(app, school_ids: list[int], year: str = YEAR, threshold: int = 10):
    with app.app_context(), db.connection_context():
        schools = [School.get_by_id(school) for school in school_ids]
        return build_report(schools, SchoolYear.get(SchoolYear.name == year), threshold)


@pytest.fixture
def small_school(app) -> int:
    """A school with 4 respondents, all answering "5 keer of vaker" on A1 (P3)."""
    return school_with(app, {"groep 8": (P3, 4)}, pupils=12)


def test_thirty_two_hides_both_groups(app):
    school = school_with(app, {"groep 7": (P1, 30), "groep 8": (P3, 2)})
    report = report_of(app, [school])
    assert not report.suppressed
    assert report.scales["veiligheidsbeleving"].mean is not None
    groups = {group.name: group for group in report.groups}
    assert groups["groep 7"].suppressed
    assert groups["groep 8"].suppressed
    assert groups["groep 7"].scales == {}


def test_third_group_hides_smallest_visible(app):
    school = school_with(app, {"groep 6": (P2, 14), "groep 7": (P1, 30), "groep 8": (P3, 2)})
    groups = {group.name: group for group in report_of(app, [school]).groups}
    assert groups["groep 8"].suppressed
    assert groups["groep 6"].suppressed
    assert not groups["groep 7"].suppressed
    assert groups["groep 7"].scales["veiligheidsbeleving"].mean == pytest.approx(3.5)


def test_small_report_has_no_figures(app, small_school):
    report = report_of(app, [small_school])
    assert report.suppressed
    assert report.suppression_reason == TOO_FEW_RESPONDENTS
    assert report.respondents == 4
    assert report.pupils == 12
    assert report.response_rate == pytest.approx(4 / 12)
    for scale in SCALES:
        assert report.scales[scale].mean is None, scale
        assert report.scales[scale].positive_share is None, scale
    assert report.victimisation, "the aantasting items stay, without shares"
    for item in report.victimisation:
        assert [option.share for option in item.options] == [None] * 4, item.code
    assert [group.suppressed for group in report.groups] == [True]


def test_threshold_reached_shows_figures(app):
    school = school_with(app, {"groep 8": (P3, 10)})
    report = report_of(app, [school])
    assert not report.suppressed
    assert report.scales["veiligheidsbeleving"].mean == pytest.approx(1.25)


def test_small_school_page_shows_no_figures(client, app, small_school):
    login(client)
    html = page_of(client, small_school)
    assert 'id="te-weinig-respondenten"' in html
    assert "Dit rapport heeft 4 respondenten" in html
    assert "minstens 10 respondenten" in html
    assert "<dd>4</dd>" in html
    assert "<dd>12</dd>" in html
    assert "<dd>33%</dd>" in html
    assert "<svg" not in html
    assert "data-scale=" not in html
    assert "data-item=" not in html
    assert "data-group=" not in html
    assert "5 keer of vaker" not in html
    assert "100%" not in html


def test_small_school_partial_shows_no_figures(client, small_school):
    login(client)
    response = client.get(
        f"/scholen/{small_school}/monitoring-sociale-veiligheid?schooljaar={YEAR}", headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="rapport"')
    assert 'id="te-weinig-respondenten"' in response.text
    assert "<svg" not in response.text


def test_complement_group_explained_on_page(client, app):
    school = school_with(app, {"groep 7": (P1, 30), "groep 8": (P3, 2)})
    login(client)
    html = page_of(client, school)
    assert "te weinig respondenten" in table_row(html, 'data-group="groep 8"')
    assert "kleinere groep" in table_row(html, 'data-group="groep 7"')
    svg = chart(html, "grafiek-groepen")
    assert svg.findall(f".//{SVG}rect[@class='chart__bar']") == []


# --- the trend ----------------------------------------------------------------


def test_small_trend_year_has_no_point(client, app):
    school = school_with(app, {"groep 7": (P1, 12)})
    with app.app_context(), db.connection_context():
        earlier = SchoolYear.get(SchoolYear.name == "2016-2017")
        add_respondents(School.get_by_id(school), earlier, "groep 7", P2, 5)

    trend = {year.name: year for year in report_of(app, [school]).trend}
    assert trend["2016-2017"].suppressed
    assert trend["2016-2017"].respondents == 5
    assert set(trend["2016-2017"].means.values()) == {None}
    assert not trend[YEAR].suppressed
    assert trend[YEAR].means["veiligheidsbeleving"] == pytest.approx(3.5)

    login(client)
    html = page_of(client, school)
    assert "te weinig respondenten" in table_row(html, 'data-year="2016-2017"')
    svg = chart(html, "grafiek-ontwikkeling")
    assert "2016-2017 te weinig respondenten" in svg.find(f"{SVG}desc").text
    # One marker per scale, all in 2017-2018.
    markers = svg.findall(".//*[@class='chart__marker']")
    assert len(markers) == 3


def test_trend_year_equals_report_of_year(app_context):
    # The trend and the report of a year follow the same rules, so neither shows a figure
    # that the other hides.
    school = School.get((School.brin == "15KU") & (School.vestiging == "01"))
    year = SchoolYear.get(SchoolYear.name == YEAR)
    trend = {entry.name: entry for entry in build_report([school], year, 10).trend}
    for name in ("2015-2016", "2016-2017"):
        earlier = build_report([school], SchoolYear.get(SchoolYear.name == name), 10)
        assert trend[name].suppressed == earlier.suppressed
        for scale in SCALES:
            assert trend[name].means[scale] == pytest.approx(earlier.scales[scale].mean)


# --- whole BRIN -----------------------------------------------------------------


def shrink(school: School, year_name: str, keep: int) -> None:
    """Delete all but ``keep`` respondents of the school in the year."""
    year = SchoolYear.get(SchoolYear.name == year_name)
    kept = (
        Respondent.select(Respondent.id)
        .where((Respondent.school == school) & (Respondent.school_year == year))
        .order_by(Respondent.id)
        .limit(keep)
    )
    Respondent.delete().where(
        (Respondent.school == school)
        & (Respondent.school_year == year)
        & Respondent.id.not_in([row.id for row in kept])
    ).execute()


def regenboog(code: str) -> School:
    return School.get((School.brin == "15KU") & (School.vestiging == code[-2:]))


@pytest.fixture
def small_oost(app) -> None:
    """Leave locatie Oost (15KU01) 5 respondents in 2017-2018 and 2016-2017."""
    with app.app_context(), db.connection_context():
        shrink(regenboog("15KU01"), YEAR, 5)
        shrink(regenboog("15KU01"), "2016-2017", 5)


def test_brin_with_small_vestiging_has_no_figures(app_context, small_oost):
    year = SchoolYear.get(SchoolYear.name == YEAR)
    schools = [regenboog("15KU00"), regenboog("15KU01")]
    report = build_report(schools, year, 10)
    assert report.respondents > 10
    assert report.suppressed
    assert report.suppression_reason == SMALL_VESTIGING
    assert report.small_vestigingen == ["15KU01"]
    assert report.scales["welbevinden"].mean is None
    assert all(group.suppressed for group in report.groups)
    assert not build_report(schools[:1], year, 10).suppressed


def test_brin_trend_hides_year_of_small_vestiging(app_context, small_oost):
    schools = [regenboog("15KU00"), regenboog("15KU01")]
    report = build_report(schools, SchoolYear.get(SchoolYear.name == YEAR), 10)
    trend = {entry.name: entry for entry in report.trend}
    assert trend["2016-2017"].suppressed
    assert not trend["2015-2016"].suppressed
    assert trend["2015-2016"].means["aantasting"] is not None


def test_brin_page_names_small_vestiging(client, app, small_oost):
    login(client)
    html = page_of(client, school_id(app, "15KU00"), niveau="brin")
    assert 'id="te-weinig-respondenten"' in html
    assert "Vestiging 15KU01 van deze instelling heeft minder dan 10 respondenten" in html
    assert "<svg" not in html
    assert "data-scale=" not in html
    vestiging = page_of(client, school_id(app, "15KU00"))
    assert 'id="te-weinig-respondenten"' not in vestiging
    assert 'data-scale="welbevinden"' in vestiging


def test_brin_hides_groups_hidden_at_vestiging(app_context):
    # Demo 15KU01 has groep 6: 14, groep 7: 12, groep 8: 7; its own report hides groep 8
    # and, to protect it, groep 7. The whole-BRIN report must hide both as well.
    year = SchoolYear.get(SchoolYear.name == YEAR)
    oost = {group.name: group for group in build_report([regenboog("15KU01")], year, 10).groups}
    assert [name for name, group in oost.items() if group.suppressed] == ["groep 7", "groep 8"]
    schools = [regenboog("15KU00"), regenboog("15KU01")]
    whole = {group.name: group for group in build_report(schools, year, 10).groups}
    assert not whole["groep 6"].suppressed
    assert whole["groep 7"].suppressed
    assert whole["groep 8"].suppressed


# --- board report ---------------------------------------------------------------


def test_board_rows_follow_school_reports(app_context, small_oost):
    year = SchoolYear.get(SchoolYear.name == YEAR)
    rows = build_board_report(Board.get(Board.number == "41234"), year, 10)
    by_code = {row.school.code: row for row in rows}
    assert by_code["15KU01"].suppressed
    assert by_code["15KU01"].report.scales["veiligheidsbeleving"].mean is None
    for row in rows:
        assert row.suppressed == build_report([row.school], year, 10).suppressed


def test_board_page_hides_small_vestiging(client, auth, app, small_oost):
    auth.login("bestuur@demo.test")
    url = f"/besturen/{board_of(app)}/monitoring-sociale-veiligheid?schooljaar={YEAR}"
    html = client.get(url).text
    row = html[html.index('data-school="15KU01"') :].split("</tr>")[0]
    assert "te weinig respondenten" in row
    assert "data-scale=" not in row
    lines = client.get(url.replace("veiligheid?", "veiligheid.csv?")).data.decode()
    oost = next(line for line in lines.splitlines() if ";15KU01;" in line)
    assert "Te weinig respondenten" in oost
    assert not re.search(r"\d,\d\d", oost.split(";")[7]), "a mean leaked into the CSV"


def board_of(app) -> int:
    with app.app_context(), db.connection_context():
        return Board.get(Board.number == "41234").id


# --- factsheet ------------------------------------------------------------------


def factsheet_text(app, school: School) -> str:
    job = FactsheetJob.create(
        school=school, school_year=SchoolYear.get(SchoolYear.name == YEAR), created_at=utcnow()
    )
    data = (app.config["PORTAL_DATA_DIR"] / build_factsheet(job.id)).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_factsheet_of_small_school_has_no_figures(app_context, small_school):
    text = factsheet_text(app_context, School.get_by_id(small_school))
    assert "4 respondenten, 12 leerlingen op 1 oktober" in text
    assert "Te weinig respondenten" in text
    assert "Gemiddelde" not in text
    assert "Positief" not in text
    assert "Leerjaar / groep" not in text
    # P3 gives veiligheidsbeleving 1,25 and aantasting 2,67: neither may appear.
    assert "1,25" not in text
    assert "2,67" not in text


def test_factsheet_marks_small_trend_year(app_context):
    school = School.get_by_id(school_with(app_context, {"groep 7": (P1, 12)}))
    add_respondents(school, SchoolYear.get(SchoolYear.name == "2016-2017"), "groep 7", P2, 5)
    text = factsheet_text(app_context, school)
    assert "3,50" in text
    assert "Te weinig respondenten (minder dan 10) in 2016-2017" in " ".join(text.split())


# --- summary for the Inspectie --------------------------------------------------


def test_small_school_summary_has_nulls(app_context, small_school):
    school = School.get_by_id(small_school)
    year = SchoolYear.get(SchoolYear.name == YEAR)
    summary = json.loads(build_payload(school, year, ANSWERS, 10))
    assert summary["suppressed"] is True
    assert summary["suppression_reason"] == TOO_FEW_RESPONDENTS
    assert summary["respondents"] == 4
    assert summary["pupils"] == 12
    assert summary["answers"]["consent_name"] == ANSWERS.consent_name
    for scale in SCALES:
        assert summary["scales"][scale]["mean"] is None, scale
        assert summary["scales"][scale]["positive_share"] is None, scale
    assert [entry["item"] for entry in summary["victimisation"]] == ["A1", "A2", "A3", "A4"]
    for entry in summary["victimisation"]:
        assert set(entry["shares"].values()) == {None}, entry["item"]


def test_large_school_summary_not_suppressed(app_context):
    year = SchoolYear.get(SchoolYear.name == YEAR)
    summary = json.loads(build_payload(regenboog("15KU00"), year, ANSWERS, 10))
    assert summary["suppressed"] is False
    assert summary["suppression_reason"] is None
    assert summary["scales"]["welbevinden"]["mean"] is not None


def test_brin_summary_with_small_vestiging(app_context, small_oost):
    year = SchoolYear.get(SchoolYear.name == YEAR)
    answers = ANSWERS.__class__(**{**ANSWERS.__dict__, "level": "brin"})
    summary = json.loads(build_payload(regenboog("15KU00"), year, answers, 10))
    assert summary["suppressed"] is True
    assert summary["suppression_reason"] == SMALL_VESTIGING
    assert summary["vestiging"] is None
    assert summary["scales"]["aantasting"]["mean"] is None


@pytest.fixture
def small_regenboog(app) -> int:
    """Leave OBS De Regenboog (15KU00), of school@demo.test, 4 respondents in 2017-2018."""
    with app.app_context(), db.connection_context():
        shrink(regenboog("15KU00"), YEAR, 4)
    return school_id(app, "15KU00")


def test_preview_of_small_school_explains_nulls(client, auth, small_regenboog):
    auth.login("school@demo.test")
    response = client.post(
        f"/scholen/{small_regenboog}/levering", data={**FORM, "action": "preview"}
    )
    assert response.status_code == 200
    assert 'id="samenvatting-zonder-uitkomsten"' in response.text
    assert "&#34;suppressed&#34;: true" in response.text
    assert "&#34;mean&#34;: null" in response.text


def test_submitted_small_summary_equals_preview(client, auth, app, small_regenboog):
    auth.login("school@demo.test")
    url = f"/scholen/{small_regenboog}/levering"
    preview = client.post(url, data={**FORM, "action": "download"})
    assert json.loads(preview.data)["suppressed"] is True
    assert client.post(url, data={**FORM, "action": "submit"}).status_code == 303
    with app.app_context(), db.connection_context():
        stored = DeliveryRequest.get()
    assert stored.payload.encode() == preview.data
    page = client.get(url).text
    assert 'id="samenvatting-zonder-uitkomsten"' in page
    assert stored.payload_sha256 in page


def test_payload_never_holds_small_school_figures(app_context, small_school):
    # The leverdatum does not matter here; the request is stored as approved.
    from .factories import make_approved_request

    request = make_approved_request(date(2018, 4, 1), school=School.get_by_id(small_school))
    summary = json.loads(request.payload)
    assert summary["suppressed"] is True
    assert summary["scales"]["veiligheidsbeleving"]["mean"] is None


# --- scales and items that few respondents answered --------------------------------

# Answers every veiligheidsbeleving and welbevinden item, and no aantasting item.
NO_VICTIMISATION = {"V1": 3, "V2": 3, "V3": 2, "V4": 3, "W1": 3, "W2": 4, "W3": 1, "W4": 3}


def _thin_school(app, groups: dict[str, tuple[int, int]]) -> int:
    """Create a school with, per group, (respondents answering all, answering no aantasting)."""
    with app.app_context(), db.connection_context():
        school = make_school()
        year = SchoolYear.get(SchoolYear.name == YEAR)
        for group, (full, partial) in groups.items():
            add_respondents(school, year, group, P1, full)
            add_respondents(school, year, group, NO_VICTIMISATION, partial)
        return school.id


def _report_of(app, school: int):
    with app.app_context(), db.connection_context():
        return build_report([School.get_by_id(school)], SchoolYear.get(SchoolYear.name == YEAR), 10)


def test_scale_of_few_respondents_hidden(app):
    # 12 respondents, of whom only 3 answered the aantasting items.
    school = _thin_school(app, {"groep 8": (3, 9)})
    report = _report_of(app, school)
    assert not report.suppressed
    assert report.scales["veiligheidsbeleving"].mean is not None
    assert report.scales["aantasting"].respondents == 3
    assert report.scales["aantasting"].mean is None
    assert report.scales["aantasting"].positive_share is None
    for item in report.victimisation:
        assert [option.share for option in item.options] == [None] * 4


def test_scale_of_few_respondents_hidden_in_every_group(app):
    # Both groups are large enough, but groep 7 has only 4 aantasting scores. Showing
    # groep 8's aantasting next to the school's would give groep 7's away.
    school = _thin_school(app, {"groep 7": (4, 8), "groep 8": (12, 0)})
    report = _report_of(app, school)
    assert report.scales["aantasting"].mean is not None
    groups = {group.name: group for group in report.groups}
    for name in ("groep 7", "groep 8"):
        assert not groups[name].suppressed
        assert groups[name].scales["veiligheidsbeleving"].mean is not None
        assert groups[name].scales["aantasting"].mean is None


def test_brin_hides_scale_thin_at_one_vestiging(app):
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == YEAR)
        main, other = make_school(), make_school()
        other.brin = main.brin
        other.vestiging = "01"
        other.save()
        add_respondents(main, year, "groep 8", P1, 12)
        add_respondents(other, year, "groep 8", P1, 3)
        add_respondents(other, year, "groep 8", NO_VICTIMISATION, 9)
        report = build_report([main, other], year, 10, with_trend=False)
    assert not report.suppressed
    assert report.scales["veiligheidsbeleving"].mean is not None
    assert report.scales["aantasting"].mean is None
    assert all(option.share is None for item in report.victimisation for option in item.options)


def test_page_states_few_answers(app, client):
    school = _thin_school(app, {"groep 8": (3, 9)})
    login(client)
    html = page_of(client, school)
    svg = chart(html, "grafiek-aantasting-1")
    assert "te weinig antwoorden" in svg.find(f"{SVG}desc").text
    assert not svg.findall(f".//{SVG}rect[@data-share]") or all(
        rect.get("data-share") in (None, "0.00")
        for rect in svg.findall(f".//{SVG}rect[@data-share]")
    )
