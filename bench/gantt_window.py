"""Cost of the Gantt for the widest plan tasks may have (SPEC §19): ten tasks from 1900-01-01
to 2199-12-31, at every zoom, against a ten-task plan of one month as the baseline.

Run: .venv/bin/python bench/gantt_window.py [--runs 5]

Printed per zoom: the median and spread of --runs timed requests (after one warm-up) for both
plans, the page size and the number of SQL queries, then the wide/short time ratio. Before the
window, year 2 to 9999 at Day zoom took 21 s and 273 MiB a request. Benchmarks print figures;
they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bench.schedule import EMAIL, login, make_app
from ppm.auth import services as auth_services
from ppm.extensions import db
from ppm.projects import services as projects
from ppm.schedule.gantt import ZOOMS

WIDE = [("1900-01-01", "1900-01-05"), ("2199-12-20", "2199-12-31")] + [
    (f"{1900 + 37 * i}-03-01", f"{1901 + 37 * i}-03-01") for i in range(8)
]
SHORT = [(f"2026-03-{day:02d}", f"2026-03-{day + 3:02d}") for day in range(1, 21, 2)]


def build(app: Flask, name: str, spans: list[tuple[str, str]]) -> str:
    with app.app_context():
        owner = auth_services.find_user_by_email(EMAIL)
        assert owner is not None
        pid = projects.create_project(owner, {"name": name}).project.id
        for index, (start, finish) in enumerate(spans):
            projects.create_task(owner, pid, {"name": f"Task {index}", "start_date": start, "finish_date": finish})
        return pid


def measure(app: Flask, client: FlaskClient, url: str, runs: int) -> tuple[float, float, int, int]:
    client.get(url)  # warm up
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    statements: list[str] = []
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        size = len(client.get(url).data)
        event.remove(db.engine, "before_cursor_execute", listener)
    return statistics.median(times), max(times) - min(times), size, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder)
        wide, short = build(app, "Wide", WIDE), build(app, "Short", SHORT)
        client = login(app)
        print(f"{'zoom':8} {'plan':6} {'median ms':>10} {'spread ms':>10} {'KB':>8} {'queries':>8}")
        for zoom in ZOOMS:
            medians = {}
            for label, pid in (("short", short), ("wide", wide)):
                url = f"/projects/{pid}/schedule?view=gantt&zoom={zoom}"
                median, spread, size, queries = measure(app, client, url, args.runs)
                medians[label] = median
                print(f"{zoom:8} {label:6} {median * 1000:10.1f} {spread * 1000:10.1f} {size / 1024:8.1f} {queries:8}")
            print(f"{zoom:8} wide/short time ratio: {medians['wide'] / medians['short']:.2f}")


if __name__ == "__main__":
    main()
