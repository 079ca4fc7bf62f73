"""The Celery app. Settings come from Django settings (CELERY_* names); reliability options are here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidtrack.settings")

app = Celery("aidtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,
    # A task is acknowledged after it ran, and given back to the queue if its worker dies,
    # so no totals refresh is lost; tasks are idempotent, so running one twice is harmless.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=240,
    task_time_limit=300,
    broker_connection_retry_on_startup=True,
    # Fail fast when Redis is down: the write has committed, the beat run catches up later.
    broker_transport_options={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
    timezone="UTC",
)
app.conf.beat_schedule = {
    # The outbox's safety net: changes whose queued refresh was lost (broker down) are counted here.
    "refresh-totals": {
        "task": "shipments.refresh_totals",
        "schedule": 60.0,
    },
    # Recompute everything from the records at night; finds and repairs drift, writes nothing otherwise.
    "rebuild-totals": {
        "task": "shipments.rebuild_totals",
        "schedule": crontab(hour=2, minute=30),
    },
    # After the rebuild: the figures each shipment stores (its lists sort by them) against its records;
    # rewrites any a write made around the services, and logs them as an error.
    "check-shipment-figures": {
        "task": "shipments.check_shipment_figures",
        "schedule": crontab(hour=2, minute=50),
    },
    # Idempotency-Keys are kept a week; older ones only take space.
    "purge-idempotency-keys": {
        "task": "aidtrack.tasks.purge_idempotency_keys",
        "schedule": crontab(hour=3, minute=15),
    },
    # Lets /healthz say when a worker last ran a task (a worker that is up but stuck shows here).
    "worker-heartbeat": {
        "task": "aidtrack.tasks.record_worker_heartbeat",
        "schedule": 60.0,
    },
}
app.autodiscover_tasks()
# The totals' tasks live in their package, not in shipments/tasks.py.
app.autodiscover_tasks(["shipments.totals"])
