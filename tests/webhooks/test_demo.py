"""`ppm demo` makes one GitHub webhook, and the README's signed `curl` (run here as written,
against a live server on 127.0.0.1) turns the demo's open pull request merged."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.webhooks.models import WebhookReceiver

README = Path(__file__).parents[2] / "README.md"
DEMO_PR = "https://github.com/acme/website/pull/120"


def readme_snippet() -> str:
    text = README.read_text()
    block = text.split("<!-- webhook-demo:", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return block


def run_demo(app: Flask) -> tuple[str, Path]:
    result = app.test_cli_runner().invoke(args=["ppm", "demo"])
    assert result.exit_code == 0, result.output
    url = re.search(r"Demo GitHub webhook: (\S+)", result.output)
    path = re.search(r"Its secret is in (\S+)", result.output)
    assert url and path, result.output
    return url.group(1), Path(path.group(1))


def test_the_demo_makes_one_github_webhook_and_keeps_its_secret_private(app: Flask) -> None:
    url, secret_file = run_demo(app)
    receivers = db.session.scalars(select(WebhookReceiver)).all()
    assert len(receivers) == 1 and receivers[0].provider == "github"
    assert url == f"http://127.0.0.1:5000/hooks/github/{receivers[0].id}"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text()
    assert len(secret) >= 43
    again = app.test_cli_runner().invoke(args=["ppm", "demo"])
    assert again.exit_code == 0 and secret not in again.output
    assert db.session.scalars(select(WebhookReceiver)).all() == receivers  # idempotent
    assert secret_file.read_text() == secret


def test_the_readme_curl_turns_the_demo_pull_request_merged(app: Flask, live_server: str, tmp_path: Any) -> None:
    url, secret_file = run_demo(app)
    link = db.session.scalar(select(TaskLink).where(TaskLink.url == DEMO_PR))
    assert link is not None and link.status == "open"
    script = readme_snippet()
    script = script.replace("http://127.0.0.1:5000", live_server).replace(
        "PASTE-THE-ID-PPM-DEMO-PRINTED", url.rsplit("/", 1)[1]
    )
    script = script.replace("instance/demo_webhook_secret", str(secret_file))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "no_proxy": "*"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"linked":0,"matched":1}'
    db.session.expire_all()
    assert db.session.get(TaskLink, link.id).status == "merged"
