import socket

from celery import shared_task
from django.utils import timezone

from .models import WorkerHeartbeat


@shared_task(name="aidtrack.tasks.record_worker_heartbeat")
def record_worker_heartbeat() -> str:
    """Write the time a worker last ran a task; idempotent (overwrites one row)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now, "hostname": socket.gethostname()})
    return now.isoformat()
