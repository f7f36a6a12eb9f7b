"""`flask --app wsgi ppm …` (SPEC §1, §2, §11, §12): create-user, create-token, demo."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from ppm.auth import services
from ppm.auth.models import ApiToken, User
from ppm.extensions import db
from ppm.projects.models import Membership, Project, Task


def _run(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=["ppm", *args])
    db.session.expire_all()
    return result


def _lines(result: Any) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def test_create_user_makes_a_user_who_can_log_in(app: Flask) -> None:
    result = _run(app, "create-user", "Ada@Example.com", "--name", "Ada Lovelace", "--password", "analytical engine")
    assert result.exit_code == 0, result.output
    user = services.find_user_by_email("ada@example.com")
    assert user is not None
    assert user.email == "ada@example.com"
    assert user.name == "Ada Lovelace"
    assert user.password_hash != "analytical engine"
    assert "analytical engine" not in result.output
    assert services.authenticate("ADA@example.com", "analytical engine") is not None
    assert services.authenticate("ada@example.com", "wrong") is None


def test_create_user_with_an_existing_email_exits_1(app: Flask, user: Any) -> None:
    result = _run(app, "create-user", "OWNER@example.com", "--name", "Imposter", "--password", "whatever")
    assert result.exit_code == 1
    assert "exists" in result.output.lower()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert services.authenticate("owner@example.com", "whatever") is None


def test_create_user_needs_name_and_password(app: Flask) -> None:
    assert _run(app, "create-user", "x@example.com", "--name", "X").exit_code != 0
    assert _run(app, "create-user", "x@example.com", "--password", "pw12").exit_code != 0
    bad = _run(app, "create-user", "not-an-email", "--name", "X", "--password", "pw12")
    assert bad.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_token_prints_a_working_token_last(app: Flask, user: Any) -> None:
    result = _run(app, "create-token", "Owner@Example.com", "--name", "backup")
    assert result.exit_code == 0, result.output
    token = _lines(result)[-1].strip()
    assert token.startswith("ppm_")
    response = app.test_client().get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "owner@example.com"
    rows = services.list_api_tokens(user)
    assert [r.name for r in rows] == ["backup"]
    assert token not in {r.token_hash for r in rows}


def test_create_token_without_a_name_still_works(app: Flask, user: Any) -> None:
    result = _run(app, "create-token", "owner@example.com")
    assert result.exit_code == 0
    assert len(services.list_api_tokens(user)) == 1
    assert services.user_for_api_token(_lines(result)[-1].strip()) is not None


def test_create_token_for_an_unknown_email_exits_1(app: Flask) -> None:
    result = _run(app, "create-token", "nobody@example.com")
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def _demo_projects() -> list[Project]:
    demo = services.find_user_by_email("demo@example.com")
    assert demo is not None
    return list(
        db.session.scalars(
            select(Project)
            .join(Membership)
            .where(Membership.user_id == demo.id, Membership.role == "owner")
            .order_by(Project.name)
        )
    )


def test_demo_is_idempotent_and_has_summaries_and_milestones(app: Flask) -> None:
    first = _run(app, "demo")
    assert first.exit_code == 0, first.output
    assert "demo@example.com" in first.output and "demo" in _lines(first)[-1]
    assert services.authenticate("demo@example.com", "demo") is not None
    projects = _demo_projects()
    assert len(projects) == 1
    tasks = list(db.session.scalars(select(Task).where(Task.project_id == projects[0].id)))
    assert any(t.is_summary for t in tasks)
    assert any(t.is_milestone for t in tasks)
    assert any(t.parent_id for t in tasks)
    assert any(t.assignees for t in tasks)
    counts = (
        db.session.scalar(select(func.count()).select_from(Task)),
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Membership)),
    )

    second = _run(app, "demo")
    assert second.exit_code == 0, second.output
    assert len(_demo_projects()) == 1
    assert (
        db.session.scalar(select(func.count()).select_from(Task)),
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(Membership)),
    ) == counts


def test_demo_project_reads_through_the_api(app: Flask) -> None:
    _run(app, "demo")
    token = _lines(_run(app, "create-token", "demo@example.com"))[-1].strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    projects = client.get("/api/v1/projects/", headers=headers).get_json()
    assert len(projects) == 1 and projects[0]["role"] == "owner"
    tasks = client.get(f"/api/v1/projects/{projects[0]['id']}/tasks/", headers=headers).get_json()
    by_id = {t["id"]: t for t in tasks}
    for task in tasks:
        assert task["start_date"] <= task["finish_date"]
        if task["is_milestone"]:
            assert task["start_date"] == task["finish_date"]
        if task["is_summary"]:
            kids = [t for t in tasks if t["parent_id"] == task["id"]]
            assert kids
            assert task["start_date"] == min(k["start_date"] for k in kids)
            assert task["finish_date"] == max(k["finish_date"] for k in kids)
        if task["parent_id"]:
            assert task["parent_id"] in by_id


def test_demo_password_option(app: Flask) -> None:
    result = _run(app, "demo", "--password", "letmein")
    assert result.exit_code == 0
    assert "letmein" in result.output
    assert services.authenticate("demo@example.com", "letmein") is not None


def test_demo_never_prints_a_password_that_does_not_work(app: Flask) -> None:
    _run(app, "demo")
    again = _run(app, "demo", "--password", "another-one")
    assert again.exit_code == 0
    assert "another-one" not in again.output
    assert services.authenticate("demo@example.com", "demo") is not None


def test_demo_tasks_prints_the_project_id_last(app: Flask) -> None:
    _run(app, "demo")
    result = _run(app, "demo", "--tasks", "60", "--links-per-task", "0")
    assert result.exit_code == 0, result.output
    project_id = _lines(result)[-1].strip()
    project = db.session.get(Project, project_id)
    assert project is not None
    live = list(db.session.scalars(select(Task).where(Task.project_id == project_id, Task.deleted_at.is_(None))))
    assert len(live) == 60
    assert any(t.is_summary for t in live) and any(t.is_milestone for t in live)
    demo = services.find_user_by_email("demo@example.com")
    owner = db.session.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == demo.id)
    )  # type: ignore[union-attr]
    assert owner is not None and owner.role == "owner"
    # A separate project: the demo project is still there and unchanged.
    assert len(_demo_projects()) == 2
    for task in live:
        if task.is_summary:
            kids = [t for t in live if t.parent_id == task.id]
            assert kids and task.start_date == min(k.start_date for k in kids)


def test_demo_tasks_project_works_through_the_api(app: Flask) -> None:
    project_id = _lines(_run(app, "demo", "--tasks", "30"))[-1].strip()
    token = _lines(_run(app, "create-token", "demo@example.com"))[-1].strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    tasks = client.get(f"/api/v1/projects/{project_id}/tasks/", headers=headers)
    assert tasks.status_code == 200
    assert len(tasks.get_json()) == 30
    # Writes through the services keep working on a bulk-made project.
    created = client.post(f"/api/v1/projects/{project_id}/tasks/", json={"name": "One more"}, headers=headers)
    assert created.status_code == 201
    assert created.get_json()["position"] == len([t for t in tasks.get_json() if t["parent_id"] is None])
