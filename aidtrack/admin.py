from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from .models import Location, Organisation, OrganisationAPIKey, User, WorkerHeartbeat


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "kind", "country", "parent"]
    list_filter = ["kind", "country"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "alt_names"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = [*BaseUserAdmin.fieldsets, (_("Organisation"), {"fields": ["organisation"]})]
    add_fieldsets = [*BaseUserAdmin.add_fieldsets, (_("Organisation"), {"fields": ["organisation"]})]
    list_display = ["username", "first_name", "last_name", "organisation", "is_active", "is_staff"]
    list_filter = [*BaseUserAdmin.list_filter, "organisation"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "seen_at", "hostname"]
    readonly_fields = ["name", "seen_at", "hostname"]


# Partner keys belong to an organisation; the library's unbound keys would authenticate nothing here.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(OrganisationAPIKey)
class OrganisationAPIKeyAdmin(APIKeyModelAdmin):
    """Saving a new key shows it once (a message); only its hash is stored. Revoking cannot be undone."""

    list_display = ["prefix", "name", "organisation", "created", "expiry_date", "_has_expired", "revoked"]
    list_filter = ["organisation", "revoked", "created"]
    search_fields = ["name", "prefix", "organisation__code", "organisation__name"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["organisation"]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        # A key is issued to one organisation: to give another access, issue it its own key.
        return (*fields, "organisation") if obj is not None else fields
