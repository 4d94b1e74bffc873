"""Settings from ``HELPDESK_*`` environment variables, validated at start.

Every setting has a safe default so a newcomer starts with nothing set; a
value that is present but wrong stops the app at start with a message that
names the variable, instead of failing later in a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """A HELPDESK_* setting is invalid; the message names it and says what to do."""


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id cost, in argon2's own notation: ``t`` passes over ``m`` KiB of memory in ``p`` lanes.

    The default is RFC 9106's second recommended profile (what argon2-cffi
    chooses too).  Stored hashes carry their parameters, so changing these
    only rehashes each user at their next sign-in.
    """

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4

    # OWASP's argon2id minimum (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane.
    FLOOR: ClassVar[tuple[int, int, int]] = (2, 19456, 1)

    @property
    def below_floor(self) -> bool:
        """Cheaper than OWASP's minimum: fine for a test run, never for real passwords."""
        t, m, p = self.FLOOR
        return self.time_cost < t or self.memory_cost < m or self.parallelism < p

    def __str__(self) -> str:
        return f"t={self.time_cost},m={self.memory_cost},p={self.parallelism}"


@dataclass(frozen=True)
class Settings:
    """The validated settings the app runs with."""

    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    attachment_max_bytes: int
    attachment_storage: str
    tasks_immediate: bool
    poll_interval_s: int
    run_worker_in_process: bool
    encryption_keys: tuple[bytes, ...] = ()
    public_url: str | None = None
    session_idle_minutes: int = 120  # a session unused this long ends (HELPDESK_SESSION_IDLE_MINUTES)
    session_max_hours: int = 12  # and every session ends this long after sign-in, used or not
    smtp_url: str | None = None  # the helpdesk's own mail (password links), not a channel's mailbox
    mail_from: str | None = None
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers are believed
    api_rate_limit: str = "600/minute"  # per API token (per address without one); a limits string
    api_cors_origins: tuple[str, ...] = ()  # origins whose scripts may call the API; none by default
    password_hashing: PasswordHashing = field(default_factory=PasswordHashing)
    https: bool = False  # served over HTTPS (behind a proxy): Secure cookies and HSTS
    query_timeout_ms: int = 10_000  # each statement of a web request; 0: none (see helpdesk.querybudget)
    # outbound addresses inside the network (see channels.netguard): None = loopback only in tests, debug, demo
    allow_private_urls: bool | None = None
    allowed_url_networks: tuple[str, ...] = ()
    poll_reader: str = "process"  # where a poll reads pages ahead: process, thread or inline (helpdesk.polling.reading)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use true or false")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} is too small; it must be at least {minimum}")
    return value


def _database_url(env: Mapping[str, str], instance_path: Path) -> str:
    raw = env.get("HELPDESK_DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance_path / 'helpdesk.db'}"
    scheme = urlsplit(raw).scheme
    if scheme in {"postgres", "postgresql"}:
        # Use the psycopg 3 driver whatever spelling the operator used.
        return "postgresql+psycopg" + raw[len(scheme) :]
    if scheme in {"sqlite", "postgresql+psycopg"}:
        return raw
    raise ConfigError(
        f"HELPDESK_DATABASE_URL has scheme {scheme!r}; use sqlite:///path/to/file.db "
        "or postgresql://user@host:5432/dbname"
    )


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("HELPDESK_REDIS_URL", "").strip()
    if not raw:
        return None
    if urlsplit(raw).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"HELPDESK_REDIS_URL={raw!r} must start with redis://, rediss:// or unix://")
    return raw


def _api_rate_limit(env: Mapping[str, str]) -> str:
    from limits import parse_many

    raw = env.get("HELPDESK_API_RATE_LIMIT", "").strip() or "600/minute"
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(
            f"HELPDESK_API_RATE_LIMIT={raw!r} is not a rate; write e.g. 600/minute or 10/second"
        ) from None
    return raw


