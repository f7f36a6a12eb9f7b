"""The simulated people of the load bench (a Locust file). Run it through `bench/load.py`, which
starts the stack, fills the data and writes the plan this file reads from `PPM_BENCH_PLAN`.

- `BrowseAndEdit`: opens the schedule, the drawer and the Gantt; adds, edits and removes links
  and tasks, the way the pages do it (htmx requests with the CSRF token, as a browser sends them).
- `SlowRefresher`: presses Refresh on a link whose host (an allow-listed loopback stand-in)
  never answers; the answer is the link with a `timed out` refresh error after the egress deadline.
- `OpenPage`: a schedule page left open, asking for changes every 10 s (SPEC §23) as live.js
  does: nine in ten watch a quiet project (their polls are idle: 204), one in ten the busy one.
- `WebhookStorm`: GitHub deliveries to one receiver (SPEC §13), built from GitHub's own example
  payloads, signed with the receiver's secret, each moving one link's pull request forward in time.

Each person comes from a different address behind the (trusted) proxy, as in production, and
arrives logged in (bench/load.py logs everyone in first and measures that on its own).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, constant_pacing, constant_throughput, events, task
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

PLAN: dict[str, Any] = json.loads(Path(os.environ["PPM_BENCH_PLAN"]).read_text())
PROJECT = PLAN["project_id"]
# Seconds a person spends reading between two clicks (bench/load.py --think).
THINK = tuple(float(x) for x in os.environ.get("PPM_BENCH_THINK", "5 15").split())
_people = itertools.count()
_slow_people = itertools.count()
_pages = itertools.count()


class Person(HttpUser):
    abstract = True
    identity: dict[str, str]

    def on_start(self) -> None:
        """Logged in already by bench/load.py (scrypt logins would otherwise swamp the first
        seconds): this person's own session cookie, CSRF token and address."""
        self.client.headers["X-Forwarded-For"] = self.identity["address"]
        self.client.cookies.set(self.identity["cookie_name"], self.identity["cookie"])
        self.csrf = self.identity["csrf"]

    def htmx(self, target: str) -> dict[str, str]:
        return {"HX-Request": "true", "HX-Target": target, "X-CSRFToken": self.csrf}


