"""One template, two renders: the whole page, or only its partial for an htmx swap."""

from flask import make_response, render_template, request


def render(page: str, partial: str, status: int = 200, **context):
    """Render ``partial`` for an htmx request that is not a boosted navigation, else ``page``.

    The page template includes the partial, so both renders show the same markup.
    """
    wants_partial = bool(request.htmx) and not request.htmx.boosted
    response = make_response(render_template(partial if wants_partial else page, **context), status)
    response.vary.add("HX-Request")
    return response
