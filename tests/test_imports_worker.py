"""Large imports in a real RQ worker process: progress page, completion, dead worker, retry."""

from datetime import timedelta

import pytest

from portal.models import Respondent, SurveyImport, db

from .conftest import HTMX, school_id
from .test_imports import csv_bytes, own_rows, post_file, rewritten_xlsx
from .test_worker_integration import _wait_for, start_worker  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


@pytest.fixture
def config(config):
    # Every file of these tests goes to the worker.
    config["IMPORT_INLINE_MAX_BYTES"] = 100
    return config


def test_large_import_runs_in_worker(client, auth, app, start_worker, data_dir):  # noqa: F811
    start_worker()
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")

    response = post_file(client, school, csv_bytes(own_rows(300)))
    assert response.status_code == 303
    status_url = response.headers["Location"]
    first = client.get(status_url)
    assert first.status_code == 200
    assert 'http-equiv="refresh"' in first.text or 'data-status="completed"' in first.text

    def finished():
        page = client.get(status_url, headers=HTMX).text
        return page if 'data-status="completed"' in page or 'data-status="failed"' in page else None

    page = _wait_for(finished, "the import")
    assert 'data-status="completed"' in page
    assert "hx-get" not in page, "a finished import must stop polling"
    assert "300 respondenten" in page
    with app.app_context(), db.connection_context():
        assert Respondent.select().where(Respondent.school == school).count() > 300
        survey_import = SurveyImport.get()
        assert survey_import.rows == 300
        assert survey_import.rows_expected == 300
        assert survey_import.file_path == ""
    assert list((data_dir / "imports").iterdir()) == []


def test_polling_partial_while_queued(client, auth, app):
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")

    response = post_file(client, school, csv_bytes(own_rows(30)))
    page = client.get(response.headers["Location"], headers=HTMX)

    assert page.status_code == 200
    assert "<html" not in page.text
    assert 'hx-trigger="every 1s"' in page.text
    assert 'data-status="queued"' in page.text


def test_dead_worker_import_can_be_retried(client, auth, app, redis, start_worker):  # noqa: F811
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    response = post_file(client, school, csv_bytes(own_rows(40)))
    status_url = response.headers["Location"]
    # The worker that took the job died: Redis lost the job and the row is overdue.
    redis.flushdb()
    with app.app_context(), db.connection_context():
        SurveyImport.update(
            status="running", created_at=SurveyImport.get().created_at - timedelta(hours=1)
        ).execute()

    page = client.get(status_url).text
    assert 'data-status="failed"' in page
    assert "Opnieuw proberen" in page

    start_worker()
    import_id = status_url.rsplit("/", 1)[1]
    assert client.post(f"/importen/{import_id}/opnieuw").status_code == 303

    def finished():
        text = client.get(status_url, headers=HTMX).text
        return text if 'data-status="completed"' in text else None

    assert "40 respondenten" in _wait_for(finished, "the retried import")


def test_broken_xlsx_in_worker_not_retried(client, auth, app, start_worker, data_dir):  # noqa: F811
    start_worker()
    auth.login("school@demo.test")
    school = school_id(app, "15KU00")
    data = rewritten_xlsx(lambda x: x.replace('r="A2"', 'r="G!2"'), own_rows(40))

    response = post_file(client, school, data, filename="antwoorden.xlsx")
    status_url = response.headers["Location"]

    def finished():
        text = client.get(status_url, headers=HTMX).text
        return text if 'data-status="failed"' in text else None

    page = _wait_for(finished, "the rejected import")
    assert "geen geldige Excel-werkmap" in page
    assert "verwerkingsproces is gestopt" not in page
    assert "Opnieuw proberen" not in page
    with app.app_context(), db.connection_context():
        survey_import = SurveyImport.get()
        assert survey_import.error_count == 1
        assert survey_import.file_path == ""
    assert list((data_dir / "imports").iterdir()) == []
    import_id = status_url.rsplit("/", 1)[1]
    client.post(f"/importen/{import_id}/opnieuw")
    with app.app_context(), db.connection_context():
        assert SurveyImport.get().status == "failed"
