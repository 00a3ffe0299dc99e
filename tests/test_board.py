"""The board overview: states, risk, filters, bulk decisions, direct consent and the CSV."""

import re
from datetime import UTC, date, datetime

import pytest

from portal.domain.board import Risk, State, assess_risks
from portal.domain.delivery import submit_request
from portal.domain.payload import DeliveryAnswers
from portal.domain.report import school_instrument
from portal.models import (
    AuditEvent,
    Board,
    DeliveryRequest,
    DeliveryStatusChange,
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

# 1 June 2018, 00:30 in Amsterdam: the UTC date is still 31 May.
DELIVERED_AT = datetime(2018, 5, 31, 22, 30, tzinfo=UTC)

CONSENT = {
    "toestemming-consent": "y",
    "toestemming-leverdatum": "2018-05-01",
    "toestemming-level": "vestiging",
    "toestemming-representative": "ja",
    "toestemming-representative_explanation": "",
    "toestemming-consent_name": "Mr. J. de Boer",
    "toestemming-consent_function": "voorzitter college van bestuur",
    "toestemming-consent_date": "01-03-2018",
    "toestemming-contact_name": "Bram Jansen",
    "toestemming-contact_email": "b.jansen@rivierenland.example",
    "toestemming-contact_phone": "",
}


def add_request(app, code: str, status: str = "submitted", leverdatum=date(2018, 4, 1), **fields):
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
        if status != "submitted" or fields:
            DeliveryRequest.update(status=status, **fields).where(
                DeliveryRequest.id == request.id
            ).execute()
        return request.id


def add_school_without_data(app, name: str = "OBS Het Nieuwe Begin") -> int:
    with app.app_context(), db.connection_context():
        return School.create(
            board=Board.get(Board.number == "41234"),
            brin="31NB",
            vestiging="00",
            name=name,
            place="Tiel",
            sector="PO",
            onderwijssoort="bo",
        ).id


def status_of(app, request_id: int) -> str:
    with app.app_context(), db.connection_context():
        return DeliveryRequest.get_by_id(request_id).status


def request_count(app) -> int:
    with app.app_context(), db.connection_context():
        return DeliveryRequest.select().count()


def with_own_id(value, own: str):
    """Replace the placeholder "OWN" in a form value, or in a list of them, by ``own``."""
    if isinstance(value, list):
        return [own if item == "OWN" else item for item in value]
    return own if value == "OWN" else value


def schools_table(html: str) -> str:
    """Return the markup of the table of all schools, without the bulk forms below it."""
    start = html.index('<div id="scholen">')
    return html[start : html.index("</table>", start)]


def row_states(html: str) -> dict[str, str]:
    """Return the data-state of each row of the schools table by location code."""
    rows = re.findall(r'data-state="(\w+)">\s*<th scope="row">.*?\((\w{6})\)</th>', html, re.S)
    return {code: state for state, code in rows}


@pytest.fixture
def secretary(auth):
    auth.login("bestuur@demo.test")


# --- the overview ---------------------------------------------------------------


def test_overview_page_and_partial(client, secretary):
    page = client.get("/bestuur/")
    assert page.status_code == 200
    assert "<html" in page.text
    assert "Leveringen van het bestuur" in page.text
    assert "HX-Request" in page.headers["Vary"]

    partial = client.get("/bestuur/", headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith('<section id="bestuur">')


def test_overview_shows_every_state(client, secretary, app):
    add_request(app, "15KU00")
    add_request(app, "21AB00", "approved", date(2018, 5, 1))
    add_request(app, "23PR00", "delivered", date(2018, 6, 1), delivered_at=DELIVERED_AT)
    add_request(app, "15KU01", "given_up")
    add_school_without_data(app)

    page = client.get("/bestuur/").text
    states = row_states(schools_table(page))
    assert states == {
        "15KU00": "waiting",
        "21AB00": "scheduled",
        "23PR00": "delivered",
        "15KU01": "failed",
        "31NB00": "no_data",
    }
    assert "Ingepland op 1 mei 2018." in page
    assert "Geleverd op 1 juni 2018." in page
    assert "Levering mislukt, de helpdesk is ingeschakeld" in page


@pytest.mark.parametrize("status", ["retrying", "given_up"])
def test_overview_counts_retrying_as_failed(client, secretary, app, status):
    add_request(app, "15KU00", status)
    states = row_states(schools_table(client.get("/bestuur/").text))
    assert states["15KU00"] == "failed"


def test_overview_counts_delivering_as_scheduled(client, secretary, app):
    add_request(app, "15KU00", "delivering")
    states = row_states(schools_table(client.get("/bestuur/").text))
    assert states["15KU00"] == "scheduled"


def test_overview_hides_other_boards(client, secretary):
    page = client.get("/bestuur/").text
    assert "OBS De Regenboog" in page
    assert "CBS Het Anker" not in page
    assert "Kustlanden Lyceum" not in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_filter_by_state(client, secretary, app, headers):
    add_request(app, "15KU00")
    add_request(app, "21AB00", "approved", date(2018, 5, 1))
    response = client.get("/bestuur/?stand=wacht", headers=headers)
    assert response.status_code == 200
    assert row_states(schools_table(response.text)) == {"15KU00": "waiting"}
    assert ("<html" in response.text) == (not headers)


def test_filter_no_request(client, secretary, app):
    add_request(app, "15KU00")
    states = row_states(schools_table(client.get("/bestuur/?stand=geen-aanvraag").text))
    assert set(states) == {"15KU01", "21AB00", "23PR00"}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_filter_unknown_value_rejected(client, secretary, headers):
    response = client.get("/bestuur/?stand=alles-kapot", headers=headers)
    assert response.status_code == 422
    assert "Dit filter bestaat niet." in response.text


# --- schools at risk --------------------------------------------------------------


def test_no_risk_with_dates_ahead(client, secretary):
    page = client.get("/bestuur/").text
    assert "Loopt risico:" not in page
    assert "lopen risico" not in page


def test_risk_when_only_last_date_left(client, secretary, app):
    add_request(app, "21AB00", "approved", date(2018, 7, 1))
    app.config["PORTAL_TODAY"] = date(2018, 6, 10)
    page = client.get("/bestuur/").text
    assert "3 scholen lopen risico de laatste leverdatum te missen." in page
    assert "Nog 21 dagen tot de laatste leverdatum (1 juli 2018)." in page

    at_risk = row_states(schools_table(client.get("/bestuur/?stand=risico").text))
    assert set(at_risk) == {"15KU00", "15KU01", "23PR00"}


def test_risk_after_last_date(client, secretary, app):
    app.config["PORTAL_TODAY"] = date(2018, 7, 2)
    page = client.get("/bestuur/").text
    assert "De laatste leverdatum van dit schooljaar (1 juli 2018) is voorbij." in page
    assert "Er is dit schooljaar geen leverdatum meer open." in page


def test_risk_waiting_past_its_date(client, secretary, app):
    add_request(app, "15KU00", leverdatum=date(2018, 4, 1))
    app.config["PORTAL_TODAY"] = date(2018, 4, 2)
    page = client.get("/bestuur/?stand=risico").text
    assert row_states(schools_table(page)) == {"15KU00": "waiting"}
    assert "De leverdatum van de aanvraag (1 april 2018) is verstreken zonder goedkeuring." in page


DATES = [date(2018, 4, 1), date(2018, 5, 1), date(2018, 6, 1), date(2018, 7, 1)]


@pytest.mark.parametrize(
    ("state", "today", "all_dates", "expected"),
    [
        (State.NO_REQUEST, date(2018, 3, 15), DATES, []),
        (State.NO_REQUEST, date(2018, 6, 2), DATES, ["deadline_near"]),
        (State.NO_DATA, date(2018, 7, 1), DATES, ["deadline_passed"]),
        (State.FAILED, date(2018, 7, 2), DATES, ["deadline_passed"]),
        (State.SCHEDULED, date(2018, 6, 20), DATES, []),
        (State.DELIVERED, date(2018, 7, 2), DATES, []),
        # A year with a single leverdatum is at risk only once that date is near.
        (State.NO_REQUEST, date(2019, 3, 1), [date(2019, 7, 1)], []),
        (State.NO_REQUEST, date(2019, 6, 5), [date(2019, 7, 1)], ["deadline_near"]),
        (State.NO_REQUEST, date(2018, 3, 15), [], []),
    ],
)
def test_assess_risks_rules(state, today, all_dates, expected):
    open_dates = [day for day in all_dates if day > today]
    risks = assess_risks(state, None, all_dates, open_dates, today, warning_days=30)
    assert [risk.code for risk in risks] == expected


def test_assess_risks_last_date_only():
    # Only 1 July is left, but a warning period of 14 days has not begun.
    today = date(2018, 6, 2)
    risks = assess_risks(State.NO_REQUEST, None, DATES, [DATES[-1]], today, warning_days=14)
    assert risks == [Risk("last_date_only", {"last": date(2018, 7, 1)})]


def test_assess_risks_names_days_left():
    risks = assess_risks(State.WAITING, None, DATES, [DATES[-1]], date(2018, 6, 21), 30)
    assert risks == [Risk("deadline_near", {"last": date(2018, 7, 1), "days": 10})]


# --- bulk approve and reject -----------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_bulk_approve(client, secretary, app, headers):
    first = add_request(app, "15KU00")
    second = add_request(app, "21AB00", leverdatum=date(2018, 5, 1))
    response = client.post(
        "/bestuur/aanvragen",
        data={"besluit-request_ids": [str(first), str(second)], "besluit-action": "goedkeuren"},
        headers=headers,
    )
    assert response.status_code == 200
    assert "2 van 2 scholen verwerkt." in response.text
    assert response.text.count("gelukt.") == 2
    assert "Goedgekeurd, de levering is ingepland op 1 mei 2018." in response.text
    assert ("<html" in response.text) == (not headers)
    assert status_of(app, first) == "approved"
    assert status_of(app, second) == "approved"
    with app.app_context(), db.connection_context():
        history = DeliveryStatusChange.select().where(DeliveryStatusChange.request == first)
        assert [change.to_status for change in history] == ["submitted", "approved"]


def test_bulk_approve_partial_success(client, secretary, app):
    first = add_request(app, "15KU00")
    second = add_request(app, "21AB00")
    # Another secretary approved the second request after this page was loaded.
    with app.app_context(), db.connection_context():
        DeliveryRequest.update(status="approved").where(DeliveryRequest.id == second).execute()

    response = client.post(
        "/bestuur/aanvragen",
        data={"besluit-request_ids": [str(first), str(second)], "besluit-action": "goedkeuren"},
    )
    assert response.status_code == 200
    assert "1 van 2 scholen verwerkt." in response.text
    assert "Rivierenland College (21AB00)</strong>:" in response.text
    assert "niet gelukt." in response.text
    assert "Deze aanvraag is intussen gewijzigd." in response.text
    assert status_of(app, first) == "approved"


def test_bulk_approve_nothing_succeeds(client, secretary, app):
    request_id = add_request(app, "15KU00", "approved")
    response = client.post(
        "/bestuur/aanvragen",
        data={"besluit-request_ids": [str(request_id)], "besluit-action": "goedkeuren"},
    )
    assert response.status_code == 409
    assert "0 van 1 school verwerkt." in response.text


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_bulk_reject_with_one_reason(client, secretary, app, headers):
    first = add_request(app, "15KU00")
    second = add_request(app, "21AB00")
    response = client.post(
        "/bestuur/aanvragen",
        data={
            "besluit-request_ids": [str(first), str(second)],
            "besluit-action": "afwijzen",
            "besluit-reason": "  Het bestuur heeft nog niet vergaderd.  ",
        },
        headers=headers,
    )
    assert response.status_code == 200
    assert "Afgewezen. De school ziet de reden." in response.text
    with app.app_context(), db.connection_context():
        for request_id in (first, second):
            request = DeliveryRequest.get_by_id(request_id)
            assert request.status == "rejected"
            assert request.rejection_reason == "Het bestuur heeft nog niet vergaderd."


BULK_BAD_INPUT = [
    ({"besluit-action": "goedkeuren"}, "Kies ten minste één aanvraag."),
    ({"besluit-action": "afwijzen", "besluit-reason": "reden"}, "Kies ten minste één aanvraag."),
    ({"besluit-request_ids": "OWN", "besluit-action": "afwijzen"}, "Vul de reden van afwijzing in"),
    (
        {"besluit-request_ids": "OWN", "besluit-action": "afwijzen", "besluit-reason": "   "},
        "Vul de reden van afwijzing in",
    ),
    ({"besluit-request_ids": "OWN", "besluit-action": "wissen"}, "Kies goedkeuren of afwijzen."),
    (
        {"besluit-request_ids": ["OWN", "12abc"], "besluit-action": "goedkeuren"},
        "De keuze is ongeldig.",
    ),
    (
        {"besluit-request_ids": "OWN", "besluit-action": "afwijzen", "besluit-reason": "x" * 2001},
        "Gebruik hoogstens 2000 tekens.",
    ),
]


@pytest.mark.parametrize(("data", "message"), BULK_BAD_INPUT)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_bulk_bad_input_rejected(client, secretary, app, data, message, headers):
    own = str(add_request(app, "15KU00"))
    data = {key: with_own_id(value, own) for key, value in data.items()}
    response = client.post("/bestuur/aanvragen", data=data, headers=headers)
    assert response.status_code == 422
    assert message in response.text
    assert status_of(app, int(own)) == "submitted"
    assert ("<html" in response.text) == (not headers)


def test_bulk_other_boards_request_is_404(client, auth, app):
    own = add_request(app, "15KU00")
    with app.app_context(), db.connection_context():
        school = School.get((School.brin == "04XY") & (School.vestiging == "00"))
        year = SchoolYear.get(SchoolYear.name == "2017-2018")
        other = submit_request(
            school,
            year,
            school_instrument([school], year),
            date(2018, 4, 1),
            ANSWERS,
            User.get(User.email == "school2@demo.test"),
            DEFAULT_TODAY,
            10,
        ).id
    auth.login("bestuur@demo.test")
    response = client.post(
        "/bestuur/aanvragen",
        data={"besluit-request_ids": [str(own), str(other)], "besluit-action": "goedkeuren"},
    )
    assert response.status_code == 404
    assert status_of(app, own) == "submitted"
    assert status_of(app, other) == "submitted"


def test_bulk_unknown_request_is_404(client, secretary, app):
    own = add_request(app, "15KU00")
    response = client.post(
        "/bestuur/aanvragen",
        data={"besluit-request_ids": [str(own), "99999"], "besluit-action": "goedkeuren"},
    )
    assert response.status_code == 404
    assert status_of(app, own) == "submitted"


def test_single_reject_without_reason_shows_message(client, secretary, app):
    request_id = add_request(app, "15KU00")
    response = client.post(f"/bestuur/aanvragen/{request_id}/afwijzen", data={})
    assert response.status_code == 422
    assert "Vul de reden van afwijzing in" in response.text
    assert f'value="{request_id}" checked' in response.text


# --- direct consent ---------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_consent_creates_approved_requests(client, secretary, app, headers):
    schools = [school_id(app, "15KU00"), school_id(app, "21AB00")]
    response = client.post(
        "/bestuur/toestemming",
        data={**CONSENT, "toestemming-school_ids": [str(s) for s in schools]},
        headers=headers,
    )
    assert response.status_code == 200
    assert "2 van 2 scholen verwerkt." in response.text
    assert "Toestemming gegeven, de levering is ingepland op 1 mei 2018." in response.text
    assert ("<html" in response.text) == (not headers)
    with app.app_context(), db.connection_context():
        requests = list(DeliveryRequest.select().order_by(DeliveryRequest.id))
        assert [r.school_id for r in requests] == schools
        for request in requests:
            assert request.status == "approved"
            assert request.leverdatum == date(2018, 5, 1)
            assert request.created_by.email == "bestuur@demo.test"
            assert request.decided_by.email == "bestuur@demo.test"
            history = request.history.order_by(DeliveryStatusChange.id)
            assert [change.to_status for change in history] == ["submitted", "approved"]
        assert requests[0].groups == "groep 6, groep 7, groep 8"
        assert requests[1].groups == "leerjaar 1, leerjaar 2, leerjaar 3, leerjaar 4"
        actions = {event.action for event in AuditEvent.select()}
        assert {"delivery.submitted", "delivery.approved"} <= actions


def test_consent_reports_per_school(client, secretary, app):
    regenboog = school_id(app, "15KU00")
    prozo = school_id(app, "23PR00")
    response = client.post(
        "/bestuur/toestemming",
        data={
            **CONSENT,
            "toestemming-leverdatum": "2018-04-01",
            "toestemming-school_ids": [str(regenboog), str(prozo)],
        },
    )
    assert response.status_code == 200
    assert "1 van 2 scholen verwerkt." in response.text
    assert "Praktijkschool De Brug (23PR00)</strong>:" in response.text
    assert "Op 1 april 2018 wordt niet geleverd." in response.text
    with app.app_context(), db.connection_context():
        assert [r.school_id for r in DeliveryRequest.select()] == [regenboog]


def test_consent_school_with_request_reported(client, secretary, app):
    add_request(app, "15KU00")
    response = client.post(
        "/bestuur/toestemming",
        data={**CONSENT, "toestemming-school_ids": [str(school_id(app, "15KU00"))]},
    )
    assert response.status_code == 409
    assert "al een aanvraag ingediend" in response.text
    assert request_count(app) == 1


def test_consent_school_without_data_reported(client, secretary, app):
    school = add_school_without_data(app)
    response = client.post(
        "/bestuur/toestemming", data={**CONSENT, "toestemming-school_ids": [str(school)]}
    )
    assert response.status_code == 409
    assert "nog geen gegevens van dit schooljaar" in response.text
    assert request_count(app) == 0


CONSENT_BAD_INPUT = [
    ({"toestemming-school_ids": []}, "Kies ten minste één school."),
    ({"toestemming-school_ids": ["OWN", "x1"]}, "De keuze is ongeldig."),
    ({"toestemming-leverdatum": "2018-04-02"}, "Op deze datum wordt niet geleverd."),
    ({"toestemming-leverdatum": "2018-03-01"}, "ligt niet in de toekomst"),
    ({"toestemming-leverdatum": ""}, "Kies een leverdatum."),
    ({"toestemming-consent": ""}, "Vink aan dat het bevoegd gezag toestemming geeft."),
    ({"toestemming-representative": "nee"}, "Leg uit waarom de steekproef niet representatief is."),
    ({"toestemming-consent_name": ""}, "Vul de naam in van wie toestemming gaf."),
    ({"toestemming-contact_email": "geen-adres"}, "Vul een geldig e-mailadres in"),
]


@pytest.mark.parametrize(("changes", "message"), CONSENT_BAD_INPUT)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_consent_bad_input_rejected(client, secretary, app, changes, message, headers):
    own = str(school_id(app, "15KU00"))
    data = {**CONSENT, "toestemming-school_ids": [own]}
    for key, value in changes.items():
        data[key] = with_own_id(value, own)
    response = client.post("/bestuur/toestemming", data=data, headers=headers)
    assert response.status_code == 422
    assert message in response.text
    assert request_count(app) == 0
    assert ("<html" in response.text) == (not headers)


def test_consent_other_boards_school_is_404(client, secretary, app):
    own = school_id(app, "15KU00")
    other = school_id(app, "04XY00")
    response = client.post(
        "/bestuur/toestemming",
        data={**CONSENT, "toestemming-school_ids": [str(own), str(other)]},
    )
    assert response.status_code == 404
    assert request_count(app) == 0


# --- CSV ------------------------------------------------------------------------------


def csv_lines(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return [line.split(";") for line in text[1:].split("\r\n") if line]


def test_csv_download(client, secretary, app):
    add_request(app, "21AB00", "approved", date(2018, 5, 1))
    response = client.get("/bestuur/overzicht.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="leveringen-41234-2017-2018.csv"' in response.headers["Content-Disposition"]
    lines = csv_lines(response)
    assert lines[0] == [
        "School",
        "Locatiecode",
        "Plaats",
        "Stand",
        "Leverdatum",
        "Geleverd op",
        "Loopt risico",
        "Toelichting",
    ]
    rows = {line[1]: line for line in lines[1:]}
    assert set(rows) == {"15KU00", "15KU01", "21AB00", "23PR00"}
    assert rows["21AB00"][3:7] == ["Ingepland", "01-05-2018", "", "nee"]


def test_csv_follows_filter(client, secretary, app):
    add_request(app, "21AB00", "approved", date(2018, 5, 1))
    lines = csv_lines(client.get("/bestuur/overzicht.csv?stand=ingepland"))
    assert [line[1] for line in lines[1:]] == ["21AB00"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_guards_formula_cells(client, secretary, app, start):
    name = f'{start}HYPERLINK("http://example.invalid")'
    with app.app_context(), db.connection_context():
        School.update(name=name).where(School.brin == "21AB").execute()
    data = client.get("/bestuur/overzicht.csv").data.decode("utf-8")
    assert f"'{start}HYPERLINK" in data
    for line in data.split("\r\n"):
        cell = line.lstrip('"')
        assert not cell.startswith(("=", "+", "-", "@", "\t"))


def test_csv_unknown_filter_rejected(client, secretary):
    response = client.get("/bestuur/overzicht.csv?stand=zomaar")
    assert response.status_code == 422
    assert "Dit filter bestaat niet." in response.text


# --- access -------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["school@demo.test", "helpdesk@demo.test", "beheer@demo.test"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/bestuur/"),
        ("get", "/bestuur/overzicht.csv"),
        ("post", "/bestuur/aanvragen"),
        ("post", "/bestuur/toestemming"),
    ],
)
def test_board_pages_404_for_other_roles(client, auth, app, email, method, path):
    request_id = add_request(app, "15KU00")
    auth.login(email)
    data = {"besluit-request_ids": [str(request_id)], "besluit-action": "goedkeuren"}
    response = getattr(client, method)(path, data=data if method == "post" else None)
    assert response.status_code == 404
    assert status_of(app, request_id) == "submitted"


def test_board_pages_require_login(client):
    response = client.get("/bestuur/overzicht.csv")
    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]


@pytest.mark.parametrize("value", ["²", "abc", "99999999999999999999999"])
def test_bulk_odd_id_gets_dutch_message(client, auth, value):
    auth.login("bestuur@demo.test")
    response = client.post(
        "/bestuur/aanvragen",
        data={"besluit-request_ids": value, "besluit-action": "goedkeuren"},
    )
    assert response.status_code == 422
    assert "De keuze is ongeldig" in response.text
    assert "invalid literal" not in response.text
