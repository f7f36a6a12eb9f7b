"""Shape of the create-receiver form. CSRF is checked for every browser write in ppm.auth.guard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField

PROVIDER_CHOICES = [("github", "GitHub"), ("gitlab", "GitLab")]


class ReceiverForm(FlaskForm):
    class Meta:
        csrf = False

    provider = SelectField("Provider", choices=PROVIDER_CHOICES, validate_choice=False)
