"""Transports that hand a samenvatting to the Inspectie, and the receipts they return."""

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

from portal.clock import utcnow

logger = logging.getLogger(__name__)


class TransportError(Exception):
    """A send failed; the delivery will be retried."""


@dataclass(frozen=True)
class Receipt:
    id: str
    at: datetime


class OutboxTransport:
    """Write each delivery as a file under ``<outbox>/<leverdatum>/``, one folder per batch.

    The file name is fixed per request, so sending the same request again overwrites the
    same file with the same bytes instead of adding a second delivery.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path_for(self, request) -> Path:
        school = request.school
        name = f"{school.brin}{school.vestiging}-{request.school_year.name}-{request.id}.json"
        return self.directory / request.leverdatum.isoformat() / name

    def send(self, request, data: bytes) -> Receipt:
        """Write ``data`` atomically; the receipt is the file's path inside the outbox."""
        path = self.path_for(request)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".json.partial")
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except OSError as error:
            raise TransportError(f"outbox write failed: {error}") from error
        logger.info("outbox wrote request=%s path=%s bytes=%d", request.id, path, len(data))
        return Receipt(str(path.relative_to(self.directory)), utcnow())


class HttpsTransport:
    """POST the JSON to the receiver with a bearer token and the request's idempotency key.

    The receiver answers 200 or 201 with a JSON object whose ``receipt`` is its id for
    the delivery; a repeated POST with the same Idempotency-Key returns the same receipt.
    Any other answer, a timeout or a dropped connection is a failed attempt.
    """

    def __init__(self, url: str, token: str, connect_timeout: float, read_timeout: float):
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"DELIVERY_HTTPS_URL={url!r} is not an http(s) URL")
        self.url = url
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Content-Type"] = "application/json; charset=utf-8"

    def send(self, request, data: bytes) -> Receipt:
        headers = {"Idempotency-Key": request.idempotency_key or f"msv-request-{request.id}"}
        try:
            response = self.session.post(self.url, data=data, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        if response.status_code not in (200, 201):
            raise TransportError(f"receiver responded with HTTP {response.status_code}")
        try:
            receipt = str(response.json()["receipt"])
        except (ValueError, KeyError, TypeError) as error:
            raise TransportError("receiver response has no receipt") from error
        logger.info("https delivered request=%s receipt=%s", request.id, receipt)
        return Receipt(receipt[:300], utcnow())


def make_transport(config):
    """Return the transport chosen by DELIVERY_TRANSPORT."""
    kind = config["DELIVERY_TRANSPORT"]
    if kind == "outbox":
        return OutboxTransport(Path(config["PORTAL_DATA_DIR"]) / "outbox")
    if kind == "https":
        return HttpsTransport(
            config["DELIVERY_HTTPS_URL"],
            config["DELIVERY_HTTPS_TOKEN"],
            config["DELIVERY_CONNECT_TIMEOUT"],
            config["DELIVERY_READ_TIMEOUT"],
        )
    raise ValueError(f"DELIVERY_TRANSPORT={kind!r} is unknown; use outbox or https")
