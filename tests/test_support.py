"""The support desk: search, school and board pages, deliveries per date and re-queue."""

from datetime import UTC, date, datetime

import pytest

from portal.domain.calendar import DeliveryRefused
from portal.domain.delivery import submit_request
from portal.domain.payload import DeliveryAnswers
from portal.domain.report import school_instrument
from portal.domain.support import find_schools_and_boards, requeue_delivery
from portal.models import (
    AuditEvent,
    Board,
    DeliveryRequest,
    DeliveryStatusChange,
    FactsheetJob,
    School,
    SchoolYear,
    User,
    db,
)

from .conftest import DEFAULT_TODAY, HTMX, school_id

ANSWERS = DeliveryAnswers(
    level="vestiging",
    groups="groep 6, 7 en 8",
    representative=True,
    representative_explanation="",
    consent_name="Mr. J. de Boer",
    consent_function="voorzitter college van bestuur",
    consent_date=date(2018, 3, 1),
    contact_name="Sanne de Vries",
    contact_email="s.devries@regenboog.example",
    contact_phone="",
)


def add_request(app, code: str, status: str = "given_up", leverdatum=date(2018, 4, 1), **fields):
    """Submit a request for a demo school, then put it in ``status`` directly."""
    with app.app_context(), db.connection_context():
        school = School.get((School.brin == code[:4]) & (School.vestiging == code[4:]))
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        request = submit_request(
            school,
            year,
            school_instrument([school], year),
            leverdatum,
            ANSWERS,
            User.get(User.email == "school@demo.test"),
            DEFAULT_TODAY,
            10,
        )
        DeliveryRequest.update(status=status, **fields).where(
            DeliveryRequest.id == request.id
        ).execute()
        return request.id


def status_of(app, request_id: int) -> str:
    with app.app_context(), db.connection_context():
        return DeliveryRequest.get_by_id(request_id).status


def history_of(app, request_id: int) -> list[DeliveryStatusChange]:
    with app.app_context(), db.connection_context():
        return list(
            DeliveryStatusChange.select()
            .where(DeliveryStatusChange.request == request_id)
            .order_by(DeliveryStatusChange.id)
        )


def board_id(app, number: str) -> int:
    with app.app_context(), db.connection_context():
        return Board.get(Board.number == number).id


@pytest.fixture
def helpdesk(auth):
    auth.login("helpdesk@demo.test")


# --- search -------------------------------------------------------------------


