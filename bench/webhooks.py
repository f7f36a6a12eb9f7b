"""Speed of one webhook delivery that changes 5, 50 and 500 links of a project.

Run: .venv/bin/python bench/webhooks.py [--runs 7] [--sizes 5 50 500]

A throwaway SQLite database; a project with one GitHub receiver and N live links to one pull
request's pages; each run posts a signed `pull_request` delivery (GitHub's `closed` example
shape, a later `updated_at` each time and a fresh delivery id, so every run rewrites all N links)
through Flask's in-process test client. Printed per size: the median and spread of --runs timed
deliveries, the SQL statements of one delivery (the same at every size: one SELECT of candidates,
one UPDATE batch), and the ratio against the smallest size.

Then the cost of an address's length (SPEC §27): GitLab `Merge Request Hook` deliveries whose
object address is a short one, and one of 2,048 bytes (the most a delivery may name) made of a
thousand path segments without GitLab's `-` (the shape a parser tries longest); they should cost
about the same. Benchmarks print figures; they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import event

from ppm import create_app
from ppm.auth import services as auth_services
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.links.services import url_key
from ppm.models_base import new_id
from ppm.projects import services as projects
from ppm.webhooks import services as webhooks

PULL = "https://github.com/acme/website/pull/120"


def make_app(folder: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INTEGRATION_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
        }
    )
    with app.app_context():
        db.create_all()
    return app


def setup(size: int) -> tuple[str, str]:
    owner = auth_services.create_user(f"bench{size}@example.com", "Bench", "bench-password")
    access = projects.create_project(owner, {"name": f"Webhooks {size}"})
    task = projects.create_task(
        owner, access.project.id, {"name": "T", "start_date": "2026-01-05", "finish_date": "2026-01-09"}
    )
    numbers = projects.next_sync_numbers(access.project.id, size)
    for i, number in enumerate(numbers):
        url = f"{PULL}/files?page={i}"
        db.session.add(
            TaskLink(
                id=new_id(),
                project_id=access.project.id,
                task_id=task.id,
                url=url,
                url_key=url_key(url),
                provider="github",
                position=i,
                sync_number=number,
            )
        )
    db.session.commit()
    revealed = webhooks.create_receiver(owner, access.project.id, {"provider": "github"})
    return revealed.receiver.id, revealed.secret


def deliver(client: Any, receiver_id: str, secret: str, run: int) -> Any:
    payload = {
        "action": "closed" if run % 2 else "reopened",
        "pull_request": {
            "html_url": PULL,
            "state": "closed" if run % 2 else "open",
            "merged": bool(run % 2),
            "draft": False,
            "title": "Button and link components",
            "updated_at": f"2026-01-01T00:{run // 60:02d}:{run % 60:02d}Z",
        },
    }
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": f"bench-{run}",
        "X-Hub-Signature-256": signature,
    }
    return client.post(f"/hooks/github/{receiver_id}", data=body, headers=headers)


SHORT_MR = "https://gitlab.com/acme/website/-/merge_requests/120"


def long_address() -> str:
    prefix, tail = "https://gitlab.com/", "/merge_requests/x"
    middle = ("a/" * ((2048 - len(prefix) - len(tail)) // 2)).rstrip("/")
    return prefix + middle + "b" * (2048 - len(prefix) - len(middle) - len(tail)) + tail


def deliver_gitlab(client: Any, receiver_id: str, secret: str, address: str, run: int) -> Any:
    payload = {
        "object_kind": "merge_request",
        "object_attributes": {
            "iid": 120,
            "title": "Button and link components",
            "state": "opened",
            "draft": False,
            "url": address,
            "updated_at": f"2026-01-01 00:{run // 60 % 60:02d}:{run % 60:02d} UTC",
        },
    }
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Merge Request Hook",
        "X-Gitlab-Event-UUID": f"bench-gitlab-{run}",
        "X-Gitlab-Token": secret,
    }
    return client.post(f"/hooks/gitlab/{receiver_id}", data=json.dumps(payload).encode(), headers=headers)


def address_lengths(app: Flask, runs: int) -> None:
    owner = auth_services.create_user("bench-address@example.com", "Bench", "bench-password")
    access = projects.create_project(owner, {"name": "Addresses"})
    revealed = webhooks.create_receiver(owner, access.project.id, {"provider": "gitlab"})
    client = app.test_client()
    print(f"\n{'address':>16} {'bytes':>6} {'median ms':>10} {'min..max ms':>14} {'ratio':>6}")
    base: float | None = None
    run = 0
    for label, address in (("short", SHORT_MR), ("2,048 bytes", long_address())):
        times = []
        for _ in range(runs + 1):
            run += 1
            start = time.perf_counter()
            response = deliver_gitlab(client, revealed.receiver.id, revealed.secret, address, run)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                print(f"  unexpected answer for the {label} address: {response.status_code} {response.get_json()}")
        times = times[1:]  # the first is a warm-up
        median = statistics.median(times)
        base = base or median
        print(
            f"{label:>16} {len(address.encode()):>6} {median:>10.1f} "
            f"{min(times):>6.1f}..{max(times):<6.1f} {median / base:>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 50, 500])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder)
        base: float | None = None
        print(f"{'links':>6} {'median ms':>10} {'min..max ms':>14} {'queries':>8} {'ratio':>6}")
        statements: list[str] = []

        def count(*event_args: Any) -> None:
            statements.append(event_args[2])

        with app.app_context():
            for size in args.sizes:
                receiver_id, secret = setup(size)
                client = app.test_client()
                deliver(client, receiver_id, secret, 0)  # warm-up
                statements.clear()
                event.listen(db.engine, "before_cursor_execute", count)
                deliver(client, receiver_id, secret, 1)
                event.remove(db.engine, "before_cursor_execute", count)
                times = []
                for run in range(2, args.runs + 2):
                    start = time.perf_counter()
                    response = deliver(client, receiver_id, secret, run)
                    times.append((time.perf_counter() - start) * 1000)
                    if response.get_json() != {"matched": size}:
                        print(f"  unexpected answer at {size} links: {response.get_json()}")
                median = statistics.median(times)
                base = base or median
                print(
                    f"{size:>6} {median:>10.1f} {min(times):>6.1f}..{max(times):<6.1f} "
                    f"{len(statements):>8} {median / base:>6.2f}"
                )
            address_lengths(app, args.runs)


if __name__ == "__main__":
    main()
