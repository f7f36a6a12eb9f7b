"""ppm_offline: a small reference client for ppm's offline sync delta (SPEC §9).

It mirrors one project's tasks and task links (status, cached preview card, refresh errors)
into a local SQLite file through `GET /api/v1/projects/{p}/sync/`, resumes from the cursor it
stored, and shows a task's links while the server is unreachable.

It is a client, not part of the server: it talks to ppm only through the JSON API, never
imports `ppm`, and needs nothing beyond the Python standard library::

    python -m ppm_offline sync --server http://127.0.0.1:5000 --token TOKEN --project ID --db mirror.sqlite3
    python -m ppm_offline show --db mirror.sqlite3 [--task ID]
"""

from __future__ import annotations

__version__ = "0.1.0"
