"""Use cases for people: accounts, password login and personal API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ppm.auth.models import ApiToken, User
from ppm.errors import Conflict, NotFound, ValidationCollector
from ppm.extensions import db
from ppm.models_base import utcnow
from ppm.text import text_problem

TOKEN_PREFIX = "ppm_"
# A fixed hash to compare against when the email is unknown, so timing does not reveal it.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    if "\x00" in email:  # PostgreSQL refuses NUL in a parameter; no address holds one
        return None
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(email: str, name: str, password: str) -> User:
    errors = ValidationCollector()
    email = normalize_email(email)
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        errors.add("email", "Enter an email address like name@example.com.")
    if not name.strip() or len(name.strip()) > 200:
        errors.add("name", "Enter a name of 1 to 200 characters.")
    if len(password) < 4 or len(password) > 1024:
        errors.add("password", "Enter a password of 4 to 1024 characters.")
    errors.raise_if_any()
    if find_user_by_email(email):
        raise Conflict("A user with this email already exists.", code="email_taken")
    user = User(email=email, name=name.strip(), password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email) if email else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is shown once and never stored."""
    name = name.strip() or "API token"
    errors = ValidationCollector()
    problem = text_problem(name)
    if problem:
        errors.add("name", f"The name {problem}.")
    elif len(name) > 100:
        errors.add("name", "Enter a name of at most 100 characters.")
    errors.raise_if_any()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_hash_token(token), prefix=token[: len(TOKEN_PREFIX) + 4])
    db.session.add(row)
    db.session.commit()
    return row, token


def list_api_tokens(user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
    return list(db.session.scalars(query))


def revoke_api_token(user: User, token_id: str) -> None:
    row = (
        None
        if "\x00" in token_id
        else db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    )
    if row is None:
        raise NotFound("This token does not exist or was already revoked.")
    db.session.delete(row)
    db.session.commit()


def user_for_api_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _hash_token(token)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.user


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session cookie issued so far stops working."""
    user.session_epoch += 1
    db.session.commit()
