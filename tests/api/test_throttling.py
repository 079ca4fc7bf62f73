"""The rate limit per partner key: 429 with Retry-After beyond PARTNER_API_RATE; staff are not limited."""

import pytest
from django.core.cache import cache

from aidtrack.api import PartnerKeyRateThrottle
from aidtrack.models import OrganisationAPIKey
from tests.aidtrack.test_project import manage

from . import issue_key, key_client, session_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/cargo-types/"


@pytest.fixture
def rate(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PARTNER_API_RATE = "3/min"
    yield
    # Only the keys' counters: the cache may be the Redis database the broker uses, so no cache.clear().
    cache.delete_many([PartnerKeyRateThrottle.cache_key_for(k) for k in OrganisationAPIKey.objects.all()])


def test_a_partner_key_is_limited(rate, partner_org):
    client = key_client(issue_key(partner_org))
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(URL)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    # Another key of the same organisation has its own budget.
    assert key_client(issue_key(partner_org)).get(URL).status_code == 200


def test_staff_are_not_limited(rate, officer):
    client = session_client(officer)
    assert {client.get(URL).status_code for _ in range(5)} == {200}


def test_the_rate_setting_is_checked_at_start_up():
    result = manage("check", env_overrides={"PARTNER_API_RATE": "lots"})
    assert result.returncode != 0 and "PARTNER_API_RATE" in result.stderr


@pytest.mark.parametrize("redis_url, backend", [("", "LocMemCache"), ("redis://127.0.0.1:6379/0", "RedisCache")])
def test_the_cache_is_shared_through_redis_when_configured(redis_url, backend):
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = manage("shell", "-c", code, env_overrides={"REDIS_URL": redis_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(backend)
