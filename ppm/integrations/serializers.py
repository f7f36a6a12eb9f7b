"""The credential row as JSON: metadata only, never the token or anything derived from it."""

from __future__ import annotations

from typing import Any

from ppm.integrations.services import Account
from ppm.models_base import iso


def account_json(account: Account) -> dict[str, Any]:
    credential = account.credential
    return {
        "provider": account.provider.id,
        "name": account.provider.label,
        "requires_credential": account.provider.requires_credential,
        "exists": credential is not None,
        "base_url": credential.base_url if credential else "",
        "account_login": credential.account_login if credential else None,
        "scopes": list(credential.scopes) if credential and credential.scopes is not None else None,
        "created_at": iso(credential.created_at) if credential else None,
        "updated_at": iso(credential.updated_at) if credential else None,
        "last_used_at": iso(credential.last_used_at) if credential else None,
        "expires_at": iso(credential.expires_at) if credential else None,
        "background_refresh": bool(credential.background_refresh) if credential else False,
    }
