"""project keys, task numbers, link source and closing intent (SPEC §20)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-08 00:30:00

Every project gets a key made from its name (in creation order, so the oldest project keeps the
plain one) and every task a number, 1, 2, 3, … per project in creation order (removed tasks too:
numbers are never reused); the project's task counter is its highest number. Links gain
`source` ("person" for every existing one), `closes` and whether a person set it (false), and
the removals deliveries must remember start empty.
"""

import sqlalchemy as sa
from alembic import op

from ppm.projects.keys import derive_key

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def _number_existing_rows() -> None:
    conn = op.get_bind()
    projects = conn.execute(sa.text("SELECT id, name FROM projects ORDER BY created_at, id")).all()
    taken: set[str] = set()
    for project_id, name in projects:
        key = derive_key(name or "", taken)
        taken.add(key)
        conn.execute(sa.text("UPDATE projects SET key = :key WHERE id = :id"), {"key": key, "id": project_id})
        conn.execute(
            sa.text("INSERT INTO project_keys (key, project_id, created_at) VALUES (:key, :id, CURRENT_TIMESTAMP)"),
            {"key": key, "id": project_id},
        )
        tasks = conn.execute(
            sa.text("SELECT id FROM tasks WHERE project_id = :id ORDER BY created_at, id"), {"id": project_id}
        ).scalars()
        numbered = [{"id": task_id, "number": number} for number, task_id in enumerate(tasks, start=1)]
        if numbered:
            conn.execute(sa.text("UPDATE tasks SET number = :number WHERE id = :id"), numbered)
        conn.execute(
            sa.text("UPDATE projects SET task_counter = :count WHERE id = :id"),
            {"count": len(numbered), "id": project_id},
        )


def upgrade():
    op.create_table(
        "project_keys",
        sa.Column("key", sa.String(length=10), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_keys_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_project_keys")),
    )
    with op.batch_alter_table("project_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_keys_project_id"), ["project_id"], unique=False)
    op.create_table(
        "link_removals",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("object", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_link_removals_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "object", name=op.f("pk_link_removals")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("task_counter", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=8), server_default="person", nullable=False))
        batch_op.add_column(sa.Column("closes", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("closes_set_by_person", sa.Boolean(), server_default=sa.false(), nullable=False))

    # Unique indexes, not constraints, and nullable columns: SQLite adds them in place, where a
    # table rebuild would cascade-delete the rows that point at projects and tasks.
    op.create_index("ix_projects_key", "projects", ["key"], unique=True)
    op.create_index("uq_tasks_project_number", "tasks", ["project_id", "number"], unique=True)
    _number_existing_rows()


def downgrade():
    op.drop_column("task_links", "closes_set_by_person")
    op.drop_column("task_links", "closes")
    op.drop_column("task_links", "source")
    op.drop_index("uq_tasks_project_number", table_name="tasks")
    op.drop_index("ix_projects_key", table_name="projects")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch rebuild would cascade-delete rows.
    op.drop_column("tasks", "number")
    op.drop_column("projects", "task_counter")
    op.drop_column("projects", "key")
    op.drop_table("link_removals")
    with op.batch_alter_table("project_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_keys_project_id"))
    op.drop_table("project_keys")
