"""Import of survey results per school, school year and instrument."""

from flask import Blueprint

bp = Blueprint("imports", __name__)
