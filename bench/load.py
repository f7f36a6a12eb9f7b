"""Load bench: ppm's production stack on this machine under many people at once (issue #16).

Run:  .venv/bin/python bench/load.py [--duration 30] [--scenarios 1 2 3] [--users 50]
      [--workers 4] [--threads 1]

It starts everything itself, on 127.0.0.1 only, and removes it at the end: a PostgreSQL cluster
and a Redis of its own, gunicorn with the README's settings (`--workers 4`, access log on), one RQ
worker (`flask ppm worker`, scheduled sweeps off), rate limits and the job queue in Redis, a
self-hosted GitLab stand-in reached as `localhost` (allow-listed for the run), and a 1,000-task
project with 4 links per task made by `flask ppm demo --tasks 1000`. Then Locust
(headless, `bench/load_users.py`) runs each scenario against it for --duration seconds:

1. browse and edit: --users people on the schedule, the drawer and the Gantt, adding, editing
   and removing links and tasks (targets: 0 errors, drawer and fragments p95 <= 250 ms,
   schedule pages p95 <= 800 ms);
2. slow provider: the same, while 16 more people press Refresh on links whose host never
   answers (target: no errors but the expected refresh timeouts; everyone else's p95 within
   1.5x of scenario 1);
3. webhook storm: the same as 1, plus 50 signed GitHub deliveries a second to one receiver
   (targets: every accepted delivery applied exactly once, checked in the database afterwards;
   no deadlock; deliveries p95 <= 200 ms). Needs the webhooks of SPEC §13: if creating the
   receiver answers 404, the scenario says so and is skipped;
4. open pages: the same as 1, plus --pages schedule pages left open, each asking for changes
   every 10 s (SPEC §23; 9 in 10 on a quiet 100-task project, so their polls are idle, 1 in 10
   on the busy one) (targets: idle poll p95 <= 20 ms; everyone else's p95 within 1.2x of
   scenario 1).

Each prints requests/second, p50/p95/p99 per request kind and the error count, then compares
with the targets. Benchmarks print figures; they do not assert (TESTING.md). The machine is
shared and noisy: compare scenarios measured in the same run. Cookies are not `Secure` here
(plain HTTP on loopback, PPM_ENV left at development); everything else is the production stack,
behind one trusted proxy hop (PPM_PROXY_HOPS=1) so each simulated person has their own address.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import (  # noqa: E402 (after the path is set)
    STANDIN_ENV,
    VENV_BIN,
    GitLabStandin,
    Gunicorn,
    RQWorker,
    app_environment,
    migrate,
    postgres_cluster,
    redis_server,
    why_no_postgres,
    why_no_redis,
)

PASSWORD = "bench-password-1"
PAGE_KINDS = ("schedule page", "gantt page")
TARGET_PAGE_P95_MS = 800
TARGET_FRAGMENT_P95_MS = 250
TARGET_DELIVERY_P95_MS = 200
TARGET_SLOW_RATIO = 1.5
TARGET_IDLE_POLL_P95_MS = 20
TARGET_PAGES_RATIO = 1.2
POLL_KINDS = ("poll idle (204)", "poll with changes (200)", "poll")
THINK_SECONDS: list[float] = [5.0, 15.0]  # set from --think
STORM_EXAMPLES = ROOT / "tests" / "webhooks" / "data" / "github"


# --- the stack and its data ------------------------------------------------------------


def build_project(env: dict[str, str], tasks: int) -> str:
    """`flask ppm demo --tasks N --links-per-task 4`, as an operator would; prints the id last."""
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "ppm", "demo", "--tasks", str(tasks), "--links-per-task", "4"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def analyze(env: dict[str, str]) -> None:
    """Planner statistics for the freshly loaded tables, as autovacuum gathers them within a
    minute on a live database (without them the first requests measure bad plans)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def make_people(
    env: dict[str, str], project_id: str, people: int, slow_people: int, standin: GitLabStandin
) -> dict[str, Any]:
    """Members for the simulated people; the slow ones connect the stand-in GitLab (under its
    never-answering root) and each adds one merge request link there."""
    from sqlalchemy import select

    from ppm import create_app
    from ppm.auth import services as auth_services
    from ppm.auth.models import User
    from ppm.extensions import db
    from ppm.integrations import services as accounts
    from ppm.links import services as links
    from ppm.links.models import TaskLink
    from ppm.projects import services as projects
    from ppm.projects.models import Project, Task

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": env["SECRET_KEY"],
            "INTEGRATION_ENCRYPTION_KEY": env["INTEGRATION_ENCRYPTION_KEY"],
            "INSTANCE_PATH": env["PPM_INSTANCE_PATH"],
            "INTEGRATION_ALLOWED_HOSTS": ["localhost"],
            "EGRESS_ALLOWLISTED_HOSTS": ["localhost"],
            "INTEGRATION_ALLOW_HTTP": True,
        }
    )
    logging.getLogger("ppm").setLevel(logging.WARNING)  # setting up is not what the bench reports
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == "demo@example.com"))
        assert owner is not None
        leaves = db.session.scalars(
            select(Task.id).where(Task.project_id == project_id, Task.is_summary.is_(False), Task.deleted_at.is_(None))
        ).all()
        plan: dict[str, Any] = {"project_id": project_id, "leaf_tasks": list(leaves), "people": [], "slow_people": []}
        for n in range(people):
            person = auth_services.create_user(f"person{n}@example.com", f"Person {n}", PASSWORD)
            projects.add_member(owner, project_id, {"email": person.email, "role": "member"})
            plan["people"].append({"email": person.email, "password": PASSWORD})
        for n in range(slow_people):
            person = auth_services.create_user(f"slow{n}@example.com", f"Slow {n}", PASSWORD)
            projects.add_member(owner, project_id, {"email": person.email, "role": "member"})
            accounts.connect(person, "gitlab", {"token": f"glpat-bench-{n}", "base_url": standin.slow_base_url})
            task_id = leaves[n % len(leaves)]
            url = f"{standin.slow_base_url}/acme/api/-/merge_requests/{n + 1}"
            link = links.add_link(person, project_id, task_id, {"url": url})
            plan["slow_people"].append(
                {"email": person.email, "password": PASSWORD, "task_id": task_id, "link_id": link.id}
            )
        _, plan["owner_token"] = auth_services.create_api_token(owner, "bench")
        plan["quiet_project_id"] = quiet_project(owner, plan["people"])
        plan["since"] = {
            pid: int(db.session.scalar(select(Project.sync_counter).where(Project.id == pid)) or 0)
            for pid in (project_id, plan["quiet_project_id"])
        }
        logging.getLogger("ppm").setLevel(logging.INFO)
        targets = db.session.execute(
            select(TaskLink.id, TaskLink.url)
            .where(TaskLink.project_id == project_id, TaskLink.url.like("https://github.com/acme/app/pull/%"))
            .order_by(TaskLink.sync_number)
            .limit(200)
        ).all()
        plan["storm_targets"] = [
            {"link_id": link_id, "repo": "acme/app", "number": int(url.rsplit("/", 1)[1])} for link_id, url in targets
        ]
        db.session.remove()
        db.engine.dispose()
    return plan


