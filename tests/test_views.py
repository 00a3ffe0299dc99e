"""Pages and forms through the test client: both renders, access rules and bad input."""

import io
import json
from datetime import date

import pytest

from portal.models import AuditEvent, DeliveryRequest, DeliveryStatusChange, db

from .conftest import HTMX, school_id

FORM = {
    "consent": "y",
    "leverdatum": "2018-04-01",
    "level": "vestiging",
    "groups": "groep 6, 7 en 8",
    "representative": "ja",
    "representative_explanation": "",
    "consent_name": "Mr. J. de Boer",
    "consent_function": "voorzitter college van bestuur",
    "consent_date": "01-03-2018",
    "contact_name": "Sanne de Vries",
    "contact_email": "s.devries@regenboog.example",
    "contact_phone": "0344 123456",
}


def count(app, model, *where):
    with app.app_context(), db.connection_context():
        query = model.select()
        for condition in where:
            query = query.where(condition)
        return query.count()


def submit(client, school: int, **changes):
    data = {**FORM, "action": "submit", **changes}
    return client.post(f"/scholen/{school}/levering", data=data)


# --- logging in -------------------------------------------------------------


def test_login_wrong_password_rejected(client):
    response = client.post("/inloggen", data={"email": "school@demo.test", "password": "fout"})
    assert response.status_code == 422
    assert "horen niet bij elkaar" in response.text


def test_login_empty_form_names_fields(client):
    response = client.post("/inloggen", data={})
    assert response.status_code == 422
    assert "Vul uw e-mailadres in." in response.text
    assert "Vul uw wachtwoord in." in response.text


def test_login_ignores_offsite_next(client):
    response = client.post(
        "/inloggen?next=https://example.org/",
        data={"email": "school@demo.test", "password": "demo-wachtwoord"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/managementvenster"


def test_pages_require_login(client, app):
    response = client.get(f"/scholen/{school_id(app, '15KU00')}/monitoring-sociale-veiligheid")
    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]


def test_logout_ends_session(client, auth):
    auth.login("school@demo.test")
    assert auth.logout().status_code == 303
    assert client.get("/managementvenster").status_code == 302


# --- ManagementVenster and report --------------------------------------------


def test_venster_shows_own_schools_only(client, auth):
    auth.login("school@demo.test")
    page = client.get("/managementvenster").text
    assert "OBS De Regenboog" in page
    assert "Rivierenland College" in page
    assert "Praktijkschool De Brug" in page
    assert "CBS Het Anker" not in page
    assert "locatie Oost" not in page


def test_report_page_and_partial(client, auth, app):
    auth.login("school@demo.test")
    url = f"/scholen/{school_id(app, '15KU00')}/monitoring-sociale-veiligheid"

    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.text
    assert 'data-scale="veiligheidsbeleving"' in page.text
    assert "HX-Request" in page.headers["Vary"]

    partial = client.get(url + "?schooljaar=2016-2017", headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert 'id="rapport"' in partial.text
    assert "2016-2017" in partial.text


def test_report_suppresses_small_group(client, auth, app):
    auth.login("bestuur@demo.test")
    page = client.get(f"/scholen/{school_id(app, '15KU01')}/monitoring-sociale-veiligheid").text
    assert "minder dan 10 respondenten" in page


def test_report_unknown_year_is_404(client, auth, app):
    auth.login("school@demo.test")
    url = f"/scholen/{school_id(app, '15KU00')}/monitoring-sociale-veiligheid?schooljaar=1999-2000"
    response = client.get(url)
    assert response.status_code == 404
    assert "bestaat niet" in response.text


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("school@demo.test", "04XY00"),  # school of the other board
        ("school@demo.test", "15KU01"),  # same board, not linked to this account
        ("bestuur@demo.test", "27VM00"),  # other board
    ],
)
@pytest.mark.parametrize(
    "path",
    ["/monitoring-sociale-veiligheid", "/levering"],
)
def test_other_school_is_404(client, auth, app, email, code, path):
    auth.login(email)
    response = client.get(f"/scholen/{school_id(app, code)}{path}")
    assert response.status_code == 404


