"""bench.pages times real pages over HTTP (gunicorn, DEBUG off) on the test database."""

import pytest

from bench.pages import PageError, default_paths, time_pages
from tests.factories import LocationFactory, make_shipment

# The server is another process: it sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)


def test_each_page_gets_a_positive_median(administrator):
    region = LocationFactory(code="REG", level="region")
    town = LocationFactory(code="REG-T", parent=region)
    for status in ("planned", "in_transit", "delivered"):
        make_shipment(by=administrator, destination=town, status=status)
    paths = default_paths("REG")
    assert "/shipments/?destination=REG" in paths and "/shipments/?sort=-tonnes" in paths

    timings = time_pages(paths, user=administrator, runs=2, warmup=1)
    assert list(timings) == paths
    assert all(seconds > 0 for seconds in timings.values()), timings


def test_a_page_that_does_not_answer_200_raises(administrator, coordinator):
    with pytest.raises(PageError, match=r"/no-such-page/ answered 404"):
        time_pages(["/shipments/", "/no-such-page/"], user=administrator, runs=1, warmup=0)
    with pytest.raises(PageError, match=r"/admin/ answered 302"):  # not staff: sent to log in, not timed
        time_pages(["/admin/"], user=coordinator, runs=1, warmup=0)
