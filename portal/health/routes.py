"""GET /healthz: the state of database, Redis and workers, as JSON."""

from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from rq import Worker

from portal.clock import utcnow
from portal.models import SchoolYear

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    checks = {}
    try:
        SchoolYear.select().limit(1).count()
        checks["database"] = {"ok": True}
    except Exception as error:  # noqa: BLE001 - any failure means the database is down
        checks["database"] = {"ok": False, "error": type(error).__name__}

    redis = current_app.extensions["redis"]
    try:
        redis.ping()
        checks["redis"] = {"ok": True}
    except RedisError as error:
        checks["redis"] = {"ok": False, "error": type(error).__name__}

    if checks["redis"]["ok"]:
        max_age = timedelta(seconds=current_app.config["WORKER_HEARTBEAT_MAX_AGE"])
        now = utcnow()
        workers = Worker.all(connection=redis)
        alive = [w for w in workers if w.last_heartbeat and now - w.last_heartbeat <= max_age]
        checks["workers"] = {"ok": bool(alive), "alive": len(alive), "registered": len(workers)}
    else:
        checks["workers"] = {"ok": False, "alive": 0, "registered": 0}

    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503
