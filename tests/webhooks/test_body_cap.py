"""The 1 MiB cap on a delivery holds on its own, even where the operator lifted the app-wide
request size limit (MAX_CONTENT_LENGTH) for something else (SPEC §13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.conftest import EXAMPLE_PR, Hooks
from tests.webhooks.test_refusals import ONE_MIB, CountingStream, _post_stream, assert_untouched


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "MAX_CONTENT_LENGTH": None}


@pytest.mark.parametrize(
    "environ",
    [
        {"CONTENT_LENGTH": str(3 * ONE_MIB + 2)},  # honest and too big
        {"CONTENT_LENGTH": "", "wsgi.input_terminated": True},  # chunked, no length at all
    ],
)
def test_reading_stops_just_past_one_mib(hooks: Hooks, environ: dict[str, Any]) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    cursor = hooks.sync()["cursor"]
    stream = CountingStream(b"{" + b" " * (3 * ONE_MIB) + b"}")
    response = _post_stream(hooks, hook, stream, environ)
    assert response.status_code == 413 and response.get_json()["code"] == "too_large"
    assert ONE_MIB < stream.consumed <= ONE_MIB + 64 * 1024
    assert_untouched(hooks, link, cursor)
    assert hooks.receiver(hook)["last_delivery_result"] == "too_large"
