"""The `portal` command's delivery subcommands."""

from datetime import date

from portal.domain.delivery import DELIVERED, GIVEN_UP, SUBMITTED
from portal.models import DeliveryRequest, db

from .factories import make_approved_request

APRIL_1 = date(2018, 4, 1)


def _request(app, **kwargs) -> int:
    with app.app_context(), db.connection_context():
        return make_approved_request(APRIL_1, **kwargs).id


def _status(app, request_id: int) -> str:
    with app.app_context(), db.connection_context():
        return DeliveryRequest.get_by_id(request_id).status


def test_run_due_delivers_on_date(app):
    request_id = _request(app)
    runner = app.test_cli_runner()

    early = runner.invoke(args=["deliveries", "run-due", "--as-of", "2018-03-31"])
    assert early.exit_code == 0, early.output
    assert early.output.startswith("0 delivered")
    assert _status(app, request_id) == "approved"

    on_date = runner.invoke(args=["deliveries", "run-due", "--as-of", "2018-04-01"])
    assert on_date.exit_code == 0, on_date.output
    assert on_date.output.startswith("1 delivered")
    assert _status(app, request_id) == DELIVERED


def test_run_due_rejects_bad_date(app):
    result = app.test_cli_runner().invoke(args=["deliveries", "run-due", "--as-of", "1-4-2018"])
    assert result.exit_code == 2
    assert "1-4-2018" in result.output


def test_list_filters_by_status(app):
    approved = _request(app)
    waiting = _request(app, status=SUBMITTED)
    result = app.test_cli_runner().invoke(args=["deliveries", "list", "--status", "submitted"])
    assert result.exit_code == 0, result.output
    assert f"{waiting:>6}" in result.output
    assert f"{approved:>6}" not in result.output
    assert result.output.rstrip().endswith("1 requests")


def test_retry_given_up_request(app):
    request_id = _request(app, status=GIVEN_UP)
    result = app.test_cli_runner().invoke(args=["deliveries", "retry", str(request_id)])
    assert result.exit_code == 0, result.output
    assert _status(app, request_id) == "approved"


def test_retry_refuses_other_status(app):
    request_id = _request(app)
    result = app.test_cli_runner().invoke(args=["deliveries", "retry", str(request_id)])
    assert result.exit_code == 1
    assert "only retrying or given_up" in result.output
    assert _status(app, request_id) == "approved"


def test_retry_unknown_request(app):
    result = app.test_cli_runner().invoke(args=["deliveries", "retry", "999999"])
    assert result.exit_code == 1
    assert "not found" in result.output
