"""Access rules: the schools a user may see. A request for any other school gets 404."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import School, User, UserSchool


def visible_schools(user: User):
    """Return a query of the schools the user may see, ordered by name."""
    query = School.select()
    if user.role == "school_staff":
        query = query.join(UserSchool).where(UserSchool.user == user)
    elif user.role == "board_secretary":
        query = query.where(School.board == user.board_id)
    elif user.role not in ("support", "admin"):
        query = query.where(False)
    return query.order_by(School.name)


def school_or_404(school_id: int) -> School:
    """Return the school if the current user may see it, else abort with 404."""
    school = visible_schools(current_user).where(School.id == school_id).first()
    if school is None:
        abort(404)
    return school


def roles_required(*roles: str):
    """Let only signed-in users with one of ``roles`` through; others get 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def sees_whole_brin(user: User, school: School) -> bool:
    """Tell whether the user may see every vestiging of the school's BRIN."""
    all_locations = School.select().where(School.brin == school.brin).count()
    visible = visible_schools(user).where(School.brin == school.brin).count()
    return visible == all_locations