def quiet_project(owner: Any, people: list[dict[str, str]]) -> str:
    """A second project of 100 tasks that nobody edits during the run, every person a member:
    the project most open pages of scenario 4 watch."""
    from datetime import date, timedelta

    from ppm.projects import services as projects

    project_id = projects.create_project(owner, {"name": "Quiet"}).project.id
    for person in people:
        projects.add_member(owner, project_id, {"email": person["email"], "role": "viewer"})
    start = date(2026, 1, 5)
    for n in range(100):
        day = (start + timedelta(days=n)).isoformat()
        projects.create_task(owner, project_id, {"name": f"Quiet task {n}", "start_date": day, "finish_date": day})
    return str(project_id)


def log_everyone_in(base: str, plan: dict[str, Any]) -> list[float]:
    """Each person logs in through the form from their own address, four at a time (the
    workers); returns how long each login took, in seconds."""
    import re
    import time
    from concurrent.futures import ThreadPoolExecutor

    import requests

    csrf_meta = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
    people = plan["people"] + plan["slow_people"]
    for n, person in enumerate(people):
        person["address"] = f"10.9.{n // 250}.{n % 250 + 1}"

    def log_in(person: dict[str, Any]) -> float:
        session = requests.Session()
        session.headers["X-Forwarded-For"] = person["address"]
        token = csrf_meta.search(session.get(base + "/login", timeout=60).text)
        assert token, "no CSRF token on the login page"
        started = time.perf_counter()
        answer = session.post(
            base + "/login",
            data={"email": person["email"], "password": person["password"], "csrf_token": token.group(1)},
            allow_redirects=False,
            timeout=60,
        )
        took = time.perf_counter() - started
        assert answer.status_code == 303, f"login of {person['email']} answered {answer.status_code}"
        found = csrf_meta.search(session.get(base + "/projects/", timeout=60).text)
        assert found
        cookie = next(c for c in session.cookies if c.name == "session")
        person.update({"cookie_name": cookie.name, "cookie": cookie.value, "csrf": found.group(1)})
        return took

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(log_in, people))


