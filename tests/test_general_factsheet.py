"""The general factsheet: Dutch explanation of delivery with the calendar's leverdata."""

from datetime import date

from portal.models import DeliveryDate, SchoolYear, db

from .test_factsheet_pdf import assert_renders, pdf_text

URL = "/factsheets/algemeen.pdf"


def test_general_factsheet_needs_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]


def test_general_factsheet_explains_delivery(client, auth, tmp_path):
    auth.login("school@demo.test")
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "1 augustus 2015" in text
    assert "Inspectie" in text
    assert "Schooljaar 2017-2018" in text
    for day in ("1 april 2018", "1 mei 2018", "1 juni 2018", "1 juli 2018"):
        assert day in text, f"leverdatum {day} missing"
    assert "helpdesk@portal.invalid" in text
    assert_renders(response.data, tmp_path)


def test_general_factsheet_reads_calendar(app, client, auth):
    with app.app_context(), db.connection_context():
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        DeliveryDate.create(school_year=year, date=date(2018, 6, 15))
    auth.login("bestuur@demo.test")
    text = pdf_text(client.get(URL).data)
    assert "15 juni 2018" in text


def test_venster_links_general_factsheet(client, auth):
    auth.login("school2@demo.test")
    assert URL in client.get("/managementvenster").text
