"""Subscriptions and delivery log rows as JSON (SPEC §25). The secret only in `revealed_json`."""

from __future__ import annotations

from typing import Any

from ppm.models_base import iso
from ppm.notifications.models import NotificationAttempt, NotificationSubscription
from ppm.notifications.services import Revealed


def subscription_json(subscription: NotificationSubscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "format": subscription.format,
        "events": list(subscription.events or []),
        "enabled": subscription.enabled,
        "disabled_reason": subscription.disabled_reason,
        "created_at": iso(subscription.created_at),
        "last_delivery_at": iso(subscription.last_delivery_at),
        "last_delivery_result": subscription.last_delivery_result,
        "failures": subscription.failures,
    }


def revealed_json(revealed: Revealed) -> dict[str, Any]:
    data = subscription_json(revealed.subscription)
    if revealed.secret:
        data["secret"] = revealed.secret
    return data


def attempt_json(attempt: NotificationAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "event_id": attempt.event_id,
        "type": attempt.type,
        "attempt": attempt.attempt,
        "at": iso(attempt.at),
        "http_status": attempt.http_status,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }
