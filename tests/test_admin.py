"""The admin pages: navigation, the comparison value page and who may see them."""

from datetime import date

import pytest

from portal.models import AuditEvent, ComparisonValue, SchoolYear, db

from .conftest import DEFAULT_TODAY, HTMX

OTHER_ROLES = ["school@demo.test", "bestuur@demo.test", "helpdesk@demo.test"]


def _year(app, name: str = "2017-2018") -> SchoolYear:
    with app.app_context(), db.connection_context():
        return SchoolYear.get(SchoolYear.name == name)


def _values(app, name: str = "2017-2018") -> list[tuple]:
    with app.app_context(), db.connection_context():
        return sorted(
            ComparisonValue.select(
                ComparisonValue.sector,
                ComparisonValue.scale,
                ComparisonValue.mean,
                ComparisonValue.frozen_on,
            )
            .join(SchoolYear)
            .where(SchoolYear.name == name)
            .tuples()
        )


def test_nav_shows_beheer_to_admin_only(client, auth):
    auth.login("beheer@demo.test")
    assert 'href="/beheer/"' in client.get("/managementvenster").get_data(as_text=True)
    auth.logout()

    auth.login("helpdesk@demo.test")
    assert 'href="/beheer/"' not in client.get("/managementvenster").get_data(as_text=True)


def test_index_links_both_pages(client, auth):
    auth.login("beheer@demo.test")

    page = client.get("/beheer/").get_data(as_text=True)

    assert 'href="/beheer/register"' in page
    assert 'href="/beheer/vergelijkingswaarden"' in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_comparison_page_lists_frozen_values(client, auth, headers):
    auth.login("beheer@demo.test")

    response = client.get("/beheer/vergelijkingswaarden", headers=headers)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in page) is (not headers)
    assert "HX-Request" in response.headers["Vary"]
    assert "Schooljaar 2017-2018" in page
    assert 'data-sector="PO" data-scale="veiligheidsbeleving"' in page
    assert "15 maart 2018" in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_freeze_now_replaces_values(client, auth, app, headers):
    auth.login("beheer@demo.test")
    app.config["PORTAL_TODAY"] = date(2018, 3, 20)

    response = client.post(
        "/beheer/vergelijkingswaarden",
        data={"schooljaar": "2017-2018", "moment": "now", "datum": ""},
        headers=headers,
    )

    assert response.status_code == 303
    values = _values(app)
    assert values
    assert {frozen_on for *_, frozen_on in values} == {date(2018, 3, 20)}
    with app.app_context(), db.connection_context():
        event = AuditEvent.get(AuditEvent.action == "comparison.frozen")
        assert event.details["school_year"] == "2017-2018"
        assert event.user.email == "beheer@demo.test"
    page = client.get(response.headers["Location"], headers=headers).get_data(as_text=True)
    assert "zijn vastgezet op 20 maart 2018" in page


def test_freeze_on_date_is_planned(client, auth, app):
    auth.login("beheer@demo.test")
    before = _values(app)

    response = client.post(
        "/beheer/vergelijkingswaarden",
        data={"schooljaar": "2017-2018", "moment": "date", "datum": "2018-05-01"},
    )

    assert response.status_code == 303
    assert _year(app).comparison_freeze_on == date(2018, 5, 1)
    assert _values(app) == before
    page = client.get("/beheer/vergelijkingswaarden").get_data(as_text=True)
    assert "Gepland: vastzetten op 1 mei 2018" in page


def test_planned_freeze_can_be_removed(client, auth, app):
    auth.login("beheer@demo.test")
    client.post(
        "/beheer/vergelijkingswaarden",
        data={"schooljaar": "2017-2018", "moment": "date", "datum": "01-05-2018"},
    )
    assert _year(app).comparison_freeze_on == date(2018, 5, 1)

    response = client.post(
        "/beheer/vergelijkingswaarden/planning-verwijderen", data={"schooljaar": "2017-2018"}
    )

    assert response.status_code == 303
    assert _year(app).comparison_freeze_on is None


def test_freeze_on_today_runs_now(client, auth, app):
    auth.login("beheer@demo.test")

    response = client.post(
        "/beheer/vergelijkingswaarden",
        data={"schooljaar": "2017-2018", "moment": "date", "datum": DEFAULT_TODAY.isoformat()},
    )

    assert response.status_code == 303
    assert _year(app).comparison_freeze_on is None
    with app.app_context(), db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "comparison.frozen").count() == 1


@pytest.mark.parametrize(
    ("year", "moment", "day", "message"),
    [
        ("2017-2018", "date", "2018-03-14", "14 maart 2018 ligt in het verleden"),
        ("2017-2018", "date", "2018-08-01", "1 augustus 2018 valt buiten het schooljaar"),
        ("2018-2019", "now", "", "Dit schooljaar begint pas op 1 augustus 2018"),
        ("2017-2018", "date", "2018-13-01", "Vul een geldige datum in"),
        ("2017-2018", "date", "morgen", "Vul een geldige datum in"),
        ("2017-2018", "date", "", "Vul een geldige datum in"),
        ("1999-2000", "now", "", "Ongeldige keuze"),
        ("2017-2018", "later", "", "Ongeldige keuze"),
        ("2035-2036", "date", "2036-01-01", "1 januari 2036 ligt te ver vooruit"),
        ("2019-2020", "date", "2019-09-01", "uiterlijk op 31 juli 2019"),
        ("2017-2018", "date", "\uff12\uff10\uff11\uff18-05-01", "Vul een geldige datum in"),
        ("2017-2018", "date", "2018-05-\u0660\u0661", "Vul een geldige datum in"),
    ],
    ids=[
        "past",
        "outside-year",
        "year-not-started",
        "bad-month",
        "word",
        "empty",
        "year",
        "moment",
        "eighteen-years-ahead",
        "year-after-next",
        "full-width-digits",
        "arabic-indic-digits",
    ],
)
def test_invalid_freeze_rejected(client, auth, app, year, moment, day, message):
    auth.login("beheer@demo.test")
    before = _values(app)

    response = client.post(
        "/beheer/vergelijkingswaarden", data={"schooljaar": year, "moment": moment, "datum": day}
    )

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _values(app) == before
    assert _year(app).comparison_freeze_on is None
    with app.app_context(), db.connection_context():
        assert not SchoolYear.select().where(SchoolYear.comparison_freeze_on.is_null(False)).count()


def test_freeze_planned_in_next_year(client, auth, app):
    auth.login("beheer@demo.test")

    response = client.post(
        "/beheer/vergelijkingswaarden",
        data={"schooljaar": "2018-2019", "moment": "date", "datum": "2019-05-01"},
    )

    assert response.status_code == 303
    assert _year(app, "2018-2019").comparison_freeze_on == date(2019, 5, 1)


@pytest.mark.parametrize("email", OTHER_ROLES)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/beheer/vergelijkingswaarden"),
        ("post", "/beheer/vergelijkingswaarden"),
        ("post", "/beheer/vergelijkingswaarden/planning-verwijderen"),
    ],
)
def test_comparison_pages_hidden_from_other_roles(client, auth, app, email, method, path):
    auth.login(email)
    before = _values(app)

    response = getattr(client, method)(path, data={"schooljaar": "2017-2018", "moment": "now"})

    assert response.status_code == 404
    assert _values(app) == before


def test_anonymous_visitor_sent_to_login(client):
    response = client.get("/beheer/vergelijkingswaarden")

    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]
