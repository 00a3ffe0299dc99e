"""Views that take an uploaded file, and the size limit of each."""

from collections.abc import Callable

from flask import current_app, request


def accepts_files(limit_setting: str) -> Callable:
    """Mark a view as taking uploaded files of at most the config value ``limit_setting`` bytes.

    Every other view rejects files (see ``reject_unusable_input`` in ``portal``), and the
    app-wide MAX_CONTENT_LENGTH stays small for plain forms.
    """

    def decorator(view):
        view.upload_limit_setting = limit_setting
        return view

    return decorator


def upload_limit() -> int | None:
    """Return the byte limit of the current request's view if it takes files, else None."""
    view = current_app.view_functions.get(request.endpoint)
    setting = getattr(view, "upload_limit_setting", None)
    return current_app.config[setting] if setting else None