def _api_cors_origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """``HELPDESK_API_CORS_ORIGINS=https://erp.example.com,https://shop.example.com``; ``*`` is refused."""
    origins = tuple(o.strip().rstrip("/") for o in env.get("HELPDESK_API_CORS_ORIGINS", "").split(",") if o.strip())
    for origin in origins:
        if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
            raise ConfigError(
                f"HELPDESK_API_CORS_ORIGINS: {origin!r} is not an origin; write e.g. https://erp.example.com "
                "(scheme and host, no path; '*' is not allowed: tokens would work from any web page)"
            )
    return origins


_HASH_KEYS = {"t": "time_cost", "m": "memory_cost", "p": "parallelism"}


def _password_hashing(env: Mapping[str, str]) -> PasswordHashing:
    """``HELPDESK_PASSWORD_HASH=t=3,m=65536,p=4``: any of the three; the others keep their default.

    Whether a value below OWASP's minimum may run is decided when the app is
    built (only a test app may), see ``helpdesk.signin.passwords.init_app``.
    """
    name = "HELPDESK_PASSWORD_HASH"
    raw = env.get(name, "").strip()
    if not raw:
        return PasswordHashing()
    values: dict[str, int] = {}
    for part in raw.split(","):
        key, _, number = part.strip().partition("=")
        if key.strip() not in _HASH_KEYS or not number.strip().isdigit():
            raise ConfigError(
                f"{name}={raw!r} is not argon2id parameters; write e.g. t=3,m=65536,p=4 (passes, memory in KiB, lanes)"
            )
        values[_HASH_KEYS[key.strip()]] = int(number)
    params = PasswordHashing(**values)
    if params.time_cost < 1 or params.parallelism < 1 or params.memory_cost < 8 * params.parallelism:
        raise ConfigError(f"{name}={raw!r} is impossible for argon2: t and p at least 1, m at least 8 KiB per lane")
    return params


def _session_lifetimes(env: Mapping[str, str]) -> tuple[int, int]:
    """Idle and absolute session lifetimes; the idle one cannot be the longer (it would never apply)."""
    if "HELPDESK_SESSION_HOURS" in env:
        raise ConfigError(
            "HELPDESK_SESSION_HOURS was replaced by HELPDESK_SESSION_IDLE_MINUTES (how long an unused session "
            "lasts, default 120) and HELPDESK_SESSION_MAX_HOURS (how long any session lasts, default 12); "
            "set those instead"
        )
    idle = _int(env, "HELPDESK_SESSION_IDLE_MINUTES", 120)
    most = _int(env, "HELPDESK_SESSION_MAX_HOURS", 12)
    if idle > most * 60:
        raise ConfigError(
            f"HELPDESK_SESSION_IDLE_MINUTES={idle} is longer than HELPDESK_SESSION_MAX_HOURS={most} hours; "
            "lower it or raise the maximum"
        )
    return idle, most


def _allowed_url_networks(env: Mapping[str, str]) -> tuple[str, ...]:
    """``HELPDESK_ALLOWED_URL_NETWORKS=10.20.0.0/16,fd00:1::/64``: inside addresses outbound calls may reach."""
    import ipaddress

    name = "HELPDESK_ALLOWED_URL_NETWORKS"
    networks = []
    for part in (p.strip() for p in env.get(name, "").split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name}: {part!r} is not a network; write addresses or ranges like 10.20.0.5 or 10.20.0.0/16"
            ) from None
    return tuple(networks)


def _secret_key(env: Mapping[str, str], instance_path: Path) -> str:
    raw = env.get("HELPDESK_SECRET_KEY")
    if raw is not None:
        if len(raw) < 16:
            raise ConfigError("HELPDESK_SECRET_KEY is shorter than 16 characters; use a long random value")
        return raw
    # First run without a key: generate one and keep it, so sessions survive restarts.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


def _encryption_keys(env: Mapping[str, str], secret_key: str) -> tuple[bytes, ...]:
    from helpdesk.crypto import derived_key

    raw = env.get("HELPDESK_ENCRYPTION_KEY", "").strip()
    if not raw:
        return (derived_key(secret_key),)
    keys = tuple(part.strip().encode() for part in raw.split(",") if part.strip())
    from cryptography.fernet import Fernet

    for n, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"HELPDESK_ENCRYPTION_KEY key {n} is not a Fernet key (32 url-safe base64 bytes); make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
    return keys


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("HELPDESK_PUBLIC_URL", "").strip().rstrip("/")
    if not raw:
        return None
    if urlsplit(raw).scheme not in {"https", "http"}:
        raise ConfigError(f"HELPDESK_PUBLIC_URL={raw!r} must start with https://")
    return raw


