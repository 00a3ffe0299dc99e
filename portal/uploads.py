"""Views that take an uploaded file, and the size limit of each."""

from collections.abc import Callable

from flask import current_app, request


def accepts_files(limit_setting: str, roles: tuple[str, ...]) -> Callable:
    """Mark a view as taking uploaded files of at most the config value ``limit_setting`` bytes.

    Only signed-in users with one of ``roles`` get that limit. Every other view rejects
    files (see ``reject_unusable_input`` in ``portal``), and the app-wide
    MAX_CONTENT_LENGTH stays small for plain forms and for users who may not upload.
    """

    def decorator(view):
        view.upload_limit_setting = limit_setting
        view.upload_roles = roles
        return view

    return decorator


def upload_view() -> Callable | None:
    """Return the view of the current request if it takes files, else None."""
    view = current_app.view_functions.get(request.endpoint)
    return view if getattr(view, "upload_limit_setting", None) else None


def upload_limit() -> int | None:
    """Return the byte limit of the current request's view if it takes files, else None."""
    view = upload_view()
    return current_app.config[view.upload_limit_setting] if view else None


def may_upload(user) -> bool:
    """Tell whether ``user`` may send files to the current request's view."""
    view = upload_view()
    return view is not None and user.is_authenticated and user.role in view.upload_roles
