"""Helpers for tests that run against real services: a Celery worker process on Redis."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from aidtrack.database import postgres_url

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SERVICES = os.environ.get("AIDTRACK_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing; in CI (AIDTRACK_REQUIRE_SERVICES=1) fail instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def require_postgres(reason: str) -> None:
    if connection.vendor != "postgresql":
        skip_or_fail(f"DATABASE_URL is not PostgreSQL: {reason}")


def require_postgres_and_redis() -> None:
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("REDIS_URL is not set: no Redis broker for a real worker")
    if connection.vendor != "postgresql":
        skip_or_fail("DATABASE_URL is not PostgreSQL: a worker process cannot share an in-memory test database")


def worker_database_url() -> str:
    """The URL of the database this test session uses (pytest-django's test_ database)."""
    return postgres_url()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def celery_worker():
    """A real `celery worker` process on Redis, on a queue of its own, using the test database.

    Yields the queue name; tasks must be sent to it. The worker is stopped on exit.
    """
    require_postgres_and_redis()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": worker_database_url()}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "aidtrack", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        celery_worker.last_output = output


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()
