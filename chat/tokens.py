"""Visitor tokens and signed identities.

A visitor token is 192 random bits issued by the server; only its SHA-256 is stored, so a database leak does
not let anyone resume a visitor's conversation. A site passes a logged-in customer's identity as a JSON
payload with `HMAC-SHA256(widget secret, payload)`; without a valid signature the visitor stays anonymous.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_token_shape(token: Any) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()


def sign_identity(secret: str, payload: str) -> str:
    """What the customer's site computes on its server (documented in the widget admin)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def verify_identity(secret: str, payload: Any, signature: Any) -> dict[str, Any] | None:
    """The identity claims when the signature is valid, else None. Claims: email (required), name, attributes."""
    if not isinstance(payload, str) or not isinstance(signature, str) or not secret or len(payload) > 8000:
        return None
    if not hmac.compare_digest(sign_identity(secret, payload), signature.lower()):
        return None
    try:
        claims = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("email"), str) or "@" not in claims["email"]:
        return None
    attributes = claims.get("attributes")
    return {
        "email": claims["email"].strip()[:254],
        "name": str(claims.get("name") or "")[:200],
        "attributes": {str(k)[:64]: v for k, v in attributes.items() if isinstance(v, (str, int, float, bool))}
        if isinstance(attributes, dict)
        else {},
    }
