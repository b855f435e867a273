"""Signed, short-lived links to the CRM page: a CRM embeds the page in an iframe without
handing the browser an API key. The signature is an HMAC-SHA256 of the customer id and the
expiry time under ``RECSYS_LINK_SECRET``."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret: str, customer_id: str, expires: int) -> str:
    message = f"{customer_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, customer_id: str, expires: int, signature: str) -> bool:
    """True if the signature is right for this customer and has not expired."""
    if expires < time.time():
        return False
    return hmac.compare_digest(sign(secret, customer_id, expires).encode(), signature.encode())
