import pytest


@pytest.mark.django_db(transaction=True)
def test_officer_logs_in_and_out_in_a_real_browser(page, live_server, officer, login, outside_requests, console_errors):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # anonymous is sent to log in
    login("officer")
    assert page.get_by_test_id("current-user").inner_text().startswith("officer")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    assert outside_requests == []
    assert console_errors == []
