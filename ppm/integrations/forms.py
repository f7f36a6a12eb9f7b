"""Shape of the connect / rotate form. CSRF is checked for every browser write in ppm.auth.guard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, URLField
from wtforms.validators import Optional


class ConnectForm(FlaskForm):
    class Meta:
        csrf = False

    token = PasswordField("Access token")
    base_url = URLField("Host URL (optional)")
    expires_at = DateField("Expiry date (optional)", validators=[Optional()])
