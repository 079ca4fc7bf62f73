from django.urls import path

from . import views

app_name = "shipments"
urlpatterns = [
    path("", views.shipment_list, name="list"),
    path("new/", views.shipment_create, name="create"),
    path("<int:pk>/", views.shipment_detail, name="detail"),
    path("<int:pk>/edit/", views.shipment_edit, name="edit"),
    path("<int:pk>/dispatch/", views.shipment_dispatch, name="dispatch"),
    path("<int:pk>/receive/", views.shipment_receive, name="receive"),
    path("<int:pk>/close/", views.shipment_close, name="close"),
    path("<int:pk>/reopen/", views.shipment_reopen, name="reopen"),
    path("<int:pk>/receipts/<int:receipt_pk>/correct/", views.receipt_correct, name="receipt_correct"),
    path("<int:pk>/cancel/", views.shipment_cancel, name="cancel"),
]
