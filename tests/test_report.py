"""The school report: indicator values checked against figures computed by hand.

A new PO school of board 41234 gets 16 respondents in 2017-2018 and 40 pupils on
1 October. Items are the demo questionnaire's: V1-V4 veiligheidsbeleving (V3 reversed),
W1-W4 welbevinden (W3 reversed), A1-A4 aantasting (all reversed, answers "niet gebeurd"
= 1 up to "5 keer of vaker" = 4), X1 in no scale. Answers run from 1 to 4, and a
reversed answer a scores 5 - a.

Pattern P1, 6 respondents in groep 7:
  V1=4 V2=3 V3=1->4 V4=3          veiligheidsbeleving (4+3+4+3)/4 = 3.5
  W1=4 W2=4 W3=2->3 W4=3          welbevinden         (4+4+3+3)/4 = 3.5
  A1=1->4 A2=1->4 A3=1->4 A4=2->3 aantasting          (4+4+4+3)/4 = 3.75
Pattern P2, 6 respondents in groep 7 (V4 skipped):
  V1=2 V2=2 V3=3->2               veiligheidsbeleving (2+2+2)/3   = 2.0
  W1=1 W2=2 W3=4->1 W4=2          welbevinden         (1+2+1+2)/4 = 1.5
  A1=3->2 A2=1->4 A3=2->3 A4=1->4 aantasting          (2+4+3+4)/4 = 3.25
Pattern P3, 4 respondents in groep 8 (every W item and A3 skipped):
  V1=1 V2=1 V3=4->1 V4=2          veiligheidsbeleving (1+1+1+2)/4 = 1.25
  A1=4->1 A2=2->3 A4=1->4         aantasting          (1+3+4)/3   = 8/3

Whole school (positive means a score above the middle of the scale, 2.5):
  veiligheidsbeleving (6*3.5 + 6*2.0 + 4*1.25)/16 = 38/16 = 2.375, positive P1 = 6/16
  welbevinden         (6*3.5 + 6*1.5)/12 = 30/12 = 2.5 (P3 has no score), positive 6/12
  aantasting          (6*3.75 + 6*3.25 + 4*8/3)/16 = (42 + 32/3)/16 = 158/48,
                      positive all 16 (3.75, 3.25 and 2.67 all exceed 2.5)
Groep 7 (12): veiligheidsbeleving 33/12 = 2.75, welbevinden 2.5, aantasting 42/12 = 3.5.
Groep 8 (4): veiligheidsbeleving 1.25, welbevinden none, aantasting 8/3. Both groups are
shown only when the threshold is 4 or lower: above it groep 8 is hidden, and groep 7 too,
because the total minus groep 7 would give groep 8.
Victimisation, share per option (niet gebeurd, 1 of 2 keer, 3 of 4 keer, 5 keer of vaker)
over the respondents who answered the item:
  A1: 1 x6, 3 x6, 4 x4 -> 6/16, 0, 6/16, 4/16
  A2: 1 x12, 2 x4      -> 12/16, 4/16, 0, 0
  A3: 1 x6, 2 x6       -> 6/12, 6/12, 0, 0 (P3 skipped it)
  A4: 2 x6, 1 x10      -> 10/16, 6/16, 0, 0
Response rate 16/40 = 0.4, at least 0.3, so the sample is reliable.

Every test of this school runs twice: with the respondents written to the database, and
with the same respondents imported from a small CSV file through the import page.
"""

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from portal import create_app
from portal.domain.report import build_report
from portal.models import Instrument, PupilCount, Respondent, School, SchoolYear, db

from .conftest import DEMO_PASSWORD, HTMX
from .factories import make_school

SVG = "{http://www.w3.org/2000/svg}"

P1 = {"V1": 4, "V2": 3, "V3": 1, "V4": 3, "W1": 4, "W2": 4, "W3": 2, "W4": 3,
      "A1": 1, "A2": 1, "A3": 1, "A4": 2, "X1": 1}  # fmt: skip
