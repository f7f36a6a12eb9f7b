"""task link checks, review and kind (SPEC §15, §16)

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 07:50:00

`checks` and `review` start null (review and CI fill them later). `kind` says whether a link is
a pull or merge request ("pull"), an issue ("issue") or neither (""): the attention codes read it
in SQL. New links get it from the app (a column default); existing ones are classified here by
the same URL shapes the providers use (SPEC §6, §18), frozen at this revision.
"""

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_GITHUB = re.compile(r"^/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}/(pull|issues)/[0-9]+(/|$)")
_GITLAB = re.compile(r"^/(?:[^/]+/)+-/(merge_requests|issues|work_items|issues/incident)/[0-9]+(/|$)")


def _kind(provider: str, url: str, base_url: str) -> str:
    path = urlsplit(url).path
    if base_url:
        path = path[len(urlsplit(base_url).path.rstrip("/")) :]
    pattern = {"github": _GITHUB, "gitlab": _GITLAB}.get(provider)
    found = pattern.match(path) if pattern else None
    if found is None:
        return ""
    return "pull" if found.group(1) in ("pull", "merge_requests") else "issue"


def upgrade():
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checks", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("review", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=8), server_default="", nullable=False))
    links = sa.table(
        "task_links", sa.column("id"), sa.column("provider"), sa.column("url"), sa.column("base_url"), sa.column("kind")
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(links.c.id, links.c.provider, links.c.url, links.c.base_url).where(
            links.c.provider.in_(("github", "gitlab"))
        )
    ).all()
    for link_id, provider, url, base_url in rows:
        kind = _kind(provider, url, base_url or "")
        if kind:
            connection.execute(sa.update(links).where(links.c.id == link_id).values(kind=kind))


def downgrade():
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.drop_column("review")
        batch_op.drop_column("checks")
