"""The needs dashboard (`/needs/`) and the working-group dashboard: read-only pages for every staff role."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import access, dashboard


@require_GET
def needs_dashboard(request: HttpRequest) -> HttpResponse:
    if not access.can_view_needs(request.user):
        raise PermissionDenied
    form = dashboard.NeedsDashboardForm(request.GET or None)
    data = dashboard.needs_dashboard(form.filters())
    return render(request, "needs/dashboard.html", {"form": form, "data": data})


@require_GET
def coordination_dashboard(request: HttpRequest) -> HttpResponse:
    if not access.can_view_records(request.user):
        raise PermissionDenied
    return render(request, "needs/dashboard_groups.html", {"data": dashboard.coordination_dashboard()})
