"""Who may see and change shipments: the one place these rules live (services and views call it)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from aidtrack import roles
from aidtrack.models import Organisation

from .models import Shipment


def can_view_shipments(user) -> bool:
    """Ministry staff of every role read all shipments; partners (API keys) never see them."""
    return roles.is_staff_member(user)


def consignors_for(user) -> QuerySet[Organisation]:
    """The organisations `user` may log shipments for: their own, or any for an administrator."""
    if roles.is_administrator(user):
        return Organisation.objects.all()
    return Organisation.objects.filter(pk=user.organisation_id)


def can_create_shipment_for(user, consignor_id: int | None) -> bool:
    if roles.is_administrator(user):
        return True
    return (
        roles.has_role(user, roles.LOGISTICS_OFFICER)
        and user.organisation_id is not None
        and user.organisation_id == consignor_id
    )


def can_change_shipment(user, shipment: Shipment) -> bool:
    """Officers change what their organisation sends; administrators change all."""
    return can_create_shipment_for(user, shipment.consignor_id)


def can_reopen_shipment(user) -> bool:
    """Reopening a closed shipment undoes its losses: administrators only."""
    return roles.is_administrator(user)


def can_log_shipments(user) -> bool:
    return roles.is_administrator(user) or roles.has_role(user, roles.LOGISTICS_OFFICER)


def shipments_visible_to(user) -> QuerySet[Shipment]:
    return Shipment.objects.all() if can_view_shipments(user) else Shipment.objects.none()


def shipment_get_for_user(*, user, shipment_id: int, for_change: bool = False) -> Shipment:
    """The shipment if `user` may see it (404 otherwise), and may change it when `for_change`."""
    return _shipment_get(user, for_change, pk=shipment_id)


def shipment_get_by_reference_for_user(*, user, reference: str, for_change: bool = False) -> Shipment:
    """The same rules as `shipment_get_for_user`, by waybill reference (the API's identifier)."""
    return _shipment_get(user, for_change, reference=reference)


def _shipment_get(user, for_change: bool, **lookup) -> Shipment:
    shipment = (
        shipments_visible_to(user)
        .select_related("consignor", "consignee", "origin", "destination", "created_by")
        .filter(**lookup)
        .first()
    )
    if shipment is None:
        raise Http404(_("No such shipment."))
    if for_change and not can_change_shipment(user, shipment):
        raise PermissionDenied(
            _("Only the consignor's logistics officers or an administrator may change this shipment.")
        )
    return shipment
