"""Writing the audit log."""

import json

from portal import clock
from portal.models import AuditEvent, School, User


def record(
    action: str,
    user: User | None,
    school: School | None = None,
    obj=None,
    **details,
) -> AuditEvent:
    """Append an audit event; ``details`` must be JSON-serialisable and hold no pupil data."""
    return AuditEvent.create(
        at=clock.now(),
        user=user,
        action=action,
        school=school,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=obj.id if obj is not None else None,
        details_json=json.dumps(details, default=str, sort_keys=True),
    )
