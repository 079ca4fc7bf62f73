"""Page timings as a person gets them: the pages served over real HTTP by gunicorn with DEBUG off, on
the current database, to a logged-in user, over one keep-alive connection.

    time_pages(paths, user=administrator, runs=5)  ->  {path: median seconds}

`python -m bench.pages --username admin` times DEFAULT_PATHS (a destination code with `--destination`).
A page that answers anything but 200 (a redirect to the login page included) raises PageError.
"""

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]

# The pages the benchmark times; {destination} is a location code with shipments under it.
DEFAULT_PATHS = (
    "/",
    "/shipments/",
    "/shipments/?destination={destination}",
    "/shipments/?sort=-tonnes",
    "/api/v1/shipments/",
    "/api/v1/shipments/?page_size=20",
    "/needs/",
    "/needs/coordination/",
    "/api/v1/coverage/",
)


class PageError(RuntimeError):
    """A page answered other than 200."""


def default_paths(destination: str) -> list[str]:
    return [path.format(destination=destination) for path in DEFAULT_PATHS]


def time_pages(
    paths: Sequence[str],
    *,
    user,
    runs: int = 5,
    warmup: int = 1,
    database_url: str | None = None,
    workers: int = 1,
    startup_timeout: float = 30.0,
) -> dict[str, float]:
    """The median time in seconds of each of `paths` over `runs` requests after `warmup` ones each.

    The server is gunicorn in a subprocess on 127.0.0.1 with DEBUG off, on `database_url` (default:
    this process's DATABASE_URL, or its SQLite file); `user` is logged in by a session made in that
    database, so the rows it needs must be committed. Rounds go through every path in turn, so a
    slow moment of the machine falls on all of them alike.
    """
    if runs < 1 or warmup < 0:
        raise ValueError("runs must be 1 or more, warmup 0 or more")
    samples: dict[str, list[float]] = {path: [] for path in paths}
    server = _server(database_url or current_database_url(), workers, startup_timeout)
    with server as base, requests.Session() as http:
        http.cookies.set(*session_cookie(user), domain="127.0.0.1", path="/")
        for round_number in range(warmup + runs):
            for path in paths:
                elapsed = _get(http, base + path)
                if round_number >= warmup:
                    samples[path].append(elapsed)
    return {path: statistics.median(times) for path, times in samples.items()}


def _get(http: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = http.get(url, allow_redirects=False, timeout=120)
    body = response.content  # the whole page, as a browser waits for it
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        where = response.headers.get("Location", "")
        raise PageError(f"{url} answered {response.status_code} {where}: {body[:300]!r}")
    return elapsed


def session_cookie(user) -> tuple[str, str]:
    """(name, value) of a session cookie logging `user` in, the session stored in the database."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def current_database_url() -> str:
    """The database this process uses, as a DATABASE_URL for the server."""
    from django.db import connection

    from aidtrack.database import postgres_url

    if connection.vendor == "postgresql":
        return postgres_url(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    raise ValueError(f"no DATABASE_URL for {connection.vendor}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _server(database_url: str, workers: int, startup_timeout: float) -> Iterator[str]:
    from django.conf import settings

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "off",
        # The session cookie was signed with this process's key; the server must check it with the same.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback: no redirect to HTTPS, no secure-only cookies, no static manifest.
        "DJANGO_SECURE_SSL_REDIRECT": "off",
        "DJANGO_SECURE_COOKIES": "off",
        "DJANGO_STATIC_MANIFEST": "off",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "aidtrack.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--timeout", "300", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_listening(process, port, startup_timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _wait_until_listening(process: subprocess.Popen, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{output[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not listen on port {port} within {timeout} s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Median time of each page over real HTTP (gunicorn, DEBUG off).")
    parser.add_argument("paths", nargs="*", help="paths to time (default: the benchmark's pages)")
    parser.add_argument("--username", required=True, help="the user logged in (an administrator)")
    parser.add_argument("--destination", default="", help="a location code for the destination filter")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidtrack.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=args.username)
    paths = args.paths or default_paths(args.destination)
    for path, seconds in time_pages(paths, user=user, runs=args.runs, warmup=args.warmup).items():
        print(f"{seconds * 1000:9.1f} ms  {path}")


if __name__ == "__main__":
    main()
