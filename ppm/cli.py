"""`flask --app wsgi ppm …`: create-user, create-token, demo."""

from __future__ import annotations

import os
import random
import stat
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ppm.auth import services as auth_services
from ppm.auth.models import User
from ppm.errors import DomainError
from ppm.extensions import db
from ppm.links.demo import add_bulk_links, add_demo_links
from ppm.models_base import new_id, utc_today
from ppm.projects import services as project_services
from ppm.projects.models import Membership, Project, Role, Task

ppm_cli = AppGroup("ppm", help="ppm administration commands.")

DEMO_EMAIL = "demo@example.com"
DEMO_PROJECT = "Website relaunch (demo)"


@ppm_cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--password", required=True, help="Initial password.")
def create_user(email: str, name: str, password: str) -> None:
    """Create a user who can log in."""
    try:
        user = auth_services.create_user(email, name, password)
    except DomainError as error:
        click.echo(f"Error: {error.detail}", err=True)
        sys.exit(1)
    click.echo(f"Created user {user.email}.")


@ppm_cli.command("create-token")
@click.argument("email")
@click.option("--name", default="", help="A name to recognise the token by.")
def create_token(email: str, name: str) -> None:
    """Create a personal API token; the token is the last line of output."""
    user = auth_services.find_user_by_email(email)
    if user is None:
        click.echo(f"Error: no user with email {email}.", err=True)
        sys.exit(1)
    row, token = auth_services.create_api_token(user, name)
    click.echo(f"Created API token “{row.name}” for {user.email}. It is shown only once:")
    click.echo(token)


def _demo_user(password: str) -> User:
    user = auth_services.find_user_by_email(DEMO_EMAIL)
    if user is None:
        user = auth_services.create_user(DEMO_EMAIL, "Dana Demo", password)
    return user


def _teammates() -> list[User]:
    people = [("ravi@example.com", "Ravi Patel"), ("mei@example.com", "Mei Chen"), ("sam@example.com", "Sam Okafor")]
    users = []
    for email, name in people:
        user = auth_services.find_user_by_email(email)
        users.append(user or auth_services.create_user(email, name, "demo-teammate"))
    return users


@ppm_cli.command("demo")
@click.option("--password", default="demo", help="Password for demo@example.com.")
@click.option(
    "--tasks",
    "task_count",
    type=click.IntRange(1, 100000),
    default=None,
    help="Instead, make a separate project with this many tasks (for benchmarks).",
)
@click.option(
    "--links-per-task", type=click.IntRange(0, 50), default=4, help="Links per non-summary task in a --tasks project."
)
def demo(password: str, task_count: int | None, links_per_task: int) -> None:
    """Fill a demo project owned by demo@example.com (idempotent)."""
    user = _demo_user(password)
    if task_count is not None:
        project = build_big_project(user, task_count)
        links = add_bulk_links(project, links_per_task)
        click.echo(f"Made project “{project.name}” with {task_count} tasks and {links} links.")
        click.echo(project.id)
        return
    existing = db.session.scalar(
        select(Project).join(Membership).where(Project.name == DEMO_PROJECT, Membership.user_id == user.id)
    )
    if existing is None:
        existing = _demo_project(user)
        click.echo(f"Made the demo project “{DEMO_PROJECT}”.")
    else:
        click.echo(f"The demo project “{DEMO_PROJECT}” already exists.")
    _demo_webhook(user, existing.id)
    if auth_services.authenticate(DEMO_EMAIL, password) is None:
        # An earlier run made the user with another password; never print one that fails.
        click.echo(
            f"Log in at http://127.0.0.1:5000/login as {DEMO_EMAIL} "
            "(the user already existed; its password was left unchanged)."
        )
        return
    click.echo(f"Log in at http://127.0.0.1:5000/login as {DEMO_EMAIL} with password: {password}")