def service_times(base: str, plan: dict[str, Any], runs: int = 5) -> None:
    """One person at a time, nobody else on the server: what each main request costs."""
    import statistics
    import time

    import requests

    person = plan["people"][0]
    session = requests.Session()
    session.headers["X-Forwarded-For"] = person["address"]
    session.cookies.set(person["cookie_name"], person["cookie"])
    project, task = plan["project_id"], plan["leaf_tasks"][0]
    fragment = {"HX-Request": "true", "HX-Target": "drawer", "X-CSRFToken": person["csrf"]}
    edit = {"name": "Timed", "start_date": "2026-12-01", "finish_date": "2026-12-04", "csrf_token": person["csrf"]}
    kinds: dict[str, tuple[str, str, dict[str, str], dict[str, str] | None]] = {
        "schedule page": ("GET", f"/projects/{project}/schedule", {}, None),
        "gantt page": ("GET", f"/projects/{project}/schedule?view=gantt&zoom=week", {}, None),
        "drawer fragment": ("GET", f"/projects/{project}/schedule?task={task}", fragment, None),
        "task edit fragment": ("POST", f"/projects/{project}/schedule/tasks/{task}", fragment, edit),
    }
    if "quiet_project_id" in plan:  # SPEC §23: an open page asking for changes when there are none
        quiet = plan["quiet_project_id"]
        live = {"HX-Request": "true", "HX-Target": "schedule-live"}
        kinds["idle poll (204)"] = (
            "GET",
            f"/projects/{quiet}/schedule/changes?since={plan['since'][quiet]}",
            live,
            None,
        )
    print(f"Service times, one request at a time (median of {runs}, after warming every worker):")
    for kind, (method, path, headers, data) in kinds.items():
        for _ in range(8):  # each worker compiles its templates and fills its pool once
            session.request(method, base + path, headers=headers, data=data, timeout=60)
        took = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = session.request(method, base + path, headers=headers, data=data, timeout=60)
            took.append(time.perf_counter() - started)
        size = len(answer.content) // 1024
        print(f"  {kind:18} {1000 * statistics.median(took):6.0f} ms  {size:5d} KB  ({answer.status_code})")


