"""The RQ queue of the portal, bound to the app's Redis connection."""

from flask import current_app
from rq import Queue


def get_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=current_app.extensions["redis"])