def _demo_webhook(owner: User, project_id: str) -> None:
    """One GitHub receiver on the demo project. Its secret is shown once, so the demo keeps it
    in the instance folder (mode 0600) for the README's signed `curl`; a rerun that finds no
    such file makes a new secret."""
    from ppm.webhooks import services as webhooks

    secret_file = Path(current_app.instance_path) / "demo_webhook_secret"
    receivers = webhooks.list_receivers(owner, project_id)
    if receivers and secret_file.exists():
        receiver = receivers[0]
    else:
        revealed = (
            webhooks.rotate_secret(owner, project_id, receivers[0].id)
            if receivers
            else webhooks.create_receiver(owner, project_id, {"provider": "github"})
        )
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(revealed.secret)
        receiver = revealed.receiver
    base = str(current_app.config.get("PPM_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    click.echo(f"Demo GitHub webhook: {base}/hooks/github/{receiver.id}")
    click.echo(f"Its secret is in {secret_file} (README, “Webhooks”, shows a signed delivery).")


def _demo_project(user: User) -> Project:
    access = project_services.create_project(user, {"name": DEMO_PROJECT})
    pid = access.project.id
    team = _teammates()
    for mate, role in zip(team, ("admin", "member", "viewer"), strict=True):
        project_services.add_member(user, pid, {"email": mate.email, "role": role})
    today = utc_today()

    def add(
        name: str,
        start: int,
        days: int,
        parent: Task | None = None,
        milestone: bool = False,
        who: list[User] | None = None,
    ) -> Task:
        first = today + timedelta(days=start)
        return project_services.create_task(
            user,
            pid,
            {
                "name": name,
                "start_date": first.isoformat(),
                "finish_date": (first + timedelta(days=0 if milestone else days)).isoformat(),
                "is_milestone": milestone,
                "parent_id": parent.id if parent else None,
                "assignee_ids": [u.id for u in (who or [])],
                "description": f"{name}. Edit this description to add notes.",
            },
        )

    discovery = add("Discovery", 0, 10)
    add("Stakeholder interviews", -3, 5, discovery, who=[team[0]])
    add("Analytics review", 1, 4, discovery, who=[team[1]])
    add("Discovery sign-off", 8, 0, discovery, milestone=True)
    build = add("Build", 10, 30)
    design = add("Design system", 10, 12, build, who=[team[1], user])
    add("Tokens and typography", 10, 5, design, who=[team[1]])
    add("Component library", 15, 7, design, who=[user])
    add("Content migration", 18, 14, build, who=[team[0], team[2]])
    add("Accessibility audit", 30, 5, build, who=[team[2]])
    add("Launch", 42, 0, milestone=True)
    add_demo_links(user, pid)
    return access.project


def build_big_project(owner: User, count: int) -> Project:
    """A large project built in bulk (the services path draws a sync number and rolls up per
    task, far too slow for thousands): phases of workstreams, each with tasks, a deliverable
    that has subtasks of its own (three levels of summaries) and a closing milestone; most
    tasks have one or two assignees. Repeatable for a given count."""
    project = Project(name=f"Benchmark: {count} tasks")
    db.session.add(project)
    db.session.flush()
    db.session.add(Membership(project_id=project.id, user_id=owner.id, role=Role.owner.name))
    team = _teammates()
    people = [owner, *team]
    rng = random.Random(count)  # noqa: S311 - repeatable demo data, not security
    start = utc_today() - timedelta(days=60)
    rows: list[Task] = []

    def make(
        parent: Task | None,
        position: int,
        name: str,
        first: date,
        days: int = 0,
        *,
        milestone: bool = False,
        summary: bool = False,
    ) -> Task | None:
        if len(rows) >= count:
            return None
        task = Task(
            id=new_id(),
            project_id=project.id,
            parent_id=parent.id if parent else None,
            position=position,
            name=name,
            description="",
            start_date=first,
            finish_date=first + timedelta(days=days),
            is_milestone=milestone,
            is_summary=summary,
            sync_number=len(rows) + 1,
        )
        if not (milestone or summary):
            task.assignees = rng.sample(people, k=rng.choice((0, 1, 1, 1, 2)))
        rows.append(task)
        return task

    number = 0
    while len(rows) < count:
        number += 1
        phase_start = start + timedelta(days=(number - 1) * 6)
        phase = make(None, number - 1, f"Phase {number}", phase_start, summary=True)
        for w in range(1, 4):
            ws_start = phase_start + timedelta(days=(w - 1) * 5)
            stream = make(phase, w - 1, f"Workstream {number}.{w}", ws_start, summary=True)
            if stream is None:
                break
            for i in range(1, 7):
                first = ws_start + timedelta(days=rng.randint(0, 12))
                if i == 3:
                    deliverable = make(stream, i - 1, f"Deliverable {number}.{w}", first, summary=True)
                    for k in range(1, 3):
                        if deliverable is not None:
                            make(
                                deliverable,
                                k - 1,
                                f"Draft {number}.{w}.{k}",
                                first + timedelta(days=rng.randint(0, 4)),
                                rng.randint(1, 6),
                            )
                elif i == 6:
                    make(
                        stream,
                        i - 1,
                        f"Workstream {number}.{w} signed off",
                        ws_start + timedelta(days=16),
                        milestone=True,
                    )
                else:
                    make(stream, i - 1, f"Task {number}.{w}.{i}", first, rng.randint(1, 8))
    # Summary dates roll up from their children (created after their parents, so walk back);
    # a summary the count left without children becomes a plain task.
    children: dict[str, list[Task]] = {}
    for task in rows:
        if task.parent_id is not None:
            children.setdefault(task.parent_id, []).append(task)
    for task in reversed(rows):
        if task.is_summary:
            kids = children.get(task.id)
            if kids:
                task.start_date = min(k.start_date for k in kids)
                task.finish_date = max(k.finish_date for k in kids)
            else:
                task.is_summary = False
                task.finish_date = task.start_date + timedelta(days=3)
    db.session.add_all(rows)
    project.sync_counter = len(rows)
    db.session.commit()
    for mate in team:
        db.session.add(Membership(project_id=project.id, user_id=mate.id, role=Role.member.name))
    db.session.commit()
    return project


@ppm_cli.command("rotate-credentials")
def rotate_credentials() -> None:
    """Re-encrypt every stored provider token and webhook secret under the first INTEGRATION_ENCRYPTION_KEY."""
    from ppm.integrations.services import reencrypt_all
    from ppm.webhooks.services import reencrypt_all as reencrypt_webhook_secrets

    done, unreadable = reencrypt_all()
    click.echo(f"Re-encrypted {done} credential(s) under the first key; {unreadable} could not be read.")
    hooks_done, hooks_unreadable = reencrypt_webhook_secrets()
    click.echo(f"Re-encrypted {hooks_done} webhook secret(s); {hooks_unreadable} could not be read.")
    unreadable += hooks_unreadable
    if unreadable:
        click.echo("Rows that could not be read show “needs reconnect” to their owners.", err=True)
        sys.exit(1)


from ppm.jobs.cli import sweep, worker  # noqa: E402 - the job commands live with the jobs

ppm_cli.add_command(worker)
ppm_cli.add_command(sweep)
