"""A webhook receiver as JSON (SPEC §13). The secret is added only by `revealed_json`."""

from __future__ import annotations

from typing import Any

from ppm.models_base import iso
from ppm.webhooks.models import WebhookReceiver
from ppm.webhooks.services import Revealed


def receiver_json(receiver: WebhookReceiver, payload_url: str) -> dict[str, Any]:
    return {
        "id": receiver.id,
        "provider": receiver.provider,
        "url": payload_url,
        "created_at": iso(receiver.created_at),
        "last_delivery_at": iso(receiver.last_delivery_at),
        "last_delivery_result": receiver.last_delivery_result,
        "deliveries": receiver.deliveries,
    }


def revealed_json(revealed: Revealed, payload_url: str) -> dict[str, Any]:
    return {**receiver_json(revealed.receiver, payload_url), "secret": revealed.secret}
