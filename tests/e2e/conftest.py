"""Browser tests: the app served from a thread on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import make_server

from tests.support.chromium import ARGS, CHROMIUM
from tests.support.netguard import NetGuard, installed_netguard

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).parent / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def github_net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    """The network guard with api.github.com resolving (to an address the guard sends to
    127.0.0.1): for tests whose GitHub is `responses`, which answers in this process."""
    with installed_netguard(monkeypatch, {"api.github.com": "140.82.112.5"}) as guard:
        yield guard


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe.from_file(str(AXE_SCRIPT))


@pytest.fixture
def assert_accessible(axe: Axe, console_errors: list[str]) -> Any:
    """Runs axe-core on the page as it is now; any violation fails with its details."""

    def check(page: Page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        before = len(console_errors)
        results = axe.run(page)
        # axe sets inline styles while measuring contrast and leaves empty style attributes
        # behind, which a later htmx settle would copy (a CSP report the app did not cause).
        page.evaluate("""() => document.querySelectorAll('[style]').forEach(
            el => { if (!el.getAttribute('style').trim()) el.removeAttribute('style'); })""")
        page.wait_for_timeout(50)
        del console_errors[before:]
        violations = results.response["violations"]
        assert violations == [], f"axe found violations on {name}:\n{results.generate_report()}"

    return check


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors (a CSP violation shows up here) and failed asset loads, for the test to
    assert on. A 4xx answer to a form or swap is expected behaviour, not an error."""
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    def on_response(response: Any) -> None:
        if "/static/" in response.url and response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