class BrowseAndEdit(Person):
    wait_time = between(THINK[0], THINK[1])

    def on_start(self) -> None:
        n = next(_people)
        self.identity = PLAN["people"][n % len(PLAN["people"])]
        self.random = random.Random(n)
        self.my_links: list[tuple[str, str]] = []
        self.my_tasks: list[str] = []
        super().on_start()

    def _task_id(self) -> str:
        return str(self.random.choice(PLAN["leaf_tasks"]))

    @task(3)
    def schedule_page(self) -> None:
        self.client.get(f"/projects/{PROJECT}/schedule", name="schedule page")

    @task(1)
    def gantt_page(self) -> None:
        self.client.get(f"/projects/{PROJECT}/schedule?view=gantt&zoom=week", name="gantt page")

    @task(6)
    def drawer(self) -> None:
        self.client.get(
            f"/projects/{PROJECT}/schedule?task={self._task_id()}", headers=self.htmx("drawer"), name="drawer fragment"
        )

    @task(2)
    def add_link(self) -> None:
        task_id = self._task_id()
        url = f"https://github.com/acme/bench/pull/{uuid.uuid4().int % 10**9}"
        response = self.client.post(
            f"/projects/{PROJECT}/tasks/{task_id}/links",
            data={"url": url, "custom_title": "", "labels": "bench", "csrf_token": self.csrf},
            headers=self.htmx("links"),
            name="link add fragment",
        )
        for chunk in response.text.split('id="link-')[1:]:
            if url in chunk.split("</li>", 1)[0]:
                self.my_links.append((task_id, chunk.split('"', 1)[0]))
                break

    @task(1)
    def edit_link(self) -> None:
        if not self.my_links:
            return
        task_id, link_id = self.random.choice(self.my_links)
        self.client.post(
            f"/projects/{PROJECT}/tasks/{task_id}/links/{link_id}/edit",
            data={"custom_title": f"Edited {uuid.uuid4().hex[:6]}", "labels": "bench", "csrf_token": self.csrf},
            headers=self.htmx(f"link-{link_id}"),
            name="link edit fragment",
        )

    @task(1)
    def remove_link(self) -> None:
        if not self.my_links:
            return
        task_id, link_id = self.my_links.pop(0)
        self.client.post(
            f"/projects/{PROJECT}/tasks/{task_id}/links/{link_id}/remove",
            data={"csrf_token": self.csrf},
            headers=self.htmx(f"link-{link_id}"),
            name="link remove fragment",
        )

    @task(1)
    def add_task(self) -> None:
        name = f"Bench task {uuid.uuid4().hex[:10]}"
        start = datetime.now(UTC).date() + timedelta(days=self.random.randrange(60))
        response = self.client.post(
            f"/projects/{PROJECT}/schedule/tasks",
            data={
                "name": name,
                "start_date": start.isoformat(),
                "finish_date": (start + timedelta(days=2)).isoformat(),
                "csrf_token": self.csrf,
            },
            headers=self.htmx("add-task"),
            name="task add fragment",
        )
        for chunk in response.text.split('id="task-')[1:]:
            if name in chunk.split("</tr>", 1)[0]:
                self.my_tasks.append(chunk.split('"', 1)[0])
                break

    @task(2)
    def edit_task(self) -> None:
        task_id = self.random.choice(self.my_tasks) if self.my_tasks else self._task_id()
        start = datetime.now(UTC).date() + timedelta(days=self.random.randrange(60))
        self.client.post(
            f"/projects/{PROJECT}/schedule/tasks/{task_id}",
            data={
                "name": f"Edited {uuid.uuid4().hex[:6]}",
                "start_date": start.isoformat(),
                "finish_date": (start + timedelta(days=3)).isoformat(),
                "description": "Edited by the load bench.",
                "csrf_token": self.csrf,
            },
            headers=self.htmx("drawer"),
            name="task edit fragment",
        )

    @task(1)
    def remove_task(self) -> None:
        if not self.my_tasks:
            return
        task_id = self.my_tasks.pop(0)
        self.client.delete(
            f"/api/v1/projects/{PROJECT}/tasks/{task_id}/",
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
            name="task remove (JSON)",
        )


class SlowRefresher(Person):
    """Refresh on a link whose host never answers. `fixed_count` keeps exactly this many."""

    fixed_count = int(os.environ.get("PPM_BENCH_SLOW_USERS", "16"))
    wait_time = between(1, 3)

    def on_start(self) -> None:
        n = next(_slow_people)
        self.identity = PLAN["slow_people"][n % len(PLAN["slow_people"])]
        super().on_start()

    @task
    def refresh(self) -> None:
        task_id, link_id = self.identity["task_id"], self.identity["link_id"]
        with self.client.post(
            f"/projects/{PROJECT}/tasks/{task_id}/links/{link_id}/refresh",
            data={"csrf_token": self.csrf},
            headers=self.htmx(f"link-{link_id}"),
            name="refresh (host never answers)",
            catch_response=True,
        ) as response:
            if response.status_code == 200 and "did not answer in time" in response.text:
                EXPECTED_TIMEOUTS.increment()
                response.success()


