"""Shapes of the link forms. CSRF is checked for every browser write in ppm.auth.guard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, URLField


class LinkForm(FlaskForm):
    class Meta:
        csrf = False

    url = URLField("Link")
    custom_title = StringField("Title (optional)")
    labels = StringField("Labels (optional)")


def split_labels(raw: str | None) -> list[str]:
    """Labels are typed comma-separated in the form."""
    return (raw or "").split(",")
