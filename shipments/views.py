"""Shipment pages: permission, form, service, redirect after POST."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aidtrack.forms import call_service, kept_line_forms, posted_lines

from . import access, forms, selectors, services
from .filters import ShipmentFilter

PAGE_SIZE = 50


def shipment_list(request: HttpRequest) -> HttpResponse:
    if not access.can_view_shipments(request.user):
        raise PermissionDenied
    filterset = ShipmentFilter(request.GET, queryset=selectors.shipment_list(access.shipments_visible_to(request.user)))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "shipments/list.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_log": access.can_log_shipments(request.user),
        },
    )


def _line_formset(request, initial=None):
    return forms.CargoLineFormSet(posted_lines(request, forms.LINES_PREFIX), initial=initial, prefix=forms.LINES_PREFIX)


def _save_shipment(request, form, formset, save) -> HttpResponse | None:
    """Validate form and lines, call the service; the response on success, None to show the form again."""
    if "add_line" in request.POST or not (form.is_valid() & formset.is_valid()):
        return None
    line_forms = kept_line_forms(formset)
    shipment = call_service(
        lambda: save(form.to_input([f.to_input() for f in line_forms])), form, line_forms, forms.LINES_PREFIX
    )
    return redirect("shipments:detail", shipment.pk) if shipment else None


@require_http_methods(["GET", "POST"])
def shipment_create(request: HttpRequest) -> HttpResponse:
    if not access.can_log_shipments(request.user):
        raise PermissionDenied
    form = forms.ShipmentForm(request.POST or None, user=request.user)
    formset = _line_formset(request, initial=None if request.method == "POST" else [{}])
    if request.method == "POST":
        response = _save_shipment(
            request,
            form,
            formset,
            lambda data: services.shipment_create(
                by=request.user, data=data, submission_key=form.cleaned_data.get("submission_key")
            ),
        )
        if response:
            messages.success(request, _("Shipment saved."))
            return response
    return render(request, "shipments/form.html", {"form": form, "formset": formset, "shipment": None})


@require_http_methods(["GET", "POST"])
def shipment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk, for_change=True)
    if not shipment.is_editable:
        messages.error(request, _("A delivered or cancelled shipment cannot be edited."))
        return redirect("shipments:detail", pk)
    form = forms.ShipmentForm(request.POST or None, user=request.user, instance=shipment)
    formset = _line_formset(request, initial=forms.line_initial(shipment))
    if request.method == "POST":
        response = _save_shipment(
            request,
            form,
            formset,
            lambda data: services.shipment_update(
                by=request.user, shipment_id=pk, data=data, expected_version=form.cleaned_data.get("version")
            ),
        )
        if response:
            messages.success(request, _("Changes saved."))
            return response
    return render(request, "shipments/form.html", {"form": form, "formset": formset, "shipment": shipment})


def shipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk)
    lines = selectors.shipment_lines(shipment)
    return render(
        request,
        "shipments/detail.html",
        {
            "shipment": shipment,
            "lines": lines,
            "totals": selectors.shipment_totals(lines),
            "history": selectors.shipment_history(shipment),
            "can_change": access.can_change_shipment(request.user, shipment),
        },
    )


def _action(request, pk, form_class, template, run, success_message):
    """The shared shape of dispatch and cancel: a small form posted to one service call."""
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk, for_change=True)
    form = form_class(request.POST or None, initial={"version": shipment.version})
    if request.method == "POST" and form.is_valid() and call_service(lambda: run(shipment, form.cleaned_data), form):
        messages.success(request, success_message)
        return redirect("shipments:detail", pk)
    return render(request, template, {"shipment": shipment, "form": form})


@require_http_methods(["GET", "POST"])
def shipment_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        forms.DispatchForm,
        "shipments/dispatch.html",
        lambda shipment, data: services.shipment_dispatch(
            by=request.user,
            shipment_id=shipment.pk,
            dispatched_on=data["dispatched_on"],
            expected_on=data["expected_on"],
            expected_version=data["version"],
        ),
        _("Shipment dispatched: it is now in transit."),
    )


@require_http_methods(["GET", "POST"])
def shipment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        forms.CancelForm,
        "shipments/cancel.html",
        lambda shipment, data: services.shipment_cancel(
            by=request.user, shipment_id=shipment.pk, reason=data["reason"], expected_version=data["version"]
        ),
        _("Shipment cancelled."),
    )


@require_http_methods(["GET", "POST"])
def shipment_receive(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk, for_change=True)
    lines = selectors.shipment_lines(shipment)
    form = forms.ReceiveForm(request.POST or None, initial={"version": shipment.version})
    formset = forms.ReceiptLineFormSet(
        request.POST or None, initial=forms.receipt_initial(lines), prefix=forms.LINES_PREFIX
    )
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        received = call_service(
            lambda: services.shipment_receive(
                by=request.user,
                shipment_id=pk,
                delivered_on=form.cleaned_data["delivered_on"],
                receipts=[line_form.to_input() for line_form in formset.forms],
                expected_version=form.cleaned_data["version"],
            ),
            form,
            formset.forms,
            forms.LINES_PREFIX,
        )
        if received:
            messages.success(request, _("Receipt recorded."))
            return redirect("shipments:detail", pk)
    rows = list(zip(lines, formset.forms, strict=False))
    return render(
        request, "shipments/receive.html", {"shipment": shipment, "form": form, "formset": formset, "rows": rows}
    )
