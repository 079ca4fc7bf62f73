"""Checks on the project as shipped: deploy settings, migrations, lint, docker-compose."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "off",
    "DJANGO_SECRET_KEY": "x7#k2!p9@q4$w8^e3&r6*t1(y5)u0_i-o+a=s[d]f{g}h|j;k:l<z>x?c,v.b/n m",
    "DJANGO_ALLOWED_HOSTS": "aidtrack.example.org",
    "DATABASE_URL": "postgres://aidtrack@127.0.0.1:5432/aidtrack",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args, env_overrides=None):
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = dict(PRODUCTION_ENV)
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_migrations_are_up_to_date():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_env_example_lists_every_setting_read_from_the_environment():
    import re

    settings_source = (ROOT / "aidtrack" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no settings found: the pattern is wrong"
    assert read <= documented, read - documented


def test_compose_services_run_real_project_entry_points():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert "healthcheck" in services["db"]
    assert "postgres" in services["db"]["image"]
    assert "redis" in services["redis"]["image"]

    def command(name):
        cmd = services[name]["command"]
        return cmd if isinstance(cmd, str) else " ".join(cmd)

    assert "manage.py migrate" in command("migrate")
    web = command("web")
    assert web.startswith("gunicorn ")
    module, _, attr = next(arg for arg in web.split() if ":" in arg and not arg.startswith("0.0.0.0")).partition(":")
    assert callable(getattr(importlib.import_module(module), attr))
    for name, role in [("worker", "worker"), ("beat", "beat")]:
        words = command(name).split()
        assert words[:3] == ["celery", "-A", "aidtrack"] and role in words, words
    app = importlib.import_module("aidtrack").celery_app
    assert app.main == "aidtrack"
    for name in ["web", "worker", "beat", "migrate"]:
        env = services[name].get("environment", {})
        keys = set(env) if isinstance(env, dict) else {e.split("=")[0] for e in env}
        assert {"DATABASE_URL", "REDIS_URL"} <= keys, name
    assert (ROOT / "Dockerfile").exists()