def test_other_school_post_is_404_and_changes_nothing(client, auth, app):
    auth.login("school@demo.test")
    other = school_id(app, "04XY00")
    assert submit(client, other).status_code == 404
    assert count(app, DeliveryRequest) == 0


def test_board_page_is_404_for_school_staff(client, auth):
    auth.login("school@demo.test")
    assert client.get("/bestuur/").status_code == 404


# --- delivery request --------------------------------------------------------


def test_delivery_form_offers_open_dates(client, auth, app):
    auth.login("school@demo.test")
    page = client.get(f"/scholen/{school_id(app, '15KU00')}/levering").text
    for day in ("2018-04-01", "2018-05-01", "2018-06-01", "2018-07-01"):
        assert f'value="{day}"' in page


def test_delivery_form_prozo_offers_june_on(client, auth, app):
    auth.login("school@demo.test")
    page = client.get(f"/scholen/{school_id(app, '23PR00')}/levering").text
    assert 'value="2018-04-01"' not in page
    assert 'value="2018-06-01"' in page
    assert 'value="2018-07-01"' in page


def test_delivery_preview_shows_payload(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = client.post(f"/scholen/{school}/levering", data={**FORM, "action": "preview"})
    assert response.status_code == 200
    assert "Dit wordt verstuurd" in response.text
    assert "&#34;brin&#34;: &#34;15KU&#34;" in response.text
    assert count(app, DeliveryRequest) == 0


def test_delivery_preview_htmx_returns_partial(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = client.post(
        f"/scholen/{school}/levering", data={**FORM, "action": "preview"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="levering">')


def test_delivery_download_equals_stored_payload(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    preview = client.post(f"/scholen/{school}/levering", data={**FORM, "action": "download"})
    assert preview.headers["Content-Disposition"].startswith("attachment")
    summary = json.loads(preview.data)
    assert summary["brin"] == "15KU"
    assert summary["vestiging"] == "00"
    assert set(summary["scales"]) == {"veiligheidsbeleving", "welbevinden", "aantasting"}

    assert submit(client, school).status_code == 303
    with app.app_context(), db.connection_context():
        stored = DeliveryRequest.get()
        assert stored.payload.encode() == preview.data
        request_id = stored.id
    download = client.get(f"/scholen/{school}/levering/{request_id}/samenvatting.json")
    assert download.data == preview.data


def test_delivery_payload_has_no_pupil_rows(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    preview = client.post(f"/scholen/{school}/levering", data={**FORM, "action": "download"})
    summary = json.loads(preview.data)
    assert "respondents" in summary
    assert isinstance(summary["respondents"], int)
    text = preview.data.decode()
    assert "answers_json" not in text
    assert "taken_on" not in text


def test_delivery_submit_creates_request_and_audit(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = submit(client, school)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "wacht op goedkeuring" in page
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get()
        assert request.status == "submitted"
        assert request.leverdatum == date(2018, 4, 1)
        assert [h.to_status for h in request.history] == ["submitted"]
        assert AuditEvent.select().where(AuditEvent.action == "delivery.submitted").count() == 1


def test_delivery_submit_htmx_follows_to_partial(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = client.post(
        f"/scholen/{school}/levering",
        data={**FORM, "action": "submit"},
        headers=HTMX,
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "wacht op goedkeuring" in response.text


BAD_INPUT = [
    ({"consent": ""}, "Vink aan dat het bevoegd gezag toestemming heeft gegeven."),
    ({"consent": "nee"}, "Vink aan dat het bevoegd gezag toestemming heeft gegeven."),
    ({"leverdatum": "20180401"}, "Deze leverdatum is ongeldig."),
    ({"consent_date": "01-03-0018"}, "Deze datum is te vroeg."),
    ({"leverdatum": ""}, "Kies een leverdatum."),
    ({"leverdatum": "2018-04-02"}, "Op deze datum wordt niet geleverd."),
    ({"leverdatum": "2018-03-01"}, "ligt niet in de toekomst"),
    ({"leverdatum": "1-4-2018"}, "Deze leverdatum is ongeldig."),
    ({"leverdatum": "2019-07-01"}, "Op deze datum wordt niet geleverd."),
    ({"level": "alles"}, "Kies het niveau van verantwoording."),
    ({"groups": "  "}, "Vul in welke groepen of leerjaren hebben meegedaan."),
    ({"representative": ""}, "Geef aan of de steekproef representatief is."),
    ({"representative": "nee"}, "Leg uit waarom de steekproef niet representatief is."),
    ({"consent_name": ""}, "Vul de naam in van wie toestemming gaf."),
    ({"consent_date": "31-02-2018"}, "Vul de datum van de toestemming in"),
    ({"consent_date": "01-01-2019"}, "kan niet in de toekomst liggen"),
    ({"contact_email": "geen-adres"}, "Vul een geldig e-mailadres in"),
    ({"groups": "x" * 301}, "Gebruik hoogstens 300 tekens."),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_delivery_bad_input_rejected(client, auth, app, changes, message, headers):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = client.post(
        f"/scholen/{school}/levering", data={**FORM, "action": "submit", **changes}, headers=headers
    )
    assert response.status_code == 422
    assert message in response.text
    assert count(app, DeliveryRequest) == 0
    assert ("<html" in response.text) == (not headers)


def test_delivery_second_request_rejected(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    assert submit(client, school).status_code == 303
    response = submit(client, school, leverdatum="2018-05-01")
    assert response.status_code == 422 or "Stand van de levering" in response.text
    assert count(app, DeliveryRequest) == 1


def test_delivery_closed_year_refused(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    page = client.get(f"/scholen/{school}/levering?schooljaar=2016-2017")
    assert page.status_code == 200
    assert "kunnen niet meer via het portaal worden geleverd" in page.text
    assert 'name="consent"' not in page.text

    response = submit(client, school, schooljaar="2016-2017", leverdatum="2017-07-01")
    assert response.status_code == 422
    assert "Neem contact op met de Inspectie" in response.text
    assert count(app, DeliveryRequest) == 0


def test_delivery_after_last_date_refused(client, auth, app, config):
    app.config["PORTAL_TODAY"] = date(2018, 7, 2)
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    page = client.get(f"/scholen/{school}/levering")
    assert "De laatste leverdatum van schooljaar 2017-2018" in page.text
    response = submit(client, school, leverdatum="2018-07-01")
    assert response.status_code == 422
    assert count(app, DeliveryRequest) == 0


def test_delivery_unknown_year_is_404(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    assert client.get(f"/scholen/{school}/levering?schooljaar=abc").status_code == 404


def test_support_cannot_submit(client, auth, app):
    auth.login("helpdesk@demo.test")
    school = school_id(app, "15KU00")
    assert client.get(f"/scholen/{school}/levering").status_code == 200
    assert submit(client, school).status_code == 404
    assert count(app, DeliveryRequest) == 0


def _approve_as_board(client, auth, request_id: int) -> None:
    auth.logout()
    auth.login("bestuur@demo.test")
    assert client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren").status_code == 303
    auth.logout()
    auth.login("school@demo.test")


def test_withdraw_until_day_before(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    submit(client, school)
    with app.app_context(), db.connection_context():
        request_id = DeliveryRequest.get().id
    _approve_as_board(client, auth, request_id)

    app.config["PORTAL_TODAY"] = date(2018, 4, 1)
    response = client.post(f"/scholen/{school}/levering/{request_id}/intrekken")
    assert response.status_code == 422
    assert "tot de dag vóór" in response.text

    app.config["PORTAL_TODAY"] = date(2018, 3, 31)
    response = client.post(f"/scholen/{school}/levering/{request_id}/intrekken")
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).status == "withdrawn"


def test_withdrawn_request_allows_new_one(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    submit(client, school)
    with app.app_context(), db.connection_context():
        request_id = DeliveryRequest.get().id
    client.post(f"/scholen/{school}/levering/{request_id}/intrekken")
    assert submit(client, school, leverdatum="2018-05-01").status_code == 303
    assert count(app, DeliveryRequest, DeliveryRequest.status == "submitted") == 1


def test_payload_of_other_school_is_404(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    submit(client, school)
    with app.app_context(), db.connection_context():
        request_id = DeliveryRequest.get().id
    auth.logout()
    auth.login("school2@demo.test")
    other = school_id(app, "04XY00")
    assert (
        client.get(f"/scholen/{school}/levering/{request_id}/samenvatting.json").status_code == 404
    )
    assert (
        client.get(f"/scholen/{other}/levering/{request_id}/samenvatting.json").status_code == 404
    )


# --- board ---------------------------------------------------------------------


def _submitted_request(client, auth, app) -> int:
    auth.login("school@demo.test")
    submit(client, school_id(app, "15KU00"))
    auth.logout()
    with app.app_context(), db.connection_context():
        return DeliveryRequest.get().id


def test_board_overview_lists_waiting(client, auth, app):
    _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    page = client.get("/bestuur/")
    assert page.status_code == 200
    assert "Wachten op goedkeuring" in page.text
    assert "OBS De Regenboog (15KU00)" in page.text
    partial = client.get("/bestuur/", headers=HTMX)
    assert partial.text.lstrip().startswith('<section id="bestuur">')


def test_board_approves_request(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    response = client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren")
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        assert request.status == "approved"
        assert request.decided_by.email == "bestuur@demo.test"
        history = [h.to_status for h in request.history.order_by(DeliveryStatusChange.id)]
        assert history == ["submitted", "approved"]


def test_board_approve_htmx_returns_partial(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    response = client.post(
        f"/bestuur/aanvragen/{request_id}/goedkeuren", headers=HTMX, follow_redirects=True
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "is goedgekeurd" in response.text


def test_board_approve_twice_refused(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren")
    response = client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren")
    assert response.status_code == 409
    assert "intussen gewijzigd" in response.text
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).history.count() == 2


def test_board_reject_needs_reason(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    response = client.post(f"/bestuur/aanvragen/{request_id}/afwijzen", data={})
    assert response.status_code == 422
    assert "Vul de reden van afwijzing in" in response.text
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).status == "submitted"


def test_board_rejects_with_reason(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    response = client.post(
        f"/bestuur/aanvragen/{request_id}/afwijzen",
        data={f"r{request_id}-reason": "Toestemming is niet door het bestuur gegeven."},
    )
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        assert request.status == "rejected"
        assert request.rejection_reason == "Toestemming is niet door het bestuur gegeven."


def test_school_sees_rejection_reason(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur@demo.test")
    client.post(
        f"/bestuur/aanvragen/{request_id}/afwijzen",
        data={f"r{request_id}-reason": "Toestemming ontbreekt nog."},
    )
    auth.logout()
    auth.login("school@demo.test")
    page = client.get(f"/scholen/{school_id(app, '15KU00')}/levering").text
    assert "is afgewezen door het bevoegd gezag" in page
    assert "Toestemming ontbreekt nog." in page
    assert 'name="consent"' in page


def test_other_board_cannot_approve(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    auth.login("bestuur2@demo.test")
    assert client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren").status_code == 404
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).status == "submitted"


def test_board_cannot_approve_on_leverdatum(client, auth, app):
    request_id = _submitted_request(client, auth, app)
    app.config["PORTAL_TODAY"] = date(2018, 4, 1)
    auth.login("bestuur@demo.test")
    response = client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren")
    assert response.status_code == 409
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).status == "submitted"


# --- errors and health -------------------------------------------------------------


def test_unknown_url_dutch_404(client):
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in response.text


def test_non_numeric_school_id_is_404(client, auth):
    auth.login("school@demo.test")
    assert client.get("/scholen/abc/levering").status_code == 404


def test_csrf_missing_token_rejected(config, redis, auth):
    from portal import create_app

    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    page = client.get("/inloggen")
    assert page.status_code == 200
    response = client.post("/inloggen", data={"email": "school@demo.test", "password": "x"})
    assert response.status_code == 400
    assert "Het formulier is verlopen of ongeldig" in response.text


def test_healthz_reports_parts(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    # No worker runs in this test, so the portal is degraded.
    assert body["checks"]["workers"]["ok"] is False
    assert response.status_code == 503


# --- changing a request ------------------------------------------------------------


def _change_url(client, auth, app) -> tuple[str, int]:
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    submit(client, school)
    with app.app_context(), db.connection_context():
        request_id = DeliveryRequest.get().id
    return f"/scholen/{school}/levering/{request_id}/wijzigen", request_id


def test_change_form_prefilled(client, auth, app):
    url, _request_id = _change_url(client, auth, app)
    page = client.get(url)
    assert page.status_code == 200
    assert "Aanvraag wijzigen" in page.text
    assert 'value="Mr. J. de Boer"' in page.text
    assert '<option selected value="2018-04-01">' in page.text


def test_change_after_approval_needs_board_again(client, auth, app):
    url, request_id = _change_url(client, auth, app)
    auth.logout()
    auth.login("bestuur@demo.test")
    client.post(f"/bestuur/aanvragen/{request_id}/goedkeuren")
    auth.logout()
    auth.login("school@demo.test")

    response = client.post(url, data={**FORM, "leverdatum": "2018-05-01", "action": "submit"})
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        assert request.status == "submitted"
        assert request.leverdatum == date(2018, 5, 1)
        assert request.decided_by is None


def test_change_by_secretary_approves_at_once(client, auth, app):
    url, request_id = _change_url(client, auth, app)
    auth.logout()
    auth.login("bestuur@demo.test")
    response = client.post(
        url, data={**FORM, "groups": "groep 7 en 8", "approve": "y", "action": "submit"}
    )
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        request = DeliveryRequest.get_by_id(request_id)
        assert request.status == "approved"
        assert request.groups == "groep 7 en 8"
        assert json.loads(request.payload)["answers"]["groups"] == "groep 7 en 8"


def test_change_bad_input_keeps_request(client, auth, app):
    url, request_id = _change_url(client, auth, app)
    response = client.post(url, data={**FORM, "leverdatum": "2018-04-02", "action": "submit"})
    assert response.status_code == 422
    assert "Op deze datum wordt niet geleverd." in response.text
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).leverdatum == date(2018, 4, 1)


def test_waiting_request_past_date_can_move(client, auth, app):
    """A request the board never approved is not sent, so the school can pick a later date."""
    url, request_id = _change_url(client, auth, app)
    app.config["PORTAL_TODAY"] = date(2018, 4, 2)
    response = client.post(url, data={**FORM, "leverdatum": "2018-05-01", "action": "submit"})
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).leverdatum == date(2018, 5, 1)


def test_withdrawn_request_cannot_change(client, auth, app):
    url, request_id = _change_url(client, auth, app)
    school = school_id(app, "15KU00")
    client.post(f"/scholen/{school}/levering/{request_id}/intrekken")
    response = client.get(url)
    assert response.status_code == 422
    assert "is ingetrokken en kan niet meer worden gewijzigd" in response.text


def test_change_on_leverdatum_refused(client, auth, app):
    url, request_id = _change_url(client, auth, app)
    _approve_as_board(client, auth, request_id)
    app.config["PORTAL_TODAY"] = date(2018, 4, 1)
    response = client.post(url, data={**FORM, "leverdatum": "2018-05-01", "action": "submit"})
    assert response.status_code == 422
    assert "tot de dag vóór" in response.text
    with app.app_context(), db.connection_context():
        assert DeliveryRequest.get_by_id(request_id).leverdatum == date(2018, 4, 1)


def test_change_by_other_school_staff_is_404(client, auth, app):
    url, _request_id = _change_url(client, auth, app)
    auth.logout()
    auth.login("school2@demo.test")
    assert client.get(url).status_code == 404


def test_payload_csv_guards_formulas(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    submit(client, school, contact_name="=HYPERLINK(1)")
    with app.app_context(), db.connection_context():
        request_id = DeliveryRequest.get().id
    response = client.get(f"/scholen/{school}/levering/{request_id}/samenvatting.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert "brin;15KU" in text
    assert "answers.contact_name;'=HYPERLINK(1)" in text
    assert (
        client.get(f"/scholen/{school}/levering/{request_id}/samenvatting.xml").status_code == 404
    )


def test_logout_invalidates_copied_cookie(client, auth, app):
    auth.login("school@demo.test")
    cookie = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/managementvenster")
    assert response.status_code == 302
    assert "/inloggen" in response.headers["Location"]


def test_htmx_without_session_redirects_whole_page(client, app):
    school = school_id(app, "15KU00")
    response = client.post(f"/scholen/{school}/levering", data=FORM, headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/inloggen")


@pytest.mark.parametrize(
    "path",
    [
        "/scholen/99999999999999999999999/levering",
        "/scholen/9223372036854775808/monitoring-sociale-veiligheid",
        "/factsheets/99999999999999999999999",
    ],
)
def test_huge_id_is_404(client, auth, path):
    auth.login("school@demo.test")
    assert client.get(path).status_code == 404


def test_file_in_form_rejected(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    data = {**FORM, "action": "submit", "groups": (io.BytesIO(b"groep 8"), "groepen.txt")}
    response = client.post(f"/scholen/{school}/levering", data=data)
    assert response.status_code == 400
    assert "geen bestanden" in response.text
    assert count(app, DeliveryRequest) == 0


def test_nul_byte_in_form_rejected(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = submit(client, school, consent_name="J.\x00 de Boer")
    assert response.status_code == 400
    assert "ongeldig teken" in response.text
    assert count(app, DeliveryRequest) == 0


def test_unknown_action_changes_nothing(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = submit(client, school, action="bogus")
    assert response.status_code == 400
    assert count(app, DeliveryRequest) == 0


def test_pages_send_security_headers(client):
    response = client.get("/inloggen")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_brin_report_needs_every_location(client, auth, app):
    auth.login("school@demo.test")
    url = f"/scholen/{school_id(app, '15KU00')}/monitoring-sociale-veiligheid"
    assert client.get(url + "?niveau=brin").status_code == 404
    assert 'value="brin"' not in client.get(url).text


def test_brin_report_hides_group_by_difference(client, auth, app):
    """Groep 8 has 22 respondents at 15KU00 and 7 at 15KU01, so the sum must stay hidden."""
    auth.login("bestuur@demo.test")
    url = f"/scholen/{school_id(app, '15KU00')}/monitoring-sociale-veiligheid"
    combined = client.get(url + "?niveau=brin&schooljaar=2017-2018", headers=HTMX).text
    row = combined[combined.index('<th scope="row">groep 8</th>') :].split("</tr>")[0]
    assert "Niet getoond" in row
    single = client.get(url + "?schooljaar=2017-2018", headers=HTMX).text
    row = single[single.index('<th scope="row">groep 8</th>') :].split("</tr>")[0]
    assert "Niet getoond" not in row


def test_brin_delivery_needs_every_location(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = submit(client, school, level="brin")
    assert response.status_code == 422
    assert "Kies alleen deze vestiging" in response.text
    assert count(app, DeliveryRequest) == 0
