"""Shapes of the schedule forms. CSRF is checked for every browser write in ppm.auth.guard.

Dates stay text fields (rendered as `type="date"`), so whatever a person typed comes back
unchanged beside its error message.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField


class AddTaskForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Task name")
    start_date = StringField("Start date")
    finish_date = StringField("Finish date")
    is_milestone = BooleanField("Milestone (a single day)")
    parent_id = StringField("Put it under")  # rendered as a select of the summary tasks


class EditTaskForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Task name")
    start_date = StringField("Start date")
    finish_date = StringField("Finish date")
    description = TextAreaField("Description")
