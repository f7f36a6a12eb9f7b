"""The htmx conventions in one place: fragment or page, events, out-of-band announcements."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """An htmx swap wants a fragment; a history restore wants the whole page."""
    return is_htmx() and request.headers.get("HX-History-Restore-Request") != "true"


def page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def announce(response: Response, message: str) -> Response:
    """Append an out-of-band update of the polite live region."""
    oob = render_template("_announce.html", message=message)
    response.set_data(response.get_data(as_text=True) + oob)
    return response


def trigger(response: Response, event: str, detail: Any = None) -> Response:
    existing = response.headers.get("HX-Trigger")
    events: dict[str, Any] = json.loads(existing) if existing else {}
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def redirect_htmx_aware(location: str) -> Response:
    """Post-redirect-get for plain forms; HX-Redirect for htmx."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", 303)
    response.headers["Location"] = location
    return response
