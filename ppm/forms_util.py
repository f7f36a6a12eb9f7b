"""Bridges service validation errors onto Flask-WTF forms, so a page shows them by the field."""

from __future__ import annotations

from flask_wtf import FlaskForm

from ppm.errors import ValidationError


def apply_errors(form: FlaskForm, error: ValidationError) -> None:
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.append(" ".join(messages))
        else:
            field.errors = list(messages)
