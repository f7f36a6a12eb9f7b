"""`flask --app wsgi ppm …`: create-user, create-token, demo."""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ppm.auth import services as auth_services
from ppm.auth.models import User
from ppm.errors import DomainError
from ppm.extensions import db
from ppm.models_base import new_id
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
    people = [("ravi@example.com", "Ravi Patel"), ("mei@example.com", "Mei Chen"),
              ("sam@example.com", "Sam Okafor")]
    users = []
    for email, name in people:
        user = auth_services.find_user_by_email(email)
        users.append(user or auth_services.create_user(email, name, "demo-teammate"))
    return users


@ppm_cli.command("demo")
@click.option("--password", default="demo", help="Password for demo@example.com.")
@click.option("--tasks", "task_count", type=click.IntRange(1, 100000), default=None,
              help="Instead, make a separate project with this many tasks (for benchmarks).")
@click.option("--links-per-task", type=click.IntRange(0, 50), default=4,
              help="Links per non-summary task in a --tasks project.")
def demo(password: str, task_count: int | None, links_per_task: int) -> None:
    """Fill a demo project owned by demo@example.com (idempotent)."""
    user = _demo_user(password)
    if task_count is not None:
        project = _big_project(user, task_count)
        click.echo(f"Made project “{project.name}” with {task_count} tasks.")
        click.echo(project.id)
        return
    existing = db.session.scalar(
        select(Project).join(Membership).where(Project.name == DEMO_PROJECT,
                                               Membership.user_id == user.id))
    if existing is None:
        existing = _demo_project(user)
        click.echo(f"Made the demo project “{DEMO_PROJECT}”.")
    else:
        click.echo(f"The demo project “{DEMO_PROJECT}” already exists.")
    click.echo(f"Log in at http://127.0.0.1:5000/login as {DEMO_EMAIL} with password: {password}")


def _demo_project(user: User) -> Project:
    access = project_services.create_project(user, {"name": DEMO_PROJECT})
    pid = access.project.id
    team = _teammates()
    for mate, role in zip(team, ("admin", "member", "viewer"), strict=True):
        project_services.add_member(user, pid, {"email": mate.email, "role": role})
    today = date.today()

    def add(name: str, start: int, days: int, parent: Task | None = None,
            milestone: bool = False, who: list[User] | None = None) -> Task:
        first = today + timedelta(days=start)
        return project_services.create_task(user, pid, {
            "name": name, "start_date": first.isoformat(),
            "finish_date": (first + timedelta(days=0 if milestone else days)).isoformat(),
            "is_milestone": milestone, "parent_id": parent.id if parent else None,
            "assignee_ids": [u.id for u in (who or [])],
            "description": f"{name}. Edit this description to add notes.",
        })

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
    return access.project


def _big_project(user: User, count: int) -> Project:
    """A large project built in bulk (the services path draws a sync number per row)."""
    project = Project(name=f"Benchmark: {count} tasks")
    db.session.add(project)
    db.session.flush()
    db.session.add(Membership(project_id=project.id, user_id=user.id, role=Role.owner.name))
    team = _teammates()
    rng = random.Random(count)  # noqa: S311 - repeatable demo data, not security
    start = date.today() - timedelta(days=30)
    number = 0
    rows: list[Task] = []

    def make(parent: Task | None, position: int, **fields: object) -> Task:
        nonlocal number
        number += 1
        task = Task(project_id=project.id, parent_id=parent.id if parent else None,
                    position=position, sync_number=number, **fields)
        rows.append(task)
        return task

    made = 0
    phase_index = 0
    while made < count:
        phase_start = start + timedelta(days=phase_index * 20)
        phase = make(None, phase_index, name=f"Phase {phase_index + 1}", start_date=phase_start,
                     finish_date=phase_start, is_summary=True)
        phase.id = new_id()
        made += 1
        for i in range(min(24, count - made)):
            first = phase_start + timedelta(days=rng.randint(0, 15))
            milestone = i % 12 == 11
            finish = first if milestone else first + timedelta(days=rng.randint(1, 10))
            task = make(phase, i, name=f"Task {phase_index + 1}.{i + 1}", start_date=first,
                        finish_date=finish, is_milestone=milestone)
            task.id = new_id()
            if not milestone:
                task.assignees = rng.sample([user, *team], k=rng.randint(0, 2))
            made += 1
        children = [t for t in rows if t.parent_id == phase.id]
        if children:
            phase.start_date = min(t.start_date for t in children)
            phase.finish_date = max(t.finish_date for t in children)
        else:
            phase.is_summary = False
        phase_index += 1
    db.session.add_all(rows)
    project.sync_counter = number
    db.session.commit()
    for mate in team:
        db.session.add(Membership(project_id=project.id, user_id=mate.id, role=Role.member.name))
    db.session.commit()
    return project


@ppm_cli.command("rotate-credentials")
def rotate_credentials() -> None:
    """Re-encrypt every stored provider token under the first INTEGRATION_ENCRYPTION_KEY."""
    from ppm.integrations.services import reencrypt_all

    done, unreadable = reencrypt_all()
    click.echo(f"Re-encrypted {done} credential(s) under the first key; {unreadable} could not be read.")
    if unreadable:
        click.echo("Rows that could not be read show “needs reconnect” to their owners.", err=True)
        sys.exit(1)