_SMTP_SCHEMES = {"smtp", "smtp+starttls", "smtps"}


def _smtp(env: Mapping[str, str], public_url: str | None) -> tuple[str | None, str | None]:
    """``HELPDESK_SMTP_URL`` and ``HELPDESK_MAIL_FROM``: both or neither, and links need a public URL."""
    raw = env.get("HELPDESK_SMTP_URL", "").strip()
    sender = env.get("HELPDESK_MAIL_FROM", "").strip() or None
    if not raw:
        return None, None
    parts = urlsplit(raw)
    if parts.scheme not in _SMTP_SCHEMES or not parts.hostname:
        raise ConfigError(
            "HELPDESK_SMTP_URL must look like smtp+starttls://user:password@mail.example.com:587 "
            "(or smtps://… for TLS on connect, smtp://… for a local relay without TLS)"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigError("HELPDESK_SMTP_URL has a port that is not a number") from None
    if sender is None or "@" not in sender:
        raise ConfigError(
            "HELPDESK_SMTP_URL is set: also set HELPDESK_MAIL_FROM to the sender address, e.g. helpdesk@example.com"
        )
    if public_url is None:
        raise ConfigError(
            "HELPDESK_SMTP_URL is set: also set HELPDESK_PUBLIC_URL (e.g. https://help.example.com) so that "
            "e-mailed links point at this helpdesk"
        )
    return raw, sender


def load_settings(env: Mapping[str, str] | None = None, instance_path: Path | None = None) -> Settings:
    """Read and validate the settings; raise ConfigError naming the bad variable."""
    env = os.environ if env is None else env
    if instance_path is None:
        instance_path = Path(env.get("HELPDESK_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    instance_path.mkdir(parents=True, exist_ok=True)
    storage = env.get("HELPDESK_ATTACHMENT_STORAGE", "disk").strip().lower()
    if storage not in {"disk", "db"}:
        raise ConfigError(f"HELPDESK_ATTACHMENT_STORAGE={storage!r} must be 'disk' or 'db'")
    secret_key = _secret_key(env, instance_path)
    public_url = _public_url(env)
    smtp_url, mail_from = _smtp(env, public_url)
    idle_minutes, max_hours = _session_lifetimes(env)
    return Settings(
        instance_path=instance_path,
        database_url=_database_url(env, instance_path),
        redis_url=_redis_url(env),
        api_rate_limit=_api_rate_limit(env),
        api_cors_origins=_api_cors_origins(env),
        password_hashing=_password_hashing(env),
        secret_key=secret_key,
        encryption_keys=_encryption_keys(env, secret_key),
        public_url=public_url,
        session_idle_minutes=idle_minutes,
        session_max_hours=max_hours,
        smtp_url=smtp_url,
        mail_from=mail_from,
        attachment_max_bytes=_int(env, "HELPDESK_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024),
        attachment_storage=storage,
        tasks_immediate=_bool(env, "HELPDESK_TASKS_IMMEDIATE", False),
        poll_interval_s=_int(env, "HELPDESK_POLL_INTERVAL", 60),
        run_worker_in_process=_bool(env, "HELPDESK_WORKER_IN_PROCESS", True),
        trusted_proxies=_int(env, "HELPDESK_TRUSTED_PROXIES", 0, minimum=0),
        query_timeout_ms=_int(env, "HELPDESK_QUERY_TIMEOUT_MS", 10_000, minimum=0),
        allow_private_urls=_bool(env, "HELPDESK_ALLOW_PRIVATE_URLS", False)
        if env.get("HELPDESK_ALLOW_PRIVATE_URLS", "").strip()
        else None,
        allowed_url_networks=_allowed_url_networks(env),
        poll_reader=_choice(env, "HELPDESK_POLL_READER", "process", ("process", "thread", "inline")),
        # on by default when the public address is https: a deployment that says so is served that way
        https=_bool(env, "HELPDESK_HTTPS", bool(public_url and public_url.startswith("https://"))),
    )
