"""The REST API, version 1 (mounted at /api/v1/). One line per endpoint; who may call it is on the view.

Every endpoint here belongs in the access matrix test (tests/api/test_access_matrix.py).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from shipments import api as shipments_api
from shipments.totals_api import DeliveryTotalsView

from . import api_views

app_name = "api"
urlpatterns = [
    # Reference data: staff and partner keys.
    path("cargo-types/", shipments_api.CargoTypeList.as_view(), name="cargo-type-list"),
    path("locations/", api_views.LocationList.as_view(), name="location-list"),
    path("organisations/", api_views.OrganisationList.as_view(), name="organisation-list"),
    # Delivery totals: staff and partner keys.
    path("totals/", DeliveryTotalsView.as_view(), name="totals"),
    # Shipments: staff only.
    path("shipments/", shipments_api.ShipmentList.as_view(), name="shipment-list"),
    path("shipments/<str:reference>/", shipments_api.ShipmentDetail.as_view(), name="shipment-detail"),
    # The OpenAPI schema and its Swagger UI (served from static files): open to anyone.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
