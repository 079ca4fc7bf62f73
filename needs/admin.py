"""Needs records in the admin, with their history. Read-only: every write goes through needs.services.

The services check permissions, validate, keep the assessment version and record who changed what;
an admin form would bypass all of that, so the admin is for looking things up and auditing. The
pages under /needs/ are where coordinators and administrators change them.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup


class ReadOnly:
    """No adding, changing or deleting here; viewing follows the role's view permission."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(ReadOnly, SimpleHistoryAdmin):
    pass


class MembershipInline(ReadOnly, admin.TabularInline):
    model = Membership
    fields = ["organisation", "person", "position", "role", "from_on", "to_on"]
    extra = 0
    show_change_link = True


@admin.register(WorkingGroup)
class WorkingGroupAdmin(ReadOnlyHistoryAdmin):
    list_display = ["code", "name", "sector", "lead_organisation", "area", "established_on", "closed_on"]
    list_filter = ["sector"]
    search_fields = ["code", "name"]
    list_select_related = ["lead_organisation", "area"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyHistoryAdmin):
    list_display = ["working_group", "organisation", "person", "position", "role", "from_on", "to_on"]
    list_filter = ["role", "working_group"]
    search_fields = ["person", "position", "organisation__name", "working_group__name"]
    list_select_related = ["working_group", "organisation"]


class ActionItemInline(ReadOnly, admin.TabularInline):
    model = ActionItem
    fields = ["description", "owner", "due_on", "status", "closed_on"]
    extra = 0
    show_change_link = True


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyHistoryAdmin):
    list_display = ["held_on", "title", "working_group", "kind", "place"]
    list_filter = ["kind", "working_group"]
    search_fields = ["title", "place", "attendees", "minutes", "decisions"]
    date_hierarchy = "held_on"
    list_select_related = ["working_group"]
    inlines = [ActionItemInline]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["description", "owner", "meeting", "due_on", "status", "closed_on"]
    list_filter = ["status", "meeting__working_group"]
    search_fields = ["description", "owner__name"]
    list_select_related = ["owner", "meeting"]


class NeedInline(ReadOnly, admin.TabularInline):
    model = Need
    fields = ["cargo_type", "quantity", "priority", "needed_by", "status"]
    extra = 0
    show_change_link = True


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["assessed_on", "location", "facility", "sector", "condition", "severity", "working_group"]
    list_filter = ["sector", "condition", "severity", "working_group"]
    search_fields = ["facility", "summary", "location__name", "location__code"]
    date_hierarchy = "assessed_on"
    list_select_related = ["location", "working_group"]
    inlines = [NeedInline]


@admin.register(Need)
class NeedAdmin(ReadOnlyHistoryAdmin):
    list_display = ["cargo_type", "quantity", "priority", "needed_by", "status", "assessment"]
    list_filter = ["priority", "status", "cargo_type", "assessment__sector"]
    search_fields = ["assessment__location__name", "assessment__facility", "cargo_type__name"]
    list_select_related = ["cargo_type", "assessment__location"]
