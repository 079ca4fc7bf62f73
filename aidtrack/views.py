from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shipments import dashboard
from shipments.dashboard import OverviewFilterForm, OverviewFilters
from shipments.models import Shipment

from .health import check_broker, check_database, last_worker_heartbeat
from .roles import is_staff_member


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_state = check_database()
    broker_ok, broker_state = check_broker()
    body = {
        "status": "ok" if db_ok and broker_ok else "error",
        "database": db_state,
        "broker": broker_state,
        "worker_last_seen": last_worker_heartbeat() if db_ok else None,
    }
    return JsonResponse(body, status=200 if db_ok and broker_ok else 503)


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks to confirm (a link must not log anyone out), POST logs out."""
    if request.method == "POST":
        logout(request)
        return redirect("login")
    return render(request, "registration/logout_confirm.html")


def overview(request: HttpRequest) -> HttpResponse:
    """The response at a glance: delivered tonnage (the same figures as /api/v1/totals/) and charts."""
    if not is_staff_member(request.user):
        # Logged in but given no role yet: nothing to show but whom to ask.
        return render(request, "aidtrack/no_role.html", status=403)
    form = OverviewFilterForm(request.GET or None)
    filters = OverviewFilters()
    if form.is_bound:
        form.is_valid()  # a bad filter is shown on the form and left out; the others apply
        filters = OverviewFilters(**{name: form.cleaned_data.get(name) for name in form.fields})
    data = dashboard.overview(filters)
    mode_labels = {mode: str(label) for mode, label in Shipment.Mode.choices}
    return render(request, "aidtrack/overview.html", {"form": form, "data": data, "mode_labels": mode_labels})
