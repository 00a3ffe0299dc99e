"""Which views take files: the import pages do, for signed-in users; every other view rejects them."""

import io

from werkzeug.test import encode_multipart

from portal import create_app
from portal.models import SurveyImport, db

from .conftest import DEMO_PASSWORD, csrf_token, school_id


def _upload(client, path: str, size: int = 100):
    return client.post(
        path,
        data={"schooljaar": "2017-2018", "bestand": (io.BytesIO(b"x" * size), "antwoorden.csv")},
        content_type="multipart/form-data",
    )


def test_anonymous_upload_goes_to_login(client, app):
    school = school_id(app, "15KU00")
    response = _upload(client, f"/scholen/{school}/importeren")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/inloggen")
    with app.app_context(), db.connection_context():
        assert SurveyImport.select().count() == 0


def test_anonymous_upload_over_limit_goes_to_login(client, app):
    # The body is never read, so the size limit does not come into play.
    app.config["UPLOAD_MAX_BYTES"] = 1_000
    school = school_id(app, "15KU00")
    response = _upload(client, f"/scholen/{school}/importeren", size=50_000)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/inloggen")


def test_file_to_plain_form_rejected(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = _upload(client, f"/scholen/{school}/factsheets")
    assert response.status_code == 400
    assert "Dit formulier neemt geen bestanden aan." in response.text


def test_upload_limit_is_per_view(client, auth, app):
    # The body exceeds the limit of plain forms but not the import page's own limit.
    app.config["MAX_CONTENT_LENGTH"] = 1_000
    app.config["UPLOAD_MAX_BYTES"] = 100_000
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    plain = _upload(client, f"/scholen/{school}/factsheets", size=5_000)
    assert plain.status_code == 413
    assert "te groot" in plain.text
    upload = _upload(client, f"/scholen/{school}/importeren", size=5_000)
    assert upload.status_code == 422
    assert "te groot" not in upload.text


def test_upload_limit_holds_with_csrf(config, redis):
    # The CSRF check reads the form, so the import page's own limit must be in force first.
    app = create_app({**config, "WTF_CSRF_ENABLED": True, "UPLOAD_MAX_BYTES": 5_000_000})
    client = app.test_client()

    page = client.get("/inloggen")
    token = csrf_token(page.text)
    login = client.post(
        "/inloggen",
        data={"email": "school@demo.test", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert login.status_code == 303

    school = school_id(app, "15KU00")
    form = client.get(f"/scholen/{school}/importeren")
    # The body is encoded in memory, because the test client would spool a body this large to a
    # temporary file that it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(form.text),
            "schooljaar": "2017-2018",
            "instrument": "msv",
            "formaat": "msv",
            # Larger than the 2 MiB of plain forms, smaller than the import page's limit.
            "bestand": (io.BytesIO(b"x" * 3_000_000), "antwoorden.csv"),
        }
    )
    response = client.post(
        f"/scholen/{school}/importeren",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code != 413, response.text
    assert response.status_code in (303, 422)


def test_role_without_uploads_gets_404_unread(client, auth, app):
    # A board secretary may not import. The body exceeds even the upload limit, so a
    # 413 would show that it was read, and the 404 must come before that.
    app.config["MAX_CONTENT_LENGTH"] = 1_000
    app.config["UPLOAD_MAX_BYTES"] = 100_000
    auth.login("bestuur@demo.test")
    school = school_id(app, "15KU00")
    response = _upload(client, f"/scholen/{school}/importeren", size=200_000)
    assert response.status_code == 404
    registry = _upload(client, "/beheer/register", size=200_000)
    assert registry.status_code == 404
