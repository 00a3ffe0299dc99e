"""Administration: the school registry and the national comparison values."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/beheer")
