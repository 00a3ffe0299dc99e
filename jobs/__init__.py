"""RQ job functions of the portal and the worker entry.

Jobs run in a worker process that created the Flask app and pushed its context, so they
can read config and use Flask-Babel. Each job opens its own database connection.
"""

import functools

from flask import current_app, has_app_context

from portal.models import db


def job(func):
    """Run the job body inside an app context and its own database connection."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            with db.connection_context():
                return func(*args, **kwargs)
        from portal import create_app

        with create_app().app_context(), db.connection_context():
            return func(*args, **kwargs)

    return wrapper


def data_dir():
    return current_app.config["PORTAL_DATA_DIR"]
