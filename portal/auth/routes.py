"""Logging in and out."""

import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.clock import utcnow
from portal.domain import audit
from portal.models import User

from .forms import LoginForm

bp = Blueprint("auth", __name__)
logger = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str | None:
    """Accept only a path on this site as the page to return to after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/inloggen", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("management.venster"))

    form = LoginForm()
    if form.validate_on_submit():
        user = User.get_or_none(User.email == form.email.data.strip().lower())
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            user.save(only=[User.last_login_at])
            audit.record("auth.login", user)
            logger.info("login user=%s role=%s", user.id, user.role)
            return redirect(
                _safe_next(request.args.get("next")) or url_for("management.venster"), 303
            )
        logger.info("login failed")
        form.password.errors.append(_("Dit e-mailadres en wachtwoord horen niet bij elkaar."))
        return render_template("auth/login.html", form=form), 422

    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/uitloggen", methods=["POST"])
@login_required
def logout():
    logger.info("logout user=%s", current_user.id)
    User.update(session_version=User.session_version + 1).where(
        User.id == current_user.id
    ).execute()
    logout_user()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("auth.login"), 303)
