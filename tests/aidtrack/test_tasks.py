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


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
