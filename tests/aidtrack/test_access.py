"""Every page needs a login, except the login page and /healthz."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

PUBLIC = {"/accounts/login/", "/admin/login/", "/healthz"}
SAMPLE_BY_CONVERTER = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x/y",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def walk(patterns, prefix=""):
    """Yield a concrete path for every URL pattern, filling converters with sample values."""
    for entry in patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            part = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER[m.group(1) or "str"], str(pattern))
        elif isinstance(pattern, RegexPattern):
            if pattern.regex.groups:
                continue  # regex-only catch-alls (admin) are covered by their route siblings
            part = str(pattern).lstrip("^").rstrip("$")
        else:  # pragma: no cover - no other kinds are used
            raise AssertionError(pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + part)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + part


def is_api(path):
    return path.startswith("/api/")


ALL_PATHS = sorted(set(walk(get_resolver().url_patterns)))


def test_the_walk_covers_the_pages():
    assert {"/", "/accounts/logout/", "/admin/", "/healthz", "/accounts/login/"} <= set(ALL_PATHS)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in ALL_PATHS if p not in PUBLIC and not is_api(p)])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302, path
    location = response["Location"]
    assert location.startswith("/accounts/login/?next=") or location.startswith("/admin/login/?next="), location


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_pages_answer_anonymous(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_officer_logs_in_and_sees_name_and_organisation(client, officer):
    officer.first_name, officer.last_name = "Olga", "Petrova"
    officer.save()
    response = client.post("/accounts/login/", {"username": "officer", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    page = response.content.decode()
    assert "Olga Petrova" in page
    assert "EM" in page  # organisation short name
    assert "Logistics officer" in page


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(client, officer):
    response = client.post("/accounts/login/", {"username": "officer", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_needs_a_post(client, officer):
    client.force_login(officer)
    assert client.get("/accounts/logout/").status_code == 200
    assert "_auth_user_id" in client.session  # a GET (a link, a prefetch) does not log out
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_is_for_administrators_only(client, officer, administrator):
    client.force_login(officer)
    assert client.get("/admin/").status_code == 302
    client.force_login(administrator)
    assert client.get("/admin/").status_code == 200
