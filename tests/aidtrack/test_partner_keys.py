"""Partner API keys: issued per organisation by command or admin, stored hashed, revocable, expiring."""

import datetime
import io
import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from aidtrack import roles
from aidtrack.api import PartnerClient, is_staff_member
from aidtrack.management.commands.create_partner_key import Command
from aidtrack.models import OrganisationAPIKey
from tests.api import issue_key, key_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/organisations/"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def create_key(*args) -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_partner_key", *args, stdout=out)
    text = out.getvalue()
    return text, text.rstrip("\n").splitlines()[-1]


def test_the_command_prints_a_working_key_on_its_last_line(partner_org):
    text, key = create_key("partner", "--name", "Dashboard feed")
    assert re.fullmatch(r"\w{8}\.\w{32}", key), text
    assert key_client(key).get(URL).status_code == 200
    api_key = OrganisationAPIKey.objects.get()
    assert (api_key.organisation, api_key.name, api_key.expiry_date, api_key.revoked) == (
        partner_org,
        "Dashboard feed",
        None,
        False,
    )


def test_only_the_hash_is_stored(partner_org):
    _text, key = create_key("partner")
    secret = key.split(".", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {OrganisationAPIKey._meta.db_table}")
        stored = repr(cursor.fetchall())
    assert key.split(".")[0] in stored  # the prefix finds the row
    assert secret not in stored and key not in stored
    assert OrganisationAPIKey.objects.get().hashed_key.startswith("sha512$$")


def test_expiry_is_the_end_of_the_given_day(partner_org):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    create_key("partner", "--expires", tomorrow.isoformat())
    expiry = timezone.localtime(OrganisationAPIKey.objects.get().expiry_date)
    assert (expiry.date(), expiry.time()) == (tomorrow + datetime.timedelta(days=1), datetime.time())


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody"], "No organisation with the code 'nobody'"),
        (["partner", "--expires", "31.12.2030"], "YYYY-MM-DD"),
        (["partner", "--expires", "2000-01-01"], "in the past"),
        (["partner", "--name", "x" * 51], "--name"),
    ],
)
def test_the_command_refuses_clearly(partner_org, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        create_key(*args)
    assert not OrganisationAPIKey.objects.exists()


def test_an_unknown_organisation_exits_non_zero(db, capsys):
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "create_partner_key", "nobody"])
    assert exit_info.value.code != 0
    assert "No organisation with the code 'nobody'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make_header, detail",
    [
        (lambda org: f"Api-Key {issue_key(org, revoked=True)}", "This API key has been revoked."),
        (lambda org: f"Api-Key {issue_key(org, expired=True)}", "This API key has expired."),
        (lambda org: f"Api-Key {issue_key(org)[:-1]}x", "Unknown API key."),
        (lambda org: "Api-Key nonsense", "Unknown API key."),
        (lambda org: "Api-Key ", "Give the API key after 'Api-Key '."),
        (lambda org: "Bearer abc", "Authentication credentials were not provided."),
    ],
)
def test_unusable_keys_are_a_401(partner_org, make_header, detail):
    from rest_framework.test import APIClient

    response = APIClient().get(URL, HTTP_AUTHORIZATION=make_header(partner_org))
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_partner_client_has_no_roles_and_needs_no_query(partner_org, django_assert_num_queries):
    api_key, _key = OrganisationAPIKey.objects.create_key(organisation=partner_org, name="k")
    client = PartnerClient(partner_org, api_key)
    with django_assert_num_queries(0):
        assert roles.user_roles(client) == set()
        assert not is_staff_member(client)
    assert client.is_authenticated and client.organisation_id == partner_org.pk and client.pk is None


def test_keys_are_issued_and_revoked_in_the_admin(client, administrator, partner_org):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    assert not admin.site.is_registered(APIKey), "keys without an organisation would authenticate nothing"
    response = client.post(
        "/admin/aidtrack/organisationapikey/add/",
        {"name": "Admin-made", "organisation": partner_org.pk, "expiry_date_0": "", "expiry_date_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    message = next(str(m) for m in response.context["messages"] if "API key" in str(m))
    key = re.search(r"\w{8}\.\w{32}", message).group()
    api_key = OrganisationAPIKey.objects.get()
    assert api_key.organisation == partner_org and key not in api_key.hashed_key
    assert key_client(key).get(URL).status_code == 200

    changelist = client.get(f"/admin/aidtrack/organisationapikey/?organisation__id__exact={partner_org.pk}")
    assert changelist.status_code == 200 and "Admin-made" in changelist.content.decode()
    change_url = f"/admin/aidtrack/organisationapikey/{api_key.pk}/change/"
    assert "organisation" in client.get(change_url).context["adminform"].readonly_fields
    response = client.post(
        change_url, {"name": "Admin-made", "revoked": "on", "expiry_date_0": "", "expiry_date_1": ""}
    )
    assert response.status_code == 302
    assert key_client(key).get(URL).status_code == 401
