"""Service configuration from environment variables (every one has a documented default).

=========================  =====================================  ==============================
variable                   meaning                                default
=========================  =====================================  ==============================
``RECSYS_MODELS_DIR``      models directory (serves ``current``)  ``models``
``RECSYS_ORDERS_DB``       SQLite file of ingested orders         ``<models dir>/orders.sqlite``
``RECSYS_HOST``            address to listen on                   ``127.0.0.1``
``RECSYS_PORT``            port                                   ``8000``
``RECSYS_READ_KEYS``       API keys for the read routes (comma)   none
``RECSYS_INGEST_KEYS``     API keys for ``POST /v1/orders``       none
``RECSYS_KEYS_FILE``       file of ``read:KEY`` / ``ingest:KEY``  none
                           lines (``#`` comments), added to the
                           two variables above
``RECSYS_RELOAD_SECONDS``  how often ``current`` is checked       ``5``
``RECSYS_CACHE_CUSTOMERS`` customers whose lists stay in memory   ``50000``
``RECSYS_WARM``            precompute today's lists at load       ``1``
``RECSYS_LINK_SECRET``     key signing CRM page links             random at each start
``RECSYS_CORS_ORIGINS``    web origins whose pages may call the   none (same origin only)
                           API from a browser (comma; ``*`` any),
                           e.g. ``https://shop.example.com``
=========================  =====================================  ==============================

With no key configured at all, authentication is off and a warning is logged at start: fine on
a developer's loopback, never in production.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from recsys.exceptions import ParameterError


@dataclass(frozen=True)
class Settings:
    models_dir: Path = Path("models")
    orders_db: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    read_keys: frozenset[str] = field(default_factory=frozenset)
    ingest_keys: frozenset[str] = field(default_factory=frozenset)
    reload_seconds: float = 5.0
    cache_customers: int = 50_000
    warm: bool = True
    link_secret: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    cors_origins: tuple[str, ...] = ()

    @property
    def orders_path(self) -> Path:
        return self.orders_db or self.models_dir / "orders.sqlite"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.read_keys or self.ingest_keys)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``env`` (default ``os.environ``); a bad value raises ParameterError."""
        env = os.environ if env is None else env
        read = _keys(env.get("RECSYS_READ_KEYS", ""))
        ingest = _keys(env.get("RECSYS_INGEST_KEYS", ""))
        if env.get("RECSYS_KEYS_FILE"):
            file_read, file_ingest = read_keys_file(Path(env["RECSYS_KEYS_FILE"]))
            read, ingest = read | file_read, ingest | file_ingest
        return cls(
            models_dir=Path(env.get("RECSYS_MODELS_DIR", "models")),
            orders_db=Path(env["RECSYS_ORDERS_DB"]) if env.get("RECSYS_ORDERS_DB") else None,
            host=env.get("RECSYS_HOST", "127.0.0.1"),
            port=_number(env, "RECSYS_PORT", 8000, int, 1, 65535),
            read_keys=read,
            ingest_keys=ingest,
            reload_seconds=_number(env, "RECSYS_RELOAD_SECONDS", 5.0, float, 0.1, 86_400),
            cache_customers=_number(env, "RECSYS_CACHE_CUSTOMERS", 50_000, int, 1, 10**8),
            warm=env.get("RECSYS_WARM", "1").strip().lower() not in ("0", "false", "no", ""),
            link_secret=env.get("RECSYS_LINK_SECRET") or secrets.token_hex(32),
            cors_origins=_origins(env.get("RECSYS_CORS_ORIGINS", "")),
        )


def read_keys_file(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(read keys, ingest keys) from lines ``read:KEY`` or ``ingest:KEY``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParameterError(f"RECSYS_KEYS_FILE {path}: cannot read ({exc.strerror})") from None
    keys: dict[str, set[str]] = {"read": set(), "ingest": set()}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, key = line.partition(":")
        if kind.strip() not in keys or not key.strip():
            raise ParameterError(
                f"RECSYS_KEYS_FILE {path}, line {number}: expected 'read:KEY' or 'ingest:KEY'"
            )
        keys[kind.strip()].add(key.strip())
    return frozenset(keys["read"]), frozenset(keys["ingest"])


def _origins(text: str) -> tuple[str, ...]:
    """Web origins (``scheme://host[:port]``, or ``*``), as a browser sends them."""
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not rest or "/" in rest):
            raise ParameterError(
                f"RECSYS_CORS_ORIGINS: '{origin}' is not an origin; expected e.g. "
                f"https://shop.example.com (scheme and host, no path) or *"
            )
    return origins


def _keys(text: str) -> frozenset[str]:
    return frozenset(k.strip() for k in text.split(",") if k.strip())


def _number(env: Mapping[str, str], name: str, default, kind, low, high):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ParameterError(f"{name}: expected a number, got '{raw}'") from None
    if not low <= value <= high:
        raise ParameterError(f"{name}: expected {low}..{high}, got {raw}")
    return value
