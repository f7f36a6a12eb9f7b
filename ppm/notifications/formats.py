"""What goes on the wire (SPEC §25): the event payloads, the Slack text, the secret and the
Standard Webhooks signature. Pure functions: no database, no network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "ppm-notifications/1"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the Standard Webhooks secret form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(16)


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(fmt: str, event_id: str, timestamp: int, body: bytes, secret: str | None) -> dict[str, str]:
    """The request headers of one attempt (the id is the event's; the timestamp is now)."""
    out = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
    }
    if fmt == "standard" and secret:
        out["webhook-signature"] = sign(secret, event_id, timestamp, body)
    return out


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


# --- Slack ------------------------------------------------------------------------------

TYPE_WORDS = {
    "link.status_changed": "link changed",
    "task.attention_changed": "attention changed",
    "task.state_changed": "state changed",
}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _values(value: dict[str, Any] | None) -> str:
    if not value:
        return "none"
    parts = []
    for key, item in value.items():
        shown = ", ".join(item) if isinstance(item, list) else str(item)
        parts.append(f"{key} {shown or 'none'}")
    return "; ".join(parts)


def slack(payload: dict[str, Any]) -> dict[str, str]:
    """`{"text": ...}`: the task key and name, what changed, and a link back to ppm."""
    data = payload.get("data") or {}
    project = data.get("project") or {}
    if payload.get("type") == "ping":
        return {
            "text": _slack_escape(f"ppm: notifications from {project.get('name', 'a project')} reach this channel.")
        }
    task = data.get("task") or {}
    label = " ".join(str(part) for part in (task.get("key"), task.get("name")) if part)
    change = TYPE_WORDS.get(str(payload.get("type")), str(payload.get("type")))
    text = f"{label}: {change} from {_values(data.get('previous'))} to {_values(data.get('current'))}"
    link = data.get("link")
    if link:
        text += f" ({link.get('display_title') or link.get('url')})"
    escaped = _slack_escape(text)
    if task.get("url"):
        escaped += f" <{task['url']}|Open in ppm>"
    return {"text": escaped}
