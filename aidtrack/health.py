"""Checks behind /healthz: can we reach the database and the Celery broker."""

from django.conf import settings
from django.db import connection

from .models import WorkerHeartbeat


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported as text
        return False, f"error: {exc.__class__.__name__}"
    return True, "ok"


def check_broker() -> tuple[bool, str]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True, "eager (tasks run in-process)"
    try:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return False, f"error: {exc.__class__.__name__}"
    return True, "ok"


def last_worker_heartbeat() -> str | None:
    try:
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
    except Exception:  # noqa: BLE001 - the database check reports the failure
        return None
    return beat.seen_at.isoformat() if beat else None