P2 = {"V1": 2, "V2": 2, "V3": 3, "W1": 1, "W2": 2, "W3": 4, "W4": 2,
      "A1": 3, "A2": 1, "A3": 2, "A4": 1, "X1": 4}  # fmt: skip
P3 = {"V1": 1, "V2": 1, "V3": 4, "V4": 2, "A1": 4, "A2": 2, "A4": 1}


def add_respondents(school: School, year: SchoolYear, group: str, answers: dict, count: int):
    instrument = Instrument.get(Instrument.code == "msv")
    for _ in range(count):
        Respondent.create(
            school=school,
            school_year=year,
            instrument=instrument,
            group=group,
            taken_on=date(2017, 12, 1),
            answers_json=json.dumps(answers),
        )


ITEM_CODES = ("V1", "V2", "V3", "V4", "W1", "W2", "W3", "W4", "A1", "A2", "A3", "A4", "X1")


def hand_file(school: School) -> bytes:
    """Return the respondents of the module docstring as an own-format CSV file.

    It is written as Excel on Dutch Windows writes it: semicolons, Windows-1252, dates day
    first, and a skipped answer as an empty cell.
    """
    lines = [
        ";".join(("brin", "vestiging", "schooljaar", "respondent", "groep", "datum", *ITEM_CODES))
    ]
    patterns = [("groep 7", P1)] * 6 + [("groep 7", P2)] * 6 + [("groep 8", P3)] * 4
    for number, (group, answers) in enumerate(patterns, start=1):
        cells = [str(answers.get(code, "")) for code in ITEM_CODES]
        lines.append(
            ";".join(
                (
                    school.brin,
                    school.vestiging,
                    "2017-2018",
                    str(number),
                    group,
                    "01-12-2017",
                    *cells,
                )
            )
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


@pytest.fixture(params=["rows", "file"])
def hand_school(request, app) -> int:
    """The school of the module docstring; returns its id.

    With "rows" its respondents are written to the database directly, with "file" they
    are imported from a small CSV file through the import page, as a school would.
    """
    with app.app_context(), db.connection_context():
        school = make_school()
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        PupilCount.create(school=school, school_year=year, pupils=40)
        if request.param == "rows":
            add_respondents(school, year, "groep 7", P1, 6)
            add_respondents(school, year, "groep 7", P2, 6)
            add_respondents(school, year, "groep 8", P3, 4)
        data = hand_file(school)
    if request.param == "file":
        importer = app.test_client()
        login = importer.post(
            "/inloggen", data={"email": "helpdesk@demo.test", "password": DEMO_PASSWORD}
        )
        assert login.status_code == 303
        response = importer.post(
            f"/scholen/{school.id}/importeren",
            data={
                "schooljaar": "2017-2018",
                "instrument": "msv",
                "formaat": "msv",
                "bestand": (io.BytesIO(data), "antwoorden.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 303, response.text
    return school.id


def hand_report(app, school_id: int, threshold: int = 10):
    with app.app_context(), db.connection_context():
        school = School.get_by_id(school_id)
        return build_report([school], SchoolYear.get(SchoolYear.name == "2017-2018"), threshold)


def test_scale_means_match_hand_values(app, hand_school):
    report = hand_report(app, hand_school)
    assert report.respondents == 16
    assert report.scales["veiligheidsbeleving"].mean == pytest.approx(38 / 16)
    assert report.scales["welbevinden"].mean == pytest.approx(2.5)
    assert report.scales["aantasting"].mean == pytest.approx(158 / 48)


def test_scale_respondents_leave_out_skipped_scales(app, hand_school):
    report = hand_report(app, hand_school)
    assert report.scales["veiligheidsbeleving"].respondents == 16
    assert report.scales["welbevinden"].respondents == 12
    assert report.scales["aantasting"].respondents == 16


def test_positive_shares_match_hand_values(app, hand_school):
    report = hand_report(app, hand_school)
    assert report.scales["veiligheidsbeleving"].positive_share == pytest.approx(6 / 16)
    assert report.scales["welbevinden"].positive_share == pytest.approx(6 / 12)
    assert report.scales["aantasting"].positive_share == pytest.approx(1.0)


def test_victimisation_shares_match_hand_values(app, hand_school):
    report = hand_report(app, hand_school)
    shares = {item.code: [option.share for option in item.options] for item in report.victimisation}
    assert shares["A1"] == pytest.approx([6 / 16, 0, 6 / 16, 4 / 16])
    assert shares["A2"] == pytest.approx([12 / 16, 4 / 16, 0, 0])
    assert shares["A3"] == pytest.approx([6 / 12, 6 / 12, 0, 0])
    assert shares["A4"] == pytest.approx([10 / 16, 6 / 16, 0, 0])
    labels = [option.label for option in report.victimisation[0].options]
    assert labels == ["niet gebeurd", "1 of 2 keer", "3 of 4 keer", "5 keer of vaker"]


def test_response_rate_and_reliability(app, hand_school):
    report = hand_report(app, hand_school)
    assert report.pupils == 40
    assert report.response_rate == pytest.approx(0.4)
    assert report.reliable
    assert report.unreliable_reason is None


def test_small_group_hides_its_complement(app, hand_school):
    groups = {group.name: group for group in hand_report(app, hand_school).groups}
    assert list(groups) == ["groep 7", "groep 8"]
    assert groups["groep 8"].suppressed
    assert groups["groep 8"].respondents == 4
    assert groups["groep 8"].scales == {}
    # The school total (16) minus groep 7 would give groep 8, so groep 7 is hidden too.
    assert groups["groep 7"].suppressed
    assert groups["groep 7"].respondents == 12
    assert groups["groep 7"].scales == {}


def test_small_group_shown_with_lower_threshold(app, hand_school):
    groups = {group.name: group for group in hand_report(app, hand_school, threshold=4).groups}
    assert not groups["groep 7"].suppressed
    assert groups["groep 7"].scales["veiligheidsbeleving"].mean == pytest.approx(33 / 12)
    assert groups["groep 7"].scales["welbevinden"].mean == pytest.approx(2.5)
    assert groups["groep 7"].scales["aantasting"].mean == pytest.approx(3.5)
    assert not groups["groep 8"].suppressed
    assert groups["groep 8"].scales["veiligheidsbeleving"].mean == pytest.approx(1.25)
    assert groups["groep 8"].scales["welbevinden"].mean is None
    assert groups["groep 8"].scales["aantasting"].mean == pytest.approx(8 / 3)


def test_more_respondents_than_pupils_unreliable(app, client, hand_school):
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        PupilCount.update(pupils=8).where(
            (PupilCount.school == hand_school) & (PupilCount.school_year == year)
        ).execute()
    report = hand_report(app, hand_school)
    assert report.response_rate == pytest.approx(2.0)
    assert not report.reliable
    assert report.unreliable_reason == "more_than_pupils"
    login(client)
    html = page_of(client, hand_school)
    assert "Er zijn meer respondenten (16) dan leerlingen op 1 oktober (8)." in html
    assert "groot genoeg voor betrouwbare uitspraken" not in html


def test_low_response_is_unreliable(app, hand_school):
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        PupilCount.update(pupils=100).where(
            (PupilCount.school == hand_school) & (PupilCount.school_year == year)
        ).execute()
    report = hand_report(app, hand_school)
    assert report.response_rate == pytest.approx(0.16)
    assert not report.reliable
    assert report.unreliable_reason == "low_response"


def test_missing_pupil_count_is_unreliable(app, hand_school):
    with app.app_context(), db.connection_context():
        PupilCount.delete().where(PupilCount.school == hand_school).execute()
    report = hand_report(app, hand_school)
    assert report.response_rate is None
    assert report.unreliable_reason == "no_pupil_count"


# --- the rendered page --------------------------------------------------------


def login(client, email: str = "helpdesk@demo.test"):
    response = client.post("/inloggen", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 303


def page_of(client, school_id: int, **params) -> str:
    query = "&".join(
        f"{key}={value}" for key, value in {"schooljaar": "2017-2018", **params}.items()
    )
    response = client.get(f"/scholen/{school_id}/monitoring-sociale-veiligheid?{query}")
    assert response.status_code == 200
    return response.text


def table_row(html: str, marker: str) -> str:
    """Return the table row that contains ``marker``, up to its closing tag."""
    start = html.rindex("<tr", 0, html.index(marker))
    return html[start : html.index("</tr>", start)]


def test_page_shows_hand_values_in_dutch(client, hand_school):
    login(client)
    html = page_of(client, hand_school)
    # 2.375 and 37.5% round half to even: 2,38 and 38%; 158/48 = 3.2917 -> 3,29.
    safety = table_row(html, 'data-scale="veiligheidsbeleving"')
    assert "<td>2,38</td>" in safety
    assert "<td>38%</td>" in safety
    wellbeing = table_row(html, 'data-scale="welbevinden"')
    assert "<td>2,50</td>" in wellbeing
    assert "<td>50%</td>" in wellbeing
    victimisation = table_row(html, 'data-scale="aantasting"')
    assert "<td>3,29</td>" in victimisation
    assert "<td>100%</td>" in victimisation


def test_page_shows_victimisation_percentages(client, hand_school):
    login(client)
    html = page_of(client, hand_school)
    cells = re.findall(r"<td>([^<]*)</td>", table_row(html, 'data-item="A1"'))
    assert cells == ["38%", "0%", "38%", "25%"]
    cells = re.findall(r"<td>([^<]*)</td>", table_row(html, 'data-item="A3"'))
    assert cells == ["50%", "50%", "0%", "0%"]


def test_page_states_key_figures(client, hand_school):
    login(client)
    html = page_of(client, hand_school)
    assert "<dd>16</dd>" in html
    assert "<dd>40</dd>" in html
    assert "<dd>40%</dd>" in html
    assert "groot genoeg voor betrouwbare uitspraken" in html
    assert "vastgesteld op 15 maart 2018" in html


def test_page_explains_low_response(client, app, hand_school):
    with app.app_context(), db.connection_context():
        PupilCount.update(pupils=100).where(PupilCount.school == hand_school).execute()
    login(client)
    html = page_of(client, hand_school)
    assert "De respons is te klein" in html
    assert "16% van de leerlingen" in html
    assert "minstens 30% nodig" in html


def test_page_without_frozen_comparison(client, app, hand_school):
    from portal.models import ComparisonValue

    with app.app_context(), db.connection_context():
        ComparisonValue.delete().execute()
    login(client)
    html = page_of(client, hand_school)
    assert "nog geen landelijk vergelijkingsgetal vastgesteld" in html
    assert "vastgesteld op" not in html


def test_page_suppresses_small_group(client, hand_school):
    login(client)
    html = page_of(client, hand_school)
    row = table_row(html, 'data-group="groep 8"')
    assert "te weinig respondenten" in row
    assert "<td>4</td>" in row
    row = table_row(html, 'data-group="groep 7"')
    assert "kleinere groep uit het totaal" in row
    assert "<td>12</td>" in row
    svg = chart(html, "grafiek-groepen")
    texts = [node.text for node in svg.iter(f"{SVG}text")]
    assert "te weinig respondenten" in texts
    assert "groep 8 (4 respondenten)" in texts
    assert "groep 7 (12 respondenten)" in texts
    # Neither group has bars: groep 8 is small, and groep 7 would give it away.
    assert svg.findall(f".//{SVG}rect[@class='chart__bar']") == []


def test_page_shows_small_group_with_lower_threshold(config, redis, hand_school):
    app = create_app({**config, "SUPPRESSION_THRESHOLD": 4})
    client = app.test_client()
    login(client)
    html = page_of(client, hand_school)
    row = table_row(html, 'data-group="groep 8"')
    assert "te weinig respondenten" not in row
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells == ["4", "1,25", "–", "2,67"]
    svg = chart(html, "grafiek-groepen")
    assert "te weinig respondenten" not in [node.text for node in svg.iter(f"{SVG}text")]


def chart(html: str, chart_id: str) -> ET.Element:
    """Parse the inline <svg> with this id out of a page; fails when it is not well-formed."""
    start = html.index(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}"')
    end = html.index("</svg>", start) + len("</svg>")
    return ET.fromstring(html[start:end])


def test_scales_chart_states_figures(client, hand_school):
    login(client)
    svg = chart(page_of(client, hand_school), "grafiek-indicatoren")
    assert svg.get("role") == "img"
    desc = svg.find(f"{SVG}desc").text
    assert "Veiligheidsbeleving: 2,38" in desc
    assert "Welbevinden: 2,50" in desc
    assert "Aantasting: 3,29" in desc
    bars = svg.findall(f".//{SVG}rect[@class='chart__bar']")
    widths = [float(bar.get("width")) for bar in bars]
    # Bars are drawn from the means as the table rounds them, 2.38, 2.50 and 3.29, so
    # their lengths give away no more than the table does.
    assert widths[0] / widths[1] == pytest.approx(2.38 / 2.50, rel=1e-6)
    assert widths[2] / widths[1] == pytest.approx(3.29 / 2.50, rel=1e-6)
    assert len(svg.findall(f".//{SVG}line[@class='chart__reference']")) == 4  # 3 + legend


def test_trend_chart_covers_earlier_years(client, app, hand_school):
    with app.app_context(), db.connection_context():
        school = School.get_by_id(hand_school)
        add_respondents(school, SchoolYear.get(SchoolYear.name == "2016-2017"), "groep 7", P2, 12)
    login(client)
    html = page_of(client, hand_school)
    svg = chart(html, "grafiek-ontwikkeling")
    desc = svg.find(f"{SVG}desc").text
    # 2016-2017 has only P2: veiligheidsbeleving 2.0, welbevinden 1.5, aantasting 3.25.
    assert "Veiligheidsbeleving: 2016-2017 2,00, 2017-2018 2,38." in desc
    assert "Welbevinden: 2016-2017 1,50, 2017-2018 2,50." in desc
    assert "Aantasting: 2016-2017 3,25, 2017-2018 3,29." in desc
    assert len(svg.findall(f".//{SVG}path[@class='chart__line']")) == 3


def test_page_complete_without_javascript(client, hand_school):
    login(client)
    html = page_of(client, hand_school)
    assert "<html" in html
    # Every figure is in the HTML itself: charts, tables and the year form, which
    # works as a plain GET form.
    for chart_id in ("grafiek-indicatoren", "grafiek-groepen", "grafiek-aantasting-1"):
        assert f'id="{chart_id}"' in html
    assert '<form method="get"' in html
    assert "style=" not in html
    assert "<style" not in html


def test_htmx_request_gets_partial(client, hand_school):
    login(client)
    response = client.get(
        f"/scholen/{hand_school}/monitoring-sociale-veiligheid?schooljaar=2017-2018", headers=HTMX
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="rapport"')
    assert 'id="grafiek-indicatoren"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_unknown_year_gets_dutch_404(client, hand_school):
    login(client)
    response = client.get(f"/scholen/{hand_school}/monitoring-sociale-veiligheid?schooljaar=abc")
    assert response.status_code == 404
    assert "Een rapport van schooljaar abc bestaat niet" in response.text
