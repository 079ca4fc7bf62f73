import datetime

import pytest
from django.utils import timezone

from aidtrack.celery import app
from aidtrack.models import IdempotencyKey
from aidtrack.tasks import purge_idempotency_keys


@pytest.mark.django_db
def test_idempotency_keys_older_than_a_week_are_purged(officer):
    old = IdempotencyKey.objects.create(user=officer, key="old", fingerprint="x", response_status=201, response_body={})
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    IdempotencyKey.objects.create(user=officer, key="new", fingerprint="y", response_status=201, response_body={})
    assert purge_idempotency_keys.apply().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_beat_runs_the_periodic_tasks_and_each_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    # refresh_totals every minute is what catches up writes made while the broker was down.
    assert {
        "shipments.refresh_totals",
        "shipments.rebuild_totals",
        "shipments.check_shipment_figures",
        "aidtrack.tasks.purge_idempotency_keys",
        "aidtrack.tasks.record_worker_heartbeat",
    } <= scheduled
    assert app.conf.beat_schedule["refresh-totals"]["schedule"] <= 60
    assert scheduled <= set(app.tasks)
