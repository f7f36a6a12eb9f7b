"""Sections other capabilities add to a project's Integrations page (webhooks, say), so the
page can show them while `projects` imports none of those capabilities: each entry renders its
section's HTML for one member's view of the project."""

from __future__ import annotations

from collections.abc import Callable

from ppm.projects.services import Access

INTEGRATION_SECTIONS: list[Callable[[Access], str]] = []
