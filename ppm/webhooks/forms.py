"""Shape of the create-receiver form. CSRF is checked for every browser write in ppm.auth.guard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField

PROVIDER_CHOICES = [("github", "GitHub"), ("gitlab", "GitLab"), ("gitea", "Gitea / Forgejo")]


class ReceiverForm(FlaskForm):
    class Meta:
        csrf = False

    provider = StringField("Provider")  # one of PROVIDER_CHOICES; the service checks it