def test_search_page_and_partial(client, helpdesk):
    page = client.get("/helpdesk/")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Zoek een school of bestuur" in page.text
    assert "HX-Request" in page.headers["Vary"]

    partial = client.get("/helpdesk/?q=regenboog", headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section id="helpdesk-zoeken">')
    assert "OBS De Regenboog, locatie Oost" in partial.text


@pytest.mark.parametrize(
    ("term", "schools", "boards"),
    [
        ("regenboog", {"OBS De Regenboog", "OBS De Regenboog, locatie Oost"}, set()),
        ("15ku", {"OBS De Regenboog", "OBS De Regenboog, locatie Oost"}, set()),
        ("15KU01", {"OBS De Regenboog, locatie Oost"}, set()),
        (" 27vm 00 ", {"Kustlanden Lyceum"}, set()),
        ("52345", set(), {"Vereniging Christelijk Onderwijs Kustlanden"}),
        ("kustlanden", {"Kustlanden Lyceum"}, {"Vereniging Christelijk Onderwijs Kustlanden"}),
        ("100%", set(), set()),
        ("onbekend", set(), set()),
    ],
)
def test_search_finds_schools_and_boards(app_context, term, schools, boards):
    result = find_schools_and_boards(term)
    assert {school.name for school in result.schools} == schools
    assert {board.name for board in result.boards} == boards


def test_search_limit_reported(app_context):
    result = find_schools_and_boards("o", limit=2)
    assert len(result.schools) == 2
    assert result.more_schools is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Vul een naam, BRIN-nummer, locatiecode of bestuursnummer in."),
        ("   ", "Vul een naam, BRIN-nummer, locatiecode of bestuursnummer in."),
        ("a", "Vul tussen 2 en 100 tekens in."),
        ("x" * 101, "Vul tussen 2 en 100 tekens in."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_search_bad_input_rejected(client, helpdesk, query, message, headers):
    response = client.get("/helpdesk/", query_string={"q": query}, headers=headers)
    assert response.status_code == 422
    assert message in response.text
    assert ("<html" in response.text) == (not headers)


# --- school, board and deliveries pages ---------------------------------------------------


def test_school_page_shows_history(client, helpdesk, app):
    school = school_id(app, "15KU00")
    request_id = add_request(app, "15KU00", "given_up", last_error="HTTP 503 van de ontvanger")
    with app.app_context(), db.connection_context():
        FactsheetJob.create(
            school=school,
            school_year=SchoolYear.get(SchoolYear.name == "2017-2018"),
            status="failed",
            error="queue unavailable",
            created_at=datetime(2018, 3, 14, 9, 0, tzinfo=UTC),
        )

    page = client.get(f"/helpdesk/scholen/{school}")
    assert page.status_code == 200
    assert "<html" in page.text
    assert f'id="aanvraag-{request_id}"' in page.text
    assert "levering mislukt, de helpdesk is ingeschakeld" in page.text
    assert "HTTP 503 van de ontvanger" in page.text
    assert "aanvraag ingediend" in page.text
    assert "queue unavailable" in page.text
    assert f"/scholen/{school}/levering/{request_id}/samenvatting.json" in page.text
    assert "Opnieuw inplannen" in page.text

    partial = client.get(f"/helpdesk/scholen/{school}", headers=HTMX)
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<section id="helpdesk-school">')


def test_school_page_shows_receipt(client, helpdesk, app):
    school = school_id(app, "15KU00")
    add_request(
        app,
        "15KU00",
        "delivered",
        receipt="INSP-2018-000123",
        delivered_at=datetime(2018, 4, 1, 6, 0, tzinfo=UTC),
    )
    page = client.get(f"/helpdesk/scholen/{school}").text
    assert "INSP-2018-000123" in page
    assert "Opnieuw inplannen" not in page


def test_school_payload_download(client, helpdesk, app):
    school = school_id(app, "15KU00")
    request_id = add_request(app, "15KU00")
    response = client.get(f"/scholen/{school}/levering/{request_id}/samenvatting.json")
    assert response.status_code == 200
    with app.app_context(), db.connection_context():
        assert response.data == DeliveryRequest.get_by_id(request_id).payload.encode()


def test_school_unknown_is_404(client, helpdesk):
    assert client.get("/helpdesk/scholen/99999").status_code == 404


def test_board_page_and_partial(client, helpdesk, app):
    url = f"/helpdesk/besturen/{board_id(app, '41234')}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Stichting Openbaar Onderwijs Rivierenland" in page.text
    assert "Praktijkschool De Brug" in page.text
    assert "CBS Het Anker" not in page.text

    partial = client.get(url, headers=HTMX)
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<section id="helpdesk-bestuur">')


def test_board_unknown_is_404(client, helpdesk):
    assert client.get("/helpdesk/besturen/99999").status_code == 404


def test_deliveries_page_and_partial(client, helpdesk, app):
    add_request(app, "15KU00", "given_up")
    add_request(app, "04XY00", "approved")
    page = client.get("/helpdesk/leveringen")
    assert page.status_code == 200
    assert "Leveringen per leverdatum" in page.text
    assert "1 april 2018" in page.text

    partial = client.get("/helpdesk/leveringen?leverdatum=2018-04-01", headers=HTMX)
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<section id="helpdesk-leveringen">')
    assert "OBS De Regenboog</a> (15KU00)" in partial.text
    assert "CBS Het Anker</a> (04XY00)" in partial.text
    # Failed deliveries come first.
    assert partial.text.index("15KU00") < partial.text.index("04XY00")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1-4-2018", "Deze leverdatum is ongeldig."),
        ("2018-04-02", "Op 2 april 2018 wordt in schooljaar 2017-2018 niet geleverd."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_deliveries_bad_date_rejected(client, helpdesk, value, message, headers):
    response = client.get(f"/helpdesk/leveringen?leverdatum={value}", headers=headers)
    assert response.status_code == 422
    assert message in response.text
    assert ("<html" in response.text) == (not headers)


def test_deliveries_unknown_year_is_404(client, helpdesk):
    assert client.get("/helpdesk/leveringen?schooljaar=1999-2000").status_code == 404


# --- re-queue -------------------------------------------------------------------------


@pytest.mark.parametrize("failed_status", ["retrying", "given_up"])
def test_requeue_failed_delivery(client, helpdesk, app, failed_status):
    request_id = add_request(app, "15KU00", failed_status)
    school = school_id(app, "15KU00")
    response = client.post(
        f"/helpdesk/aanvragen/{request_id}/opnieuw-inplannen",
        data={f"q{request_id}-note": "Ontvanger was onbereikbaar, nu hersteld."},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/helpdesk/scholen/{school}"
    assert status_of(app, request_id) == "approved"

    change = history_of(app, request_id)[-1]
    assert (change.from_status, change.to_status) == (failed_status, "approved")
    assert change.reason == "Ontvanger was onbereikbaar, nu hersteld."
    with app.app_context(), db.connection_context():
        assert change.changed_by.email == "helpdesk@demo.test"
        event = AuditEvent.get(AuditEvent.action == "delivery.requeued")
        assert event.object_id == request_id
        assert event.details["from_status"] == failed_status

    page = client.get(response.headers["Location"]).text
    assert "is opnieuw ingepland" in page


def test_requeue_htmx_follows_to_partial(client, helpdesk, app):
    request_id = add_request(app, "15KU00")
    response = client.post(
        f"/helpdesk/aanvragen/{request_id}/opnieuw-inplannen",
        headers=HTMX,
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "is opnieuw ingepland" in response.text
    assert history_of(app, request_id)[-1].reason == "opnieuw ingepland door de helpdesk"


def test_requeue_returns_to_delivery_date(client, helpdesk, app):
    request_id = add_request(app, "15KU00")
    response = client.post(
        f"/helpdesk/aanvragen/{request_id}/opnieuw-inplannen",
        data={f"q{request_id}-back_to": "leverdatum"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/helpdesk/leveringen?schooljaar=2017-2018&leverdatum=2018-04-01"
    )


@pytest.mark.parametrize("status", ["submitted", "approved", "delivering", "delivered"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_requeue_not_failed_refused(client, helpdesk, app, status, headers):
    request_id = add_request(app, "15KU00", status)
    before = len(history_of(app, request_id))
    response = client.post(f"/helpdesk/aanvragen/{request_id}/opnieuw-inplannen", headers=headers)
    assert response.status_code == 409
    assert "Deze levering is niet mislukt" in response.text
    assert status_of(app, request_id) == status
    assert len(history_of(app, request_id)) == before
    assert ("<html" in response.text) == (not headers)


@pytest.mark.parametrize("back_to", ["school", "leverdatum"])
def test_requeue_note_too_long_rejected(client, helpdesk, app, back_to):
    request_id = add_request(app, "15KU00")
    response = client.post(
        f"/helpdesk/aanvragen/{request_id}/opnieuw-inplannen",
        data={f"q{request_id}-note": "x" * 501, f"q{request_id}-back_to": back_to},
    )
    assert response.status_code == 422
    assert "Gebruik hoogstens 500 tekens." in response.text
    assert status_of(app, request_id) == "given_up"


def test_requeue_unknown_request_is_404(client, helpdesk):
    assert client.post("/helpdesk/aanvragen/99999/opnieuw-inplannen").status_code == 404


def test_requeue_stale_status_refused(app_context):
    school = School.get((School.brin == "15KU") & (School.vestiging == "00"))
    year = SchoolYear.get(SchoolYear.name == "2017-2018")
    request = submit_request(
        school,
        year,
        school_instrument([school], year),
        date(2018, 4, 1),
        ANSWERS,
        User.get(User.email == "school@demo.test"),
        DEFAULT_TODAY,
        10,
    )
    DeliveryRequest.update(status="given_up").where(DeliveryRequest.id == request.id).execute()
    stale = DeliveryRequest.get_by_id(request.id)
    # Another support member re-queued it after this one loaded the page.
    DeliveryRequest.update(status="approved").where(DeliveryRequest.id == request.id).execute()

    with pytest.raises(DeliveryRefused) as refused:
        requeue_delivery(stale, User.get(User.email == "helpdesk@demo.test"))
    assert refused.value.code == "status_changed"
    assert not AuditEvent.select().where(AuditEvent.action == "delivery.requeued").exists()


# --- access -------------------------------------------------------------------------


def test_admin_has_access(client, auth, app):
    auth.login("beheer@demo.test")
    assert client.get("/helpdesk/?q=regenboog").status_code == 200
    assert client.get(f"/helpdesk/scholen/{school_id(app, '04XY00')}").status_code == 200


def test_nav_link_for_support_only(client, auth):
    auth.login("helpdesk@demo.test")
    assert 'href="/helpdesk/"' in client.get("/managementvenster").text
    auth.logout()
    auth.login("school@demo.test")
    assert 'href="/helpdesk/"' not in client.get("/managementvenster").text


@pytest.mark.parametrize("email", ["school@demo.test", "bestuur@demo.test"])
def test_support_pages_404_for_other_roles(client, auth, app, email):
    request_id = add_request(app, "15KU00")
    auth.login(email)
    for path in (
        "/helpdesk/",
        "/helpdesk/?q=regenboog",
        f"/helpdesk/scholen/{school_id(app, '15KU00')}",
        f"/helpdesk/besturen/{board_id(app, '41234')}",
        "/helpdesk/leveringen",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(f"/helpdesk/aanvragen/{request_id}/opnieuw-inplannen")
    assert response.status_code == 404
    assert status_of(app, request_id) == "given_up"


def test_support_pages_require_login(client):
    response = client.get("/helpdesk/")
    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]
