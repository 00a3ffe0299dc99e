"""Which views take files: the import pages do, for signed-in users; every other view rejects them."""

import io

from portal.models import SurveyImport, db

from .conftest import school_id


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
