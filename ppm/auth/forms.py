"""Shapes of the auth forms. CSRF is checked for every browser write in ppm.auth.guard."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    class Meta:
        csrf = False

    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ApiTokenForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(
        "Token name (optional)", validators=[Length(max=100, message="Enter a name of at most 100 characters.")]
    )
