"""Shapes of the project forms. CSRF is checked for every browser write in ppm.auth.guard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField

from ppm.projects.models import ROLE_NAMES

ROLE_CHOICES = [(name, name.capitalize()) for name in ROLE_NAMES]


class ProjectForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Project name")


class MemberForm(FlaskForm):
    class Meta:
        csrf = False

    email = EmailField("Email address")
    role = StringField("Role", default="member")  # rendered as a select of ROLE_CHOICES


class RoleForm(FlaskForm):
    class Meta:
        csrf = False

    role = StringField("Role")
