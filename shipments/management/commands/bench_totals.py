"""`make bench`: measure the delivery totals against their targets on PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from aidtrack.database import postgres_url

ROOT = Path(__file__).resolve().parents[3]


def bench_url() -> tuple[str, str]:
    own = settings.DATABASES["default"]["NAME"]
    name = own if own.endswith("_bench") else f"{own}_bench"
    return name, postgres_url(name)


class Command(BaseCommand):
    help = "Benchmark the delivery totals (PostgreSQL): rebuild, refresh, API latency, worker latency."

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=1_000_000, help="cargo lines of the large dataset")
        parser.add_argument("--in-bench-db", action="store_true", help="(internal) already in the bench database")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL: set DATABASE_URL (see README).")
        if not options["in_bench_db"]:
            return self.relaunch(options)
        from bench.run import run

        run(self.stdout, options["lines"])

    def relaunch(self, options):
        """Create and migrate <name>_bench, then run this command again inside it."""
        name, url = bench_url()
        db = settings.DATABASES["default"]
        admin = psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], password=db.get("PASSWORD"),
            dbname="postgres", autocommit=True,
        )  # fmt: skip
        with admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{name}"')
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "bench_totals", "--in-bench-db", "--lines", str(options["lines"])],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        self.stdout.write(f"benchmark finished in {time.perf_counter() - started:.0f} s (database {name})")