def create_receiver(base: str, plan: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """A GitHub receiver through the API (SPEC §13); (None, why) when this build has none."""
    import requests

    response = requests.post(
        f"{base}/api/v1/projects/{plan['project_id']}/webhooks/",
        json={"provider": "github"},
        headers={"Authorization": f"Bearer {plan['owner_token']}"},
        timeout=30,
    )
    if response.status_code == 404:
        return None, (
            "POST /api/v1/projects/{p}/webhooks/ answered 404: this build has no webhooks yet "
            "(SPEC §13, issue #11). Scenario 3 runs once they are merged."
        )
    if response.status_code != 201:
        return None, f"creating the receiver answered {response.status_code}: {response.text[:200]}"
    examples = sorted(str(p) for p in STORM_EXAMPLES.glob("pull_request.*.json"))
    if not examples:
        return None, f"no GitHub pull_request example payloads under {STORM_EXAMPLES.relative_to(ROOT)}"
    receiver = response.json()
    path = "/" + receiver["url"].split("://", 1)[1].split("/", 1)[1]
    storm = {"secret": receiver["secret"], "path": path, "links": plan["storm_targets"], "examples": examples}
    return {"id": receiver["id"], **storm}, ""


# --- running Locust and reading what it measured ---------------------------------------


def run_locust(
    base: str,
    plan_path: Path,
    work: Path,
    name: str,
    classes: list[str],
    users: int,
    duration: int,
    extra_env: dict[str, str],
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    prefix = work / name
    outcomes = work / f"{name}-outcomes.json"
    env = {**_clean_env(), "PPM_BENCH_PLAN": str(plan_path), "PPM_BENCH_OUTCOMES": str(outcomes), **extra_env}
    env["PPM_BENCH_THINK"] = " ".join(str(x) for x in THINK_SECONDS)
    spawn_rate = max(5, users // 5)
    command = [
        str(VENV_BIN / "locust"),
        *("-f", str(ROOT / "bench" / "load_users.py"), "--headless", "--only-summary"),
        *("--host", base, "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration}s"),
        *("--stop-timeout", "10", "--reset-stats", "--csv", str(prefix), "--loglevel", "WARNING", *classes),
    ]
    print(f"  locust: {users} users ({' + '.join(classes)}), {duration} s", flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with (work / f"{name}_stats.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle)]
    with (work / f"{name}_failures.csv").open() as handle:
        for failure in csv.DictReader(handle):
            kind, error = failure["Name"], failure["Error"][:160]
            print(f"  failure x{failure['Occurrences']}: {failure['Method']} {kind}: {error}")
    result = json.loads(outcomes.read_text()) if outcomes.exists() else {}
    return rows, result


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PPM_TEST_")}


def report(title: str, rows: list[dict[str, str]]) -> dict[str, dict[str, float]]:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{title} (machine load average now {load} on {os.cpu_count()} cores)")
    print(f"  {'request kind':34} {'count':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}")
    figures: dict[str, dict[str, float]] = {}
    for row in rows:
        kind = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        figures[kind] = {
            "count": float(row["Request Count"]),
            "rps": float(row["Requests/s"]),
            "p50": float(row["50%"] or 0),
            "p95": float(row["95%"] or 0),
            "p99": float(row["99%"] or 0),
            "errors": float(row["Failure Count"]),
        }
        f = figures[kind]
        print(
            f"  {kind:34} {int(f['count']):>7} {f['rps']:>7.1f} {f['p50']:>7.0f} {f['p95']:>7.0f} {f['p99']:>7.0f} "
            f"{int(f['errors']):>7}"
        )
    return figures


def target(what: str, measured: str, ok: bool) -> None:
    print(f"  target: {what} -> {measured} ({'met' if ok else 'NOT met'})")


def check_browse(figures: dict[str, dict[str, float]]) -> None:
    errors = int(figures.get("ALL", {}).get("errors", 0))
    target("0 errors", str(errors), errors == 0)
    for kind, f in sorted(figures.items()):
        if kind in PAGE_KINDS:
            target(f"{kind} p95 <= {TARGET_PAGE_P95_MS} ms", f"{f['p95']:.0f} ms", f["p95"] <= TARGET_PAGE_P95_MS)
        elif "fragment" in kind:
            target(
                f"{kind} p95 <= {TARGET_FRAGMENT_P95_MS} ms", f"{f['p95']:.0f} ms", f["p95"] <= TARGET_FRAGMENT_P95_MS
            )


def check_slow(figures: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]], timeouts: int) -> None:
    slow_kind = "refresh (host never answers)"
    others = {k: f for k, f in figures.items() if k not in ("ALL", slow_kind)}
    errors = int(sum(f["errors"] for f in others.values()) + figures.get(slow_kind, {}).get("errors", 0))
    print(f"  expected refresh timeouts: {timeouts} (200 with the link and its 'did not answer in time' error)")
    target("0 errors besides those", str(errors), errors == 0)
    for kind, f in sorted(others.items()):
        base = baseline.get(kind, {}).get("p95")
        if base:
            ratio = f["p95"] / base
            target(f"{kind} p95 within {TARGET_SLOW_RATIO}x of scenario 1", f"{ratio:.2f}x", ratio <= TARGET_SLOW_RATIO)


def check_pages(figures: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]]) -> None:
    errors = int(figures.get("ALL", {}).get("errors", 0))
    target("0 errors", str(errors), errors == 0)
    idle = figures.get("poll idle (204)", {})
    p50, p95 = idle.get("p50", 0.0), idle.get("p95", 0.0)
    print(f"  idle polls: {int(idle.get('count', 0))}, p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    target(f"idle poll p95 <= {TARGET_IDLE_POLL_P95_MS} ms", f"{p95:.0f} ms", 0 < p95 <= TARGET_IDLE_POLL_P95_MS)
    if not baseline:
        print("  (no scenario 1 in this run: run --scenarios 1 4 to compare the others' p95)")
    for kind, f in sorted(figures.items()):
        base = baseline.get(kind, {}).get("p95")
        if kind not in ("ALL", *POLL_KINDS) and base:
            ratio = f["p95"] / base
            what = f"{kind} p95 within {TARGET_PAGES_RATIO}x of scenario 1"
            target(what, f"{ratio:.2f}x", ratio <= TARGET_PAGES_RATIO)


def check_storm(
    figures: dict[str, dict[str, float]],
    answers: list[dict[str, Any]],
    env: dict[str, str],
    plan: dict[str, Any],
    receiver_id: str,
    receiver_count: int | None,
    postgres_log: str,
) -> None:
    p95 = figures.get("webhook delivery", {}).get("p95", 0.0)
    target(f"deliveries p95 <= {TARGET_DELIVERY_P95_MS} ms", f"{p95:.0f} ms", p95 <= TARGET_DELIVERY_P95_MS)
    accepted = [a for a in answers if a.get("status") == 200 and '"matched"' in a.get("body", "")]
    refused = sorted({int(a.get("status") or 0) for a in answers if a.get("status") not in (200, 202)})
    print(f"  deliveries sent {len(answers)}, accepted {len(accepted)}, refused with {refused or 'none'}")
    redeliveries = [a["redelivery"] for a in answers if "redelivery" in a]
    repeated_ok = all(r["status"] == 200 and '"duplicate"' in r["body"] for r in redeliveries)
    target("a redelivered id changes nothing (answers duplicate)", f"{len(redeliveries)} redelivered", repeated_ok)
    # SPEC §17: the receiver counts every 2xx answer, so a redelivery answered "duplicate" counts too.
    expected = len(accepted) + sum(1 for r in redeliveries if r["status"] == 200)
    target("the receiver counts each 2xx answer once", f"{receiver_count} of {expected}", receiver_count == expected)
    wrong = links_not_at_their_last_delivery(env, accepted)
    target("each link shows its last accepted delivery (database)", f"{len(wrong)} differ", not wrong)
    kept = delivery_ids_kept(env, receiver_id)
    wanted = Counter(hashlib.sha256(a["delivery"].encode()).hexdigest() for a in accepted)
    once = all(kept.get(key) == 1 for key in wanted) and set(kept) == set(wanted)
    target("each accepted delivery recorded exactly once (database)", f"{len(kept)} of {len(wanted)} ids", once)
    deadlocks = postgres_log.count("deadlock detected")
    target("0 deadlocks (PostgreSQL log)", str(deadlocks), deadlocks == 0)


def links_not_at_their_last_delivery(env: dict[str, str], accepted: list[dict[str, Any]]) -> list[str]:
    from sqlalchemy import create_engine, text

    last_by_link: dict[str, int] = {}
    for answer in accepted:
        last_by_link[answer["link_id"]] = max(answer["k"], last_by_link.get(answer["link_id"], 0))
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        query = text("SELECT id, title FROM task_links WHERE id = ANY(:ids)")
        titles = dict(conn.execute(query, {"ids": list(last_by_link)}).tuples().all())
    engine.dispose()
    return [link for link, k in last_by_link.items() if titles.get(link) != f"Storm delivery {k}"]


def delivery_ids_kept(env: dict[str, str], receiver_id: str) -> dict[str, int]:
    """The delivery ids the receiver remembers (each accepted delivery leaves one), with how
    many rows each has."""
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        query = text(
            "SELECT delivery_key, count(*) FROM webhook_deliveries WHERE receiver_id = :r GROUP BY delivery_key"
        )
        kept = dict(conn.execute(query, {"r": receiver_id}).tuples().all())
    engine.dispose()
    return kept


def receiver_deliveries(base: str, plan: dict[str, Any], receiver_id: str) -> int | None:
    import requests

    listed = requests.get(
        f"{base}/api/v1/projects/{plan['project_id']}/webhooks/",
        headers={"Authorization": f"Bearer {plan['owner_token']}"},
        timeout=30,
    ).json()
    return next((r.get("deliveries") for r in listed if r.get("id") == receiver_id), None)


# --- the whole run ---------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=30, help="seconds per scenario (default 30)")
    parser.add_argument("--scenarios", type=int, nargs="+", default=[1, 2, 3, 4], choices=[1, 2, 3, 4])
    parser.add_argument("--users", type=int, default=50, help="people browsing and editing (default 50)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=[5.0, 15.0],
        metavar=("MIN", "MAX"),
        help="seconds a person reads between two clicks (default 5 15: about 5 requests/s from 50 people)",
    )
    parser.add_argument("--pages", type=int, default=500, help="open schedule pages polling in scenario 4")
    parser.add_argument("--slow-users", type=int, default=16, help="people pressing Refresh on the slow host")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn --workers (README: 4)")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn --threads (default: gunicorn.conf.py's)")
    args = parser.parse_args()
    THINK_SECONDS[:] = args.think
    for reason in (why_no_postgres(), why_no_redis()):
        if reason:
            print(f"cannot run the bench: {reason}")
            return 2

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="ppm-load-") as folder:
        work = Path(folder)
        print("Starting PostgreSQL, Redis and the GitLab stand-in on 127.0.0.1 ...", flush=True)
        postgres = stack.enter_context(postgres_cluster())
        redis = stack.enter_context(redis_server())
        standin = GitLabStandin()
        stack.callback(standin.close)
        env = app_environment(
            postgres.create_database("ppm_load"),
            work / "instance",
            **STANDIN_ENV,
            RATELIMIT_STORAGE_URI=redis.url,
            REDIS_URL=redis.url,
            PPM_PROXY_HOPS="1",
        )
        migrate(env)
        print(f"Building a {args.tasks}-task project with 4 links per task ...", flush=True)
        project_id = build_project(env, args.tasks)
        plan = make_people(env, project_id, args.users, args.slow_users if 2 in args.scenarios else 0, standin)
        analyze(env)
        gunicorn_args = ("--threads", str(args.threads)) if args.threads else ()
        server = Gunicorn(env, workers=args.workers, extra_args=gunicorn_args)
        stack.callback(server.stop)
        worker = RQWorker(env)
        stack.callback(worker.stop)
        threads = args.threads or "gunicorn.conf.py's"
        print(f"gunicorn: --workers {args.workers}, threads: {threads} (1 means the sync worker)")

        receiver, why_not = (None, "")
        if 3 in args.scenarios:
            receiver, why_not = create_receiver(server.base, plan)
            if receiver:
                plan["storm"] = receiver
        took = sorted(log_everyone_in(server.base, plan))
        print(
            f"Logged {len(took)} people in, four at a time: login p50 {1000 * took[len(took) // 2]:.0f} ms, "
            f"slowest {1000 * took[-1]:.0f} ms (scrypt password hashes, by design slow)"
        )
        service_times(server.base, plan)
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan))

        baseline: dict[str, dict[str, float]] = {}
        if 1 in args.scenarios:
            rows, _ = run_locust(server.base, plan_path, work, "s1", ["BrowseAndEdit"], args.users, args.duration, {})
            baseline = report("Scenario 1: browse and edit", rows)
            check_browse(baseline)
        if 2 in args.scenarios:
            rows, outcome = run_locust(
                server.base,
                plan_path,
                work,
                "s2",
                ["BrowseAndEdit", "SlowRefresher"],
                args.users + args.slow_users,
                args.duration,
                {"PPM_BENCH_SLOW_USERS": str(args.slow_users)},
            )
            figures = report("Scenario 2: browse and edit while a provider never answers", rows)
            check_slow(figures, baseline, int(outcome.get("expected_timeouts", 0)))
        if 3 in args.scenarios:
            print("\nScenario 3: webhook storm (50 deliveries a second) while people browse and edit")
            if receiver is None:
                print(f"  SKIPPED: {why_not}")
            else:
                rows, outcome = run_locust(
                    server.base,
                    plan_path,
                    work,
                    "s3",
                    ["BrowseAndEdit", "WebhookStorm"],
                    args.users + 10,
                    args.duration,
                    {"PPM_BENCH_STORM_SENDERS": "10"},
                )
                figures = report("Scenario 3: figures", rows)
                count = receiver_deliveries(server.base, plan, receiver["id"])
                postgres_log = (postgres.data / "log").read_text(errors="replace")
                storm = outcome.get("storm", [])
                check_storm(figures, storm, env, plan, receiver["id"], count, postgres_log)
        if 4 in args.scenarios:
            rows, _ = run_locust(
                server.base,
                plan_path,
                work,
                "s4",
                ["BrowseAndEdit", "OpenPage"],
                args.users + args.pages,
                args.duration,
                {"PPM_BENCH_PAGES": str(args.pages)},
            )
            figures = report(f"Scenario 4: browse and edit with {args.pages} open pages polling every 10 s", rows)
            check_pages(figures, baseline)
        log = server.log()
        timeouts = log.count("WORKER TIMEOUT")
        print(f"\ngunicorn log: {log.count('Traceback')} tracebacks, {timeouts} worker timeouts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
