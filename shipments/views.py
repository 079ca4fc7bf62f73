"""Shipment pages: permission, form, service, redirect after POST."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aidtrack.forms import apply_service_errors, call_service, kept_line_forms, posted_lines

from . import access, forms, selectors, services
from .filters import ShipmentFilter
from .models import Receipt, Shipment

PAGE_SIZE = 50


class EstimatingPaginator(Paginator):
    """Counts exactly while the database's estimate is at most settings.LIST_EXACT_COUNT_LIMIT rows
    (always on SQLite). Above it, counting 250,000 rows on every page view would cost more than the
    page: the count is the estimate (`approximate`, to two significant digits) and a page tells
    whether another follows by reading one row more than it shows."""

    approximate = False

    @cached_property
    def count(self) -> int:
        estimate = selectors.estimated_count(self.object_list)
        if estimate is None or estimate <= settings.LIST_EXACT_COUNT_LIMIT:
            return self.object_list.count()
        self.approximate = True
        return int(float(f"{estimate:.2g}"))

    def validate_number(self, number) -> int:
        if not self.count or not self.approximate:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_("That page number is not an integer")) from None
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        if not self.approximate:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        page = ReadAheadPage(list(self.object_list[bottom : bottom + self.per_page + 1]), number, self)
        if not page.more and (page.object_list or number == 1):
            # The last page: now the count is known (an estimate can be far off with some filters).
            self.__dict__["count"], self.approximate = bottom + len(page.object_list), False
        return page


class ReadAheadPage(Page):
    """A page of an estimated count: `rows` holds one row more than the page when another page follows."""

    def __init__(self, rows: list, number: int, paginator: EstimatingPaginator):
        super().__init__(rows[: paginator.per_page], number, paginator)
        self.more = len(rows) > paginator.per_page

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


def shipment_list(request: HttpRequest) -> HttpResponse:
    if not access.can_view_shipments(request.user):
        raise PermissionDenied
    filterset = ShipmentFilter(request.GET, queryset=selectors.shipment_list(access.shipments_visible_to(request.user)))
    page = EstimatingPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
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
    if shipment.status == Shipment.Status.CANCELLED:
        messages.error(request, _("A cancelled shipment cannot be edited."))
        return redirect("shipments:detail", pk)
    form = forms.ShipmentForm(request.POST or None, user=request.user, instance=shipment)
    if form.notes_only:
        return _edit_notes(request, shipment, form)
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


def _edit_notes(request: HttpRequest, shipment: Shipment, form: forms.ShipmentForm) -> HttpResponse:
    """The edit of a shipment whose cargo has arrived: notes and transport reference only."""
    if request.method == "POST" and form.is_valid():
        try:
            services.shipment_update(
                by=request.user,
                shipment_id=shipment.pk,
                data=form.to_input(forms.existing_lines(shipment)),
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except services.EditConflict as conflict:
            form.add_error(None, conflict.message)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("shipments:detail", shipment.pk)
    lines = selectors.shipment_lines(shipment)
    return render(request, "shipments/form.html", {"form": form, "lines": lines, "shipment": shipment})


def shipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk)
    lines = selectors.shipment_lines(shipment)
    receipts = selectors.shipment_receipts(shipment, lines)  # before the figures: sets damaged per line
    return render(
        request,
        "shipments/detail.html",
        {
            "shipment": shipment,
            "lines": lines,
            "receipts": receipts,
            "totals": selectors.shipment_figures(shipment, lines),
            "history": selectors.shipment_history(shipment),
            "can_change": access.can_change_shipment(request.user, shipment),
            "can_reopen": access.can_reopen_shipment(request.user) and shipment.status == Shipment.Status.DELIVERED,
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


# --- Receipts -------------------------------------------------------------------------------------


def _not_open_for_receipt(request: HttpRequest, shipment: Shipment) -> HttpResponse | None:
    """On GET, send a shipment that is not in transit or partly received back to its page. (A POST goes
    to the service, which refuses it, or finds the same form posted already.)"""
    if request.method == "GET" and not shipment.is_open_for_receipt:
        messages.error(request, _("Only a shipment in transit or partly received can be received or closed."))
        return redirect("shipments:detail", shipment.pk)
    return None


@require_http_methods(["GET", "POST"])
def shipment_receive(request: HttpRequest, pk: int) -> HttpResponse:
    """Record one receipt (what arrived on one day), and close the shipment if it completes it."""
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk, for_change=True)
    if response := _not_open_for_receipt(request, shipment):
        return response
    lines = selectors.shipment_lines(shipment)
    form = forms.ReceiveForm(request.POST or None, initial={"version": shipment.version})
    formset = forms.receipt_formset(request.POST or None, lines)
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        data = form.cleaned_data
        try:
            services.receipt_create(
                by=request.user,
                shipment_id=pk,
                received_on=data["received_on"],
                lines=[line_form.to_input() for line_form in formset.forms],
                note=data["note"],
                close=data["close"],
                expected_version=data["version"],
                submission_key=data["submission_key"],
            )
        except ValidationError as error:
            apply_service_errors(error, form, forms.forms_by_line(formset.forms, lines, form), forms.LINES_PREFIX)
        except services.EditConflict as conflict:
            form.add_error(None, conflict.message)
        else:
            messages.success(request, _("Receipt recorded."))
            return redirect("shipments:detail", pk)
    return render(
        request,
        "shipments/receive.html",
        {"shipment": shipment, "form": form, "formset": formset, "rows": forms.line_rows(lines, formset.forms)},
    )


@require_http_methods(["GET", "POST"])
def shipment_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Receipt complete: close the shipment; what has not arrived is lost, with a reason per short line."""
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk, for_change=True)
    if response := _not_open_for_receipt(request, shipment):
        return response
    lines = selectors.shipment_lines(shipment)
    form = forms.CloseForm(request.POST or None, initial={"version": shipment.version})
    formset = forms.shortfall_formset(request.POST or None, [line for line in lines if line.is_short])
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        try:
            services.shipment_close(
                by=request.user,
                shipment_id=pk,
                closed_on=form.cleaned_data["closed_on"],
                shortfalls=[line_form.to_shortfall() for line_form in formset.forms],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            apply_service_errors(error, form, forms.forms_by_line(formset.forms, lines, form), forms.LINES_PREFIX)
        except services.EditConflict as conflict:
            form.add_error(None, conflict.message)
        else:
            messages.success(request, _("Receipt complete: the shipment is closed."))
            return redirect("shipments:detail", pk)
    return render(
        request,
        "shipments/close.html",
        {"shipment": shipment, "form": form, "formset": formset, "rows": forms.line_rows(lines, formset.forms)},
    )


@require_http_methods(["GET", "POST"])
def shipment_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the closing of a delivered shipment (administrators only)."""
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk)
    if not access.can_reopen_shipment(request.user):
        raise PermissionDenied(_("Only an administrator may reopen a closed shipment."))
    if request.method == "GET" and shipment.status != Shipment.Status.DELIVERED:
        messages.error(request, _("Only a delivered (closed) shipment can be reopened."))
        return redirect("shipments:detail", pk)
    form = forms.ReopenForm(request.POST or None, initial={"version": shipment.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.shipment_reopen(
                by=request.user,
                shipment_id=pk,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            apply_service_errors(error, form)
        except services.EditConflict as conflict:
            form.add_error(None, conflict.message)
        else:
            messages.success(request, _("Shipment reopened."))
            return redirect("shipments:detail", pk)
    return render(request, "shipments/reopen.html", {"shipment": shipment, "form": form})


@require_http_methods(["GET", "POST"])
def receipt_correct(request: HttpRequest, pk: int, receipt_pk: int) -> HttpResponse:
    """Correct one receipt: its date, note and lines, with a reason kept in its history."""
    shipment = access.shipment_get_for_user(user=request.user, shipment_id=pk, for_change=True)
    receipt = get_object_or_404(Receipt.objects.filter(shipment=shipment), pk=receipt_pk)
    lines = selectors.shipment_lines(shipment)
    closed = shipment.status == Shipment.Status.DELIVERED
    form = forms.CorrectReceiptForm(
        request.POST or None,
        initial={"received_on": receipt.received_on, "note": receipt.note, "version": receipt.version},
    )
    formset = forms.receipt_formset(request.POST or None, lines, receipt=receipt, with_loss=closed)
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        data = form.cleaned_data
        try:
            services.receipt_correct(
                by=request.user,
                receipt_id=receipt.pk,
                received_on=data["received_on"],
                lines=[line_form.to_input() for line_form in formset.forms],
                reason=data["reason"],
                note=data["note"],
                expected_version=data["version"],
            )
        except ValidationError as error:
            apply_service_errors(error, form, forms.forms_by_line(formset.forms, lines, form), forms.LINES_PREFIX)
        except services.ReceiptConflict as conflict:
            form.add_error(None, conflict.message)
        else:
            messages.success(request, _("Receipt corrected."))
            return redirect("shipments:detail", pk)
    return render(
        request,
        "shipments/correct.html",
        {
            "shipment": shipment,
            "receipt": receipt,
            "form": form,
            "formset": formset,
            "rows": forms.line_rows(lines, formset.forms),
            "closed": closed,
        },
    )
