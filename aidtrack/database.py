"""The URL of the configured PostgreSQL database, for child processes that must use the same one."""

from django.conf import settings


def postgres_url(name: str | None = None) -> str:
    """DATABASE_URL of the default connection, pointing at database `name` (default: its own)."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"
