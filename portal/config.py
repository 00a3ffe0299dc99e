"""Settings of the portal: defaults for development, overridden from the environment."""

import os
import secrets
from datetime import date
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or invalid, so the portal refuses to start."""


def _parse_today(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ConfigError(f"PORTAL_TODAY={value!r} is not a date in YYYY-MM-DD form") from error


def _number(env, name: str, default: int | float) -> int | float:
    """Read a non-negative number setting of the same type as ``default``."""
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        number = type(default)(value)
    except ValueError as error:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ConfigError(f"{name}={value!r} is not {kind}") from error
    if number < 0:
        raise ConfigError(f"{name}={value!r} must not be negative")
    return number


def _development_secret(data_dir: Path) -> str:
    """Return a random key kept under the data folder, so sessions survive a restart."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, then apply ``overrides`` (used by tests)."""
    overrides = overrides or {}
    env = os.environ
    portal_env = overrides.get("PORTAL_ENV", env.get("PORTAL_ENV", "production"))
    data_dir = Path(overrides.get("PORTAL_DATA_DIR", env.get("PORTAL_DATA_DIR", "var"))).resolve()

    config = {
        "PORTAL_ENV": portal_env,
        "PORTAL_DATA_DIR": data_dir,
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}",
        # Unset means the embedded Redis that `portal run` starts on this socket.
        "REDIS_URL": env.get("REDIS_URL") or f"unix://{data_dir / 'redis.sock'}",
        "PORTAL_TODAY": _parse_today(env.get("PORTAL_TODAY")),
        "PORTAL_DEMO_PASSWORD": env.get("PORTAL_DEMO_PASSWORD", "demo"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Breakdowns with fewer respondents than this are not shown.
        "SUPPRESSION_THRESHOLD": _number(env, "PORTAL_SUPPRESSION_THRESHOLD", 10),
        # A worker counts as alive in /healthz when its heartbeat is younger than this (seconds).
        "WORKER_HEARTBEAT_MAX_AGE": 60,
        "RQ_QUEUE": env.get("PORTAL_RQ_QUEUE", "portal"),
        # Delivery to the Inspectie: "outbox" writes files, "https" posts to DELIVERY_HTTPS_URL.
        "DELIVERY_TRANSPORT": env.get("DELIVERY_TRANSPORT", "outbox"),
        "DELIVERY_HTTPS_URL": env.get("DELIVERY_HTTPS_URL", ""),
        "DELIVERY_HTTPS_TOKEN": env.get("DELIVERY_HTTPS_TOKEN", ""),
        "DELIVERY_CONNECT_TIMEOUT": _number(env, "DELIVERY_CONNECT_TIMEOUT", 5.0),
        "DELIVERY_READ_TIMEOUT": _number(env, "DELIVERY_READ_TIMEOUT", 30.0),
        # A failed send is retried after RETRY_BASE * 2**(attempt - 1) seconds, at most
        # RETRY_MAX_DELAY, until MAX_ATTEMPTS sends have failed; then it is given up.
        "DELIVERY_MAX_ATTEMPTS": _number(env, "DELIVERY_MAX_ATTEMPTS", 6),
        "DELIVERY_RETRY_BASE_SECONDS": _number(env, "DELIVERY_RETRY_BASE_SECONDS", 60.0),
        "DELIVERY_RETRY_MAX_DELAY_SECONDS": _number(
            env, "DELIVERY_RETRY_MAX_DELAY_SECONDS", 21600.0
        ),
        # A claimed send whose worker died is claimed again after this many seconds.
        "DELIVERY_LEASE_SECONDS": _number(env, "DELIVERY_LEASE_SECONDS", 300.0),
        # Mail: an SMTP server (smtp://host:port or smtp+starttls://user:password@host:port),
        # or unset to write each message as an .eml file under PORTAL_DATA_DIR/mail/.
        "MAIL_URL": env.get("MAIL_URL", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "noreply@portal.invalid"),
        # Links in e-mails start with this address of the portal.
        "PORTAL_BASE_URL": env.get("PORTAL_BASE_URL", "http://127.0.0.1:5000"),
        # Boards are reminded this many days before the last leverdatum of the school year.
        "REMINDER_DAYS_BEFORE_LAST": _number(env, "REMINDER_DAYS_BEFORE_LAST", 14),
        # Address of the portal's helpdesk, printed in the general factsheet.
        "HELPDESK_EMAIL": env.get("HELPDESK_EMAIL", "helpdesk@portal.invalid"),
        # Finished factsheet PDFs and batch ZIP files are removed after this many days.
        "FACTSHEET_RETENTION_DAYS": _number(env, "FACTSHEET_RETENTION_DAYS", 30),
        # RQ stops a factsheet build after this many seconds. A job still marked running
        # 30 s after that had a worker that died, so it is shown as failed.
        "FACTSHEET_JOB_TIMEOUT_SECONDS": _number(env, "FACTSHEET_JOB_TIMEOUT_SECONDS", 120),
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Survey files up to this size (bytes) are imported within the request; larger
        # ones go to an RQ job with a progress page.
        "IMPORT_INLINE_MAX_BYTES": _number(env, "PORTAL_IMPORT_INLINE_MAX_BYTES", 1_000_000),
        # RQ stops a survey import job after this many seconds.
        "IMPORT_JOB_TIMEOUT_SECONDS": _number(env, "PORTAL_IMPORT_JOB_TIMEOUT_SECONDS", 600),
        # Views marked with accepts_files take uploads up to this size (bytes); the
        # setting is in megabytes of 1,000,000 bytes.
        "UPLOAD_MAX_BYTES": int(_number(env, "PORTAL_UPLOAD_MAX_MB", 20.0) * 1_000_000),
    }
    config.update(overrides)
    if isinstance(config["PORTAL_TODAY"], str):
        config["PORTAL_TODAY"] = _parse_today(config["PORTAL_TODAY"])
    config["PORTAL_DATA_DIR"] = Path(config["PORTAL_DATA_DIR"])

    secret = config.get("SECRET_KEY") or env.get("SECRET_KEY")
    if not secret:
        if config["PORTAL_ENV"] not in ("development", "testing"):
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value, or set "
                "PORTAL_ENV=development for a local installation."
            )
        secret = _development_secret(config["PORTAL_DATA_DIR"])
    config["SECRET_KEY"] = secret
    config["TESTING"] = config["PORTAL_ENV"] == "testing" or config.get("TESTING", False)
    return config
