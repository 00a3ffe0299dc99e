"""Transports that hand a samenvatting to the Inspectie."""

import logging
import os
from pathlib import Path

from portal.models import DeliveryRequest

logger = logging.getLogger(__name__)


class OutboxTransport:
    """Write each delivery as a file under ``<outbox>/<leverdatum>/``, one folder per batch.

    The file name is fixed per request, so sending the same request again overwrites the
    same file with the same bytes instead of adding a second delivery.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path_for(self, request: DeliveryRequest) -> Path:
        school = request.school
        name = f"{school.brin}{school.vestiging}-{request.school_year.name}-{request.id}.json"
        return self.directory / request.leverdatum.isoformat() / name

    def send(self, request: DeliveryRequest, data: bytes) -> str:
        """Write ``data`` atomically and return the receipt: the file's path in the outbox."""
        path = self.path_for(request)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        logger.info("outbox wrote request=%s path=%s bytes=%d", request.id, path, len(data))
        return str(path.relative_to(self.directory))
