"""Uploaded registry files kept between preview and confirmation.

Each upload is stored as ``<token>.csv`` with ``<token>.json`` beside it under
``PORTAL_DATA_DIR/registry/``. The confirmation form carries the token and the file's
SHA-256, and the file is used only when both match what was stored, so a changed form or
a changed file on disk cannot slip in another file.
"""

import hashlib
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

logger = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# An upload that is not confirmed within this many seconds is refused and removed.
STAGING_TTL_SECONDS = 2 * 3600


class StagingError(Exception):
    """The staged file cannot be used; ``code`` is tampered, missing or expired."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class StagedFile:
    token: str
    sha256: str
    kind: str
    school_year: str | None
    filename: str
    user_id: int
    data: bytes = b""


def staging_dir() -> Path:
    path = Path(current_app.config["PORTAL_DATA_DIR"]) / "registry"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_file(
    data: bytes, kind: str, school_year: str | None, filename: str, user_id: int
) -> StagedFile:
    """Store an upload for later confirmation and return its token and SHA-256."""
    remove_expired()
    staged = StagedFile(
        token=secrets.token_urlsafe(24),
        sha256=hashlib.sha256(data).hexdigest(),
        kind=kind,
        school_year=school_year,
        filename=filename,
        user_id=user_id,
    )
    directory = staging_dir()
    (directory / f"{staged.token}.csv").write_bytes(data)
    meta = {
        "sha256": staged.sha256,
        "kind": kind,
        "school_year": school_year,
        "filename": filename,
        "user_id": user_id,
    }
    (directory / f"{staged.token}.json").write_text(json.dumps(meta))
    logger.info("registry file staged token=%s kind=%s bytes=%s", staged.token, kind, len(data))
    return staged


def load_staged(token: str, sha256: str, user_id: int) -> StagedFile:
    """Return the staged file of ``token`` if the form's SHA-256 and the stored file match.

    Raises StagingError("tampered") for a malformed token or a digest that does not match,
    "missing" when the file is gone (already applied or cancelled, or uploaded by another
    user) and "expired" when it is older than STAGING_TTL_SECONDS.
    """
    if not TOKEN_PATTERN.match(token or "") or not SHA256_PATTERN.match(sha256 or ""):
        raise StagingError("tampered")
    directory = staging_dir()
    data_path = directory / f"{token}.csv"
    meta_path = directory / f"{token}.json"
    try:
        meta = json.loads(meta_path.read_text())
        data = data_path.read_bytes()
        age = time.time() - data_path.stat().st_mtime
    except (OSError, ValueError):
        raise StagingError("missing") from None
    if meta.get("user_id") != user_id:
        raise StagingError("missing")
    if age > STAGING_TTL_SECONDS:
        discard(token)
        raise StagingError("expired")
    digest = hashlib.sha256(data).hexdigest()
    if not (secrets.compare_digest(sha256, meta["sha256"]) and digest == meta["sha256"]):
        logger.warning("registry file digest mismatch token=%s", token)
        raise StagingError("tampered")
    return StagedFile(
        token=token,
        sha256=digest,
        kind=meta["kind"],
        school_year=meta["school_year"],
        filename=meta["filename"],
        user_id=user_id,
        data=data,
    )


def claim(token: str) -> bool:
    """Take the staged file out of use, so a second confirmation finds it missing.

    Returns False when another request claimed it first.
    """
    directory = staging_dir()
    try:
        os.rename(directory / f"{token}.json", directory / f"{token}.claimed")
    except FileNotFoundError:
        return False
    return True


def discard(token: str) -> None:
    """Remove every file of a staged upload."""
    if not TOKEN_PATTERN.match(token or ""):
        return
    directory = staging_dir()
    for suffix in (".csv", ".json", ".claimed"):
        (directory / f"{token}{suffix}").unlink(missing_ok=True)


def remove_expired() -> int:
    """Remove staged uploads older than STAGING_TTL_SECONDS; return how many files went."""
    limit = time.time() - STAGING_TTL_SECONDS
    removed = 0
    for path in staging_dir().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
