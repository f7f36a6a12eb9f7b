"""The payload URL a provider posts to: `{base}/hooks/{provider}/{id}` (SPEC §13), where `base`
is the operator's PPM_BASE_URL (right behind a proxy) or else this request's scheme and host."""

from __future__ import annotations

from flask import current_app, request

from ppm.webhooks.models import WebhookReceiver


def payload_url(receiver: WebhookReceiver) -> str:
    configured = str(current_app.config.get("PPM_BASE_URL") or "").strip()
    base = configured.rstrip("/") if configured else request.host_url.rstrip("/")
    return f"{base}/hooks/{receiver.provider}/{receiver.id}"