class OpenPage(Person):
    """A schedule page left open: every POLL_SECONDS it asks what changed since the sync number
    it holds and takes the new one from a 200, as live.js does. `fixed_count` keeps exactly this
    many; each starts at a random moment of its first interval, as pages opened over time do."""

    fixed_count = int(os.environ.get("PPM_BENCH_PAGES", "500"))
    POLL_SECONDS = 10.0
    wait_time = constant_pacing(POLL_SECONDS)
    SINCE = re.compile(r'id="schedule-live"[^>]*data-since="([0-9]+)"')

    def on_start(self) -> None:
        n = next(_pages)
        self.identity = PLAN["people"][n % len(PLAN["people"])]
        super().on_start()
        busy = n % 10 == 0
        self.project = PROJECT if busy else PLAN["quiet_project_id"]
        self.since = PLAN["since"][self.project]
        self.headers = {"HX-Request": "true", "HX-Target": "schedule-live", "HX-Current-URL": "http://bench/"}
        # gunicorn closes a connection idle for its keepalive (5 s) and a page asks every 10 s:
        # a browser that finds its reused connection closed sends the GET again on a new one.
        again = Retry(total=1, connect=1, read=1, status=0, allowed_methods={"GET"}, raise_on_status=False)
        self.client.mount("http://", HTTPAdapter(max_retries=again))
        gevent.sleep(random.Random(n).uniform(0, self.POLL_SECONDS))

    @task
    def poll(self) -> None:
        url = f"/projects/{self.project}/schedule/changes?since={self.since}"
        with self.client.get(url, headers=self.headers, name="poll", catch_response=True) as response:
            if response.status_code == 204:
                response.request_meta["name"] = "poll idle (204)"
                response.success()
            elif response.status_code == 200:
                found = self.SINCE.search(response.text)
                if found:
                    self.since = int(found.group(1))
                response.request_meta["name"] = "poll with changes (200)"
                response.success()


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def increment(self) -> int:
        with self._lock:
            self.value += 1
            return self.value


EXPECTED_TIMEOUTS = Counter()


# --- the webhook storm -----------------------------------------------------------------


class Storm:
    """Which delivery comes next, and what each answer was (read by bench/load.py afterwards)."""

    def __init__(self) -> None:
        self.sequence = itertools.count(1)
        self.lock = threading.Lock()
        self.answers: list[dict[str, Any]] = []
        self.examples = [json.loads(Path(p).read_text()) for p in PLAN.get("storm", {}).get("examples", [])]

    def delivery(self, k: int) -> tuple[bytes, dict[str, str], dict[str, Any]]:
        storm = PLAN["storm"]
        target = storm["links"][k % len(storm["links"])]
        payload = copy.deepcopy(self.examples[k % len(self.examples)])
        pull = payload["pull_request"]
        number = int(target["number"])
        html_url = f"https://github.com/{target['repo']}/pull/{number}"
        pull.update({"html_url": html_url, "number": number, "title": f"Storm delivery {k}"})
        # Later deliveries carry later object versions, so the last one sent for a link must win.
        pull["updated_at"] = (datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload["number"] = number
        payload["repository"]["full_name"] = target["repo"]
        payload["repository"]["html_url"] = f"https://github.com/{target['repo']}"
        body = json.dumps(payload).encode()
        signature = hmac.new(storm["secret"].encode(), body, hashlib.sha256).hexdigest()
        delivery_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": f"sha256={signature}",
            "User-Agent": "GitHub-Hookshot/bench",
        }
        return body, headers, {"k": k, "link_id": target["link_id"], "delivery": delivery_id}


STORM = Storm()


class WebhookStorm(HttpUser):
    """Each sends 5 deliveries a second; `PPM_BENCH_STORM_SENDERS` of them make the rate."""

    fixed_count = int(os.environ.get("PPM_BENCH_STORM_SENDERS", "10"))
    wait_time = constant_throughput(5)

    @task
    def deliver(self) -> None:
        k = next(STORM.sequence)
        body, headers, record = STORM.delivery(k)
        path = PLAN["storm"]["path"]
        with self.client.post(path, data=body, headers=headers, name="webhook delivery", catch_response=True) as r:
            record.update({"status": r.status_code, "body": r.text[:200]})
            if r.status_code == 200 and k % 50 == 0:  # now and then GitHub redelivers
                again = self.client.post(path, data=body, headers=headers, name="webhook redelivery")
                record["redelivery"] = {"status": again.status_code, "body": again.text[:200]}
        with STORM.lock:
            STORM.answers.append(record)


@events.quitting.add_listener
def _write_outcomes(environment: Any, **_: Any) -> None:
    out = os.environ.get("PPM_BENCH_OUTCOMES")
    if out:
        Path(out).write_text(json.dumps({"expected_timeouts": EXPECTED_TIMEOUTS.value, "storm": STORM.answers}))
