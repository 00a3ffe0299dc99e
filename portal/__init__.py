"""The Monitoring Sociale Veiligheid portal: create_app() builds the Flask application."""

import logging
from pathlib import Path

from flask import Flask, Response, abort, flash, redirect, render_template, request
from flask_babel import format_date, format_datetime, format_decimal, format_percent
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_url
from flask_wtf.csrf import CSRFError
from redis import Redis
from werkzeug.routing import IntegerConverter

from .config import load_config
from .extensions import babel, csrf, htmx, login_manager
from .models import User, db, open_database
from .uploads import may_upload, upload_limit

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)


def configure_logging(level: str = "INFO") -> None:
    """Log key=value records to stderr once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_portal", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler._portal = True
    root.addHandler(handler)
    root.setLevel(level)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; nothing connects until a request or command needs it."""
    config = load_config(test_config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config)
    app.url_map.converters["int"] = IdConverter
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    app.config["PORTAL_DATA_DIR"].mkdir(parents=True, exist_ok=True)

    db.initialize(open_database(app.config["DATABASE_URL"]))
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])

    babel.init_app(app, locale_selector=lambda: "nl", timezone_selector=lambda: "Europe/Amsterdam")
    # These hooks run before CSRFProtect's check, because that check reads the form, and
    # an upload view's own size limit must be in force before anything reads the body.
    _register_database_hooks(app)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in om deze pagina te zien.")
    login_manager.login_message_category = "info"

    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_helpers(app)

    from .cli import register_commands

    register_commands(app)
    return app


@login_manager.unauthorized_handler
def unauthorized():
    """Send a visitor without a session to the login page.

    An htmx request gets HX-Redirect instead, so htmx loads the login page as a whole
    page rather than swapping it into the part of the page that made the request.
    """
    target = login_url(
        "auth.login", next_url=request.full_path if request.method == "GET" else None
    )
    if request.htmx:
        return Response(status=401, headers={"HX-Redirect": target})
    flash(login_manager.login_message, "info")
    return redirect(target)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the active user of a session id "<user id>:<session version>"."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    return User.get_or_none(
        (User.id == int(user_id)) & (User.session_version == int(version)) & (User.active == True)  # noqa: E712
    )


# The largest id a database column can hold; a larger number in a URL is simply not found.
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """The int converter, bounded to ids the databases can hold."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _register_database_hooks(app: Flask) -> None:
    @app.before_request
    def open_connection():
        db.connect(reuse_if_open=True)

    @app.before_request
    def reject_unusable_input():
        # Only views marked with accepts_files take a file, each up to its own size limit,
        # and PostgreSQL cannot store a NUL byte in text. Both are checked before any view
        # reads the form.
        limit = upload_limit()
        if limit is not None:
            # A visitor without a session is sent to the login page, and a user whose role
            # may not upload gets 404, both before the body is read, so neither can make the
            # portal take in a large file.
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not may_upload(current_user):
                abort(404)
            request.max_content_length = limit
        elif request.files:
            abort(400, _l("Dit formulier neemt geen bestanden aan."))
        for values in (request.args, request.form):
            if any("\x00" in value for value in values.values()):
                abort(
                    400,
                    _l(
                        "Het formulier bevat een ongeldig teken. Verwijder het en probeer het opnieuw."
                    ),
                )

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.teardown_request
    def close_connection(exc):
        if not db.is_closed():
            db.close()


def _register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin_bp
    from .auth.routes import bp as auth_bp
    from .board.routes import bp as board_bp
    from .delivery.routes import bp as delivery_bp
    from .factsheets.routes import bp as factsheets_bp
    from .health.routes import bp as health_bp
    from .imports.routes import bp as imports_bp
    from .management.routes import bp as management_bp
    from .monitoring.routes import bp as monitoring_bp
    from .support.routes import bp as support_bp

    for blueprint in (
        auth_bp,
        management_bp,
        monitoring_bp,
        delivery_bp,
        board_bp,
        factsheets_bp,
        support_bp,
        imports_bp,
        admin_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: _l("Het verzoek is ongeldig. Ga terug en probeer het opnieuw."),
        403: _l("U hebt geen toegang tot deze pagina."),
        404: _l("Deze pagina bestaat niet, of u hebt er geen toegang toe."),
        405: _l("Deze actie is op deze pagina niet mogelijk."),
        413: _l("Het verstuurde bestand of formulier is te groot."),
        500: _l(
            "Er ging iets mis in het portaal. Probeer het later opnieuw of neem contact op met de helpdesk."
        ),
    }

    def render_error(status: int, message=None):
        """Render the Dutch error page; ``message`` overrides the status's default text."""
        template = "errors/_error.html" if request.htmx else "errors/error.html"
        return render_template(template, status=status, message=message or messages[status]), status

    def handle(error, status):
        # abort(status, lazy_gettext(...)) passes a Dutch message; Werkzeug's own English
        # descriptions are replaced by the default text of the status.
        description = getattr(error, "description", None)
        is_ours = description is not None and not isinstance(description, str)
        return render_error(status, str(description) if is_ours else None)

    for status in (400, 403, 404, 405):
        app.register_error_handler(status, lambda error, status=status: handle(error, status))

    @app.errorhandler(413)
    def too_large(error):
        limit = upload_limit()
        if limit is None:
            return handle(error, 413)
        return render_error(
            413,
            _l(
                "Het bestand is groter dan %(mb)s MB, de grootste omvang die het portaal aanneemt. Splits het bestand, of neem contact op met de helpdesk.",
                mb=format_decimal(limit / 1_000_000, "0.#"),
            ),
        )

    @app.errorhandler(OverflowError)
    def id_too_large(error):
        # A number from a form that no database column can hold matches no record.
        return render_error(404)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l(
                "Het formulier is verlopen of ongeldig. Laad de pagina opnieuw en probeer het nog eens."
            ),
        )

    @app.errorhandler(500)
    def server_error(error):
        logger.error("unhandled error path=%s", request.path)
        return render_error(500)


def _register_template_helpers(app: Flask) -> None:
    htmx_file = ROOT / "static" / "vendor" / "htmx.min.js"

    @app.context_processor
    def inject_globals():
        from .clock import today

        return {"htmx_available": htmx_file.exists(), "portal_today": today()}

    from .delivery.messages import status_label

    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.filters["datum"] = lambda d: format_date(d, "d MMMM y") if d else "–"
    app.jinja_env.filters["tijdstip"] = lambda t: (
        format_datetime(t, "d MMMM y 'om' HH:mm") if t else "–"
    )
    app.jinja_env.filters["getal"] = lambda v, fmt="0.00": (
        format_decimal(v, fmt) if v is not None else "–"
    )
    app.jinja_env.filters["procent"] = lambda v: format_percent(v, "0%") if v is not None else "–"
