import pytest

from tests.services import closed_port


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"]  # "ok" on Redis, "eager …" on the embedded default


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_shows_the_last_worker_heartbeat(client):
    from aidtrack.tasks import record_worker_heartbeat

    record_worker_heartbeat.apply()  # run in-process: the task's own code, no broker
    assert client.get("/healthz").json()["worker_last_seen"] is not None
