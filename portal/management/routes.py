"""The ManagementVenster: a tile per school the user may see."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.access import visible_schools
from portal.clock import today
from portal.domain.calendar import current_school_year
from portal.domain.delivery import active_request

bp = Blueprint("management", __name__)


@bp.route("/")
def index():
    return redirect(url_for("management.venster"))


@bp.route("/managementvenster")
@login_required
def venster():
    school_year = current_school_year(today())
    tiles = []
    for school in visible_schools(current_user):
        request = active_request(school, school_year) if school_year else None
        tiles.append({"school": school, "request": request})
    return render_template("management/venster.html", tiles=tiles, school_year=school_year)
