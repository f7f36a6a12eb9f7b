"""SPEC §19: task dates from 1900-01-01 to 2199-12-31; anything else → 400 `validation_error`
on that field (creating and editing, start and finish)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TokenClient
from tests.projects.helpers import assert_error

INSIDE = ["1900-01-01", "1900-01-02", "2199-12-30", "2199-12-31"]
OUTSIDE = ["1899-12-31", "2200-01-01", "0001-01-01", "9999-12-31", "1000-06-15"]


@pytest.mark.parametrize("day", INSIDE)
def test_dates_inside_the_range_are_accepted(owner: TokenClient, project: dict[str, Any], day: str) -> None:
    url = f"/api/v1/projects/{project['id']}/tasks/"
    created = owner.api("POST", url, {"name": "T", "start_date": day, "finish_date": day})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert (created.get_json()["start_date"], created.get_json()["finish_date"]) == (day, day)
    wide = owner.api("POST", url, {"name": "Wide", "start_date": "1900-01-01", "finish_date": "2199-12-31"})
    assert wide.status_code == 201
    edited = owner.api("PATCH", f"{url}{wide.get_json()['id']}/", {"start_date": day, "finish_date": day})
    assert edited.status_code == 200, edited.get_data(as_text=True)


@pytest.mark.parametrize("day", OUTSIDE)
@pytest.mark.parametrize("field", ["start_date", "finish_date"])
def test_dates_outside_the_range_are_400_on_that_field(
    owner: TokenClient, project: dict[str, Any], day: str, field: str
) -> None:
    url = f"/api/v1/projects/{project['id']}/tasks/"
    body = {"name": "T", "start_date": "2026-01-01", "finish_date": "2026-01-02", field: day}
    refused = assert_error(owner.api("POST", url, body), 400, "validation_error", field)
    assert "1900-01-01" in refused["fields"][field][0] and "2199-12-31" in refused["fields"][field][0]
    task = owner.api("POST", url, {"name": "T"}).get_json()
    assert_error(owner.api("PATCH", f"{url}{task['id']}/", {field: day}), 400, "validation_error", field)
    milestone = owner.api("POST", url, {"name": "M", "is_milestone": True, field: day})
    assert_error(milestone, 400, "validation_error", field)
