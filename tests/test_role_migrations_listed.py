from pathlib import Path

from tests.factories import ROLE_MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]


def test_every_role_migration_is_known_to_the_test_factories():
    found = sorted(
        f"{p.parent.parent.name}.migrations.{p.stem}"
        for p in ROOT.glob("*/migrations/*.py")
        if "ROLE_PERMISSIONS" in p.read_text()
    )
    assert found == sorted(ROLE_MIGRATIONS)
