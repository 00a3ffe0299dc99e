"""The board report: every school of a board side by side, its access, charts and CSV."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from portal.domain.report import build_board_report, build_report
from portal.models import Board, PupilCount, School, SchoolYear, db

from .conftest import HTMX, school_id
from .factories import make_school
from .test_report import P1, add_respondents

SVG = "{http://www.w3.org/2000/svg}"
YEAR = "2017-2018"


def board_id(app, number: str = "41234") -> int:
    with app.app_context(), db.connection_context():
        return Board.get(Board.number == number).id


def board_url(app, number: str = "41234", suffix: str = "") -> str:
    return (
        f"/besturen/{board_id(app, number)}/monitoring-sociale-veiligheid{suffix}?schooljaar={YEAR}"
    )


def test_board_figures_equal_school_reports(app_context):
    board = Board.get(Board.number == "41234")
    year = SchoolYear.get(SchoolYear.name == YEAR)
    rows = build_board_report(board, year, 10)
    assert [row.school.code for row in rows] == ["15KU00", "15KU01", "23PR00", "21AB00"]
    for row in rows:
        single = build_report([row.school], year, 10, with_trend=False)
        assert row.report.respondents == single.respondents
        assert row.report.pupils == single.pupils
        assert row.report.comparison == single.comparison
        for scale, result in single.scales.items():
            assert row.report.scales[scale].mean == pytest.approx(result.mean)
            assert row.report.scales[scale].positive_share == pytest.approx(result.positive_share)


def test_board_page_matches_school_page(client, auth, app):
    auth.login("bestuur@demo.test")
    board_page = client.get(board_url(app))
    assert board_page.status_code == 200
    school_page = client.get(
        f"/scholen/{school_id(app, '21AB00')}/monitoring-sociale-veiligheid?schooljaar={YEAR}"
    ).text
    row = board_page.text[board_page.text.index('data-school="21AB00"') :].split("</tr>")[0]
    for scale in ("veiligheidsbeleving", "welbevinden", "aantasting"):
        school_row = school_page[school_page.index(f'data-scale="{scale}"') :].split("</tr>")[0]
        mean, positive, national = (
            cell.split("</td>")[0] for cell in school_row.split("<td>")[1:4]
        )
        expected = f'<td data-scale="{scale}">{mean}</td><td>{positive}</td><td>{national}</td>'
        assert expected in row


def test_small_school_shows_no_figures(client, auth, app):
    with app.app_context(), db.connection_context():
        school = make_school()
        year = SchoolYear.get(SchoolYear.name == YEAR)
        PupilCount.create(school=school, school_year=year, pupils=30)
        add_respondents(school, year, "groep 7", P1, 6)
        code = school.code
    auth.login("bestuur@demo.test")
    html = client.get(board_url(app)).text
    row = html[html.index(f'data-school="{code}"') :].split("</tr>")[0]
    assert "te weinig respondenten" in row
    assert "<td>6</td>" in row
    assert "data-scale=" not in row
    chart = html[html.index('id="grafiek-bestuur-veiligheidsbeleving"') :]
    assert "te weinig respondenten" in chart.split("</svg>")[0]


def test_board_charts_well_formed(client, auth, app):
    auth.login("bestuur@demo.test")
    html = client.get(board_url(app)).text
    for scale in ("veiligheidsbeleving", "welbevinden", "aantasting"):
        start = html.index(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="grafiek-bestuur-{scale}"'
        )
        svg = ET.fromstring(html[start : html.index("</svg>", start) + 6])
        assert svg.get("role") == "img"
        desc = svg.find(f"{SVG}desc").text
        assert "OBS De Regenboog (15KU00)" in desc
        assert "landelijk" in desc
        assert len(svg.findall(f".//{SVG}rect[@class='chart__bar']")) == 4


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("bestuur@demo.test", 200),
        ("helpdesk@demo.test", 200),
        ("beheer@demo.test", 200),
        ("bestuur2@demo.test", 404),  # secretary of the other board
        ("school@demo.test", 404),  # school staff, even of this board's schools
    ],
)
def test_board_report_access(client, auth, app, email, expected):
    auth.login(email)
    assert client.get(board_url(app)).status_code == expected
    assert client.get(board_url(app, suffix=".csv")).status_code == expected


def test_unknown_board_is_404(client, auth):
    auth.login("helpdesk@demo.test")
    assert client.get("/besturen/999999/monitoring-sociale-veiligheid").status_code == 404


def test_board_unknown_year_is_404(client, auth, app):
    auth.login("bestuur@demo.test")
    url = f"/besturen/{board_id(app)}/monitoring-sociale-veiligheid?schooljaar=1999-2000"
    response = client.get(url)
    assert response.status_code == 404
    assert "bestaat niet" in response.text


def test_board_report_htmx_partial(client, auth, app):
    auth.login("bestuur@demo.test")
    response = client.get(board_url(app), headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="bestuursrapport"' in response.text
    full = client.get(board_url(app))
    assert "<html" in full.text
    assert 'name="schooljaar"' in full.text
    assert "HX-Request" in full.headers["Vary"]


def read_csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_board_csv_has_dutch_figures(client, auth, app):
    auth.login("bestuur@demo.test")
    response = client.get(board_url(app, suffix=".csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = read_csv(response)
    header, rows = table[0], table[1:]
    assert header[:4] == ["School", "Locatiecode", "Sector", "Respondenten"]
    assert "Veiligheidsbeleving gemiddelde" in header
    by_code = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_code) == {"15KU00", "15KU01", "21AB00", "23PR00"}
    with app.app_context(), db.connection_context():
        school = School.get((School.brin == "21AB") & (School.vestiging == "00"))
        report = build_report([school], SchoolYear.get(SchoolYear.name == YEAR), 10)
    expected = f"{report.scales['welbevinden'].mean:.2f}".replace(".", ",")
    assert by_code["21AB00"]["Welbevinden gemiddelde"] == expected
    assert by_code["21AB00"]["Respondenten"] == str(report.respondents)


def test_board_csv_guards_formulas(client, auth, app):
    with app.app_context(), db.connection_context():
        school = make_school()
        school.name = '=HYPERLINK("http://example.invalid")'
        school.save()
    auth.login("bestuur@demo.test")
    rows = read_csv(client.get(board_url(app, suffix=".csv")))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://example.invalid")' in names
    assert not any(name.startswith("=") for name in names)


def test_board_overview_links_to_report(client, auth, app):
    auth.login("bestuur@demo.test")
    html = client.get("/bestuur/").text
    assert f"/besturen/{board_id(app)}/monitoring-sociale-veiligheid" in html


def test_support_board_page_links_to_report(client, auth, app):
    auth.login("helpdesk@demo.test")
    html = client.get(f"/helpdesk/besturen/{board_id(app, '52345')}").text
    assert f"/besturen/{board_id(app, '52345')}/monitoring-sociale-veiligheid" in html
