import datetime
import socket

from celery import shared_task
from django.utils import timezone

from .models import IdempotencyKey, WorkerHeartbeat

# How long a client may repeat a POST with the same Idempotency-Key and get the first answer back.
IDEMPOTENCY_KEY_DAYS = 7


@shared_task(name="aidtrack.tasks.record_worker_heartbeat")
def record_worker_heartbeat() -> str:
    """Write the time a worker last ran a task; idempotent (overwrites one row)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now, "hostname": socket.gethostname()})
    return now.isoformat()


@shared_task(name="aidtrack.tasks.purge_idempotency_keys")
def purge_idempotency_keys(days: int = IDEMPOTENCY_KEY_DAYS) -> int:
    """Forget Idempotency-Keys older than `days` (a repeat after that creates anew); returns how many."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
