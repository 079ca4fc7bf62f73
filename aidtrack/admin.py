from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Location, Organisation, User, WorkerHeartbeat


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
