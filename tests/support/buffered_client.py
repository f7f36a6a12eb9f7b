"""Flask's test client reading every body before the request returns."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


class BufferedClient(FlaskClient):
    """Reads a streamed body (the schedule page's) before the request returns, as it reads any
    other, so query counts and timings around a request include all of its work."""

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> Any:
        return super().open(*args, buffered=buffered, **kwargs)
