import pytest

from aidtrack.models import WorkerHeartbeat
from aidtrack.tasks import record_worker_heartbeat
from tests.services import celery_worker, wait_for


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_and_writes_to_the_database():
    assert not WorkerHeartbeat.objects.exists()
    with celery_worker() as queue:
        record_worker_heartbeat.apply_async(queue=queue)
        seen = wait_for(lambda: WorkerHeartbeat.objects.filter(name="worker").first(), timeout=30)
    assert seen is not None, getattr(celery_worker, "last_output", "")
    assert seen.hostname
