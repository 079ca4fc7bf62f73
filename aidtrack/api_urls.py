"""The REST API, version 1 (mounted at /api/v1/). One line per endpoint; who may call it is on the view.

Every endpoint here belongs in the access matrix test (tests/api/test_access_matrix.py).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from needs import api as needs_api
from needs import summary_api
from shipments import api as shipments_api
from shipments.totals.api import DeliveryTotalsView

from . import api_views

app_name = "api"
urlpatterns = [
    # Reference data: staff and partner keys.
    path("cargo-types/", shipments_api.CargoTypeList.as_view(), name="cargo-type-list"),
    path("locations/", api_views.LocationList.as_view(), name="location-list"),
    path("organisations/", api_views.OrganisationList.as_view(), name="organisation-list"),
    # Delivery totals: staff and partner keys.
    path("totals/", DeliveryTotalsView.as_view(), name="totals"),
    # Coverage and needs: staff and partner keys.
    path("coverage/", needs_api.CoverageView.as_view(), name="coverage"),
    path("needs/", needs_api.NeedList.as_view(), name="need-list"),
    path("needs/summary/", summary_api.NeedSummary.as_view(), name="need-summary"),
    path("needs/<int:pk>/", needs_api.NeedDetail.as_view(), name="need-detail"),
    # Assessments and working-group records (with meeting minutes): staff only.
    path("assessments/", needs_api.AssessmentList.as_view(), name="assessment-list"),
    path("assessments/summary/", summary_api.AssessmentSummary.as_view(), name="assessment-summary"),
    path("assessments/<int:pk>/", needs_api.AssessmentDetail.as_view(), name="assessment-detail"),
    path("working-groups/", needs_api.WorkingGroupList.as_view(), name="working-group-list"),
    path("working-groups/<str:code>/", needs_api.WorkingGroupDetail.as_view(), name="working-group-detail"),
    path("meetings/", needs_api.MeetingList.as_view(), name="meeting-list"),
    path("meetings/summary/", summary_api.MeetingSummary.as_view(), name="meeting-summary"),
    path("action-items/summary/", summary_api.ActionItemSummary.as_view(), name="action-item-summary"),
    path("meetings/<int:pk>/", needs_api.MeetingDetail.as_view(), name="meeting-detail"),
    # Shipments: staff only.
    path("shipments/", shipments_api.ShipmentList.as_view(), name="shipment-list"),
    path("shipments/<str:reference>/", shipments_api.ShipmentDetail.as_view(), name="shipment-detail"),
    path(
        "shipments/<str:reference>/receipts/", shipments_api.ShipmentReceiptList.as_view(), name="shipment-receipt-list"
    ),
    path("shipments/<str:reference>/close/", shipments_api.ShipmentClose.as_view(), name="shipment-close"),
    path(
        "shipments/<str:reference>/receipts/<int:pk>/",
        shipments_api.ShipmentReceiptDetail.as_view(),
        name="shipment-receipt-detail",
    ),
    # The OpenAPI schema and its Swagger UI (served from static files): open to anyone.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
