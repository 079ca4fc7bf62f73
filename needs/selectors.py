"""Reads of needs, assessments and working-group records shared by the pages and the API.

Each returns a queryset with what its list shows joined or prefetched, so a list costs the same
number of queries however long it is.
"""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from .models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup


def assessment_list(queryset: QuerySet[Assessment] | None = None) -> QuerySet[Assessment]:
    queryset = Assessment.objects.all() if queryset is None else queryset
    return queryset.select_related("location", "working_group").annotate(
        open_needs=Count("needs", filter=Q(needs__status=Need.Status.OPEN))
    )


def assessment_needs(assessment: Assessment) -> list[Need]:
    return list(assessment.needs.select_related("cargo_type").order_by("id"))


def need_list(queryset: QuerySet[Need] | None = None) -> QuerySet[Need]:
    queryset = Need.objects.all() if queryset is None else queryset
    return queryset.select_related("assessment__location", "assessment__working_group", "cargo_type").order_by(
        "-assessment__assessed_on", "assessment_id", "id"
    )


def working_group_list(queryset: QuerySet[WorkingGroup] | None = None) -> QuerySet[WorkingGroup]:
    """Groups with their lead, area and counts of members, meetings, open and overdue action items."""
    queryset = WorkingGroup.objects.all() if queryset is None else queryset
    today = timezone.localdate()
    open_items = Q(meetings__actions__status=ActionItem.Status.OPEN)
    return queryset.select_related("lead_organisation", "area").annotate(
        member_count=Count("memberships", distinct=True),
        meeting_count=Count("meetings", distinct=True),
        open_items=Count("meetings__actions", filter=open_items, distinct=True),
        overdue_items=Count(
            "meetings__actions", filter=open_items & Q(meetings__actions__due_on__lt=today), distinct=True
        ),
    )


def working_group_members(group: WorkingGroup) -> list[Membership]:
    return list(group.memberships.select_related("organisation"))


def meeting_list(queryset: QuerySet[Meeting] | None = None) -> QuerySet[Meeting]:
    """Meetings newest first, with their group, participating organisations and action items."""
    queryset = Meeting.objects.all() if queryset is None else queryset
    return (
        queryset.select_related("working_group")
        .prefetch_related("organisations", Prefetch("actions", ActionItem.objects.select_related("owner")))
        .order_by("-held_on", "-id")
    )


def action_items(queryset: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    queryset = ActionItem.objects.all() if queryset is None else queryset
    return queryset.select_related("owner", "meeting__working_group").order_by("due_on", "id")


def open_action_items(queryset: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    return action_items(queryset).filter(status=ActionItem.Status.OPEN)


def overdue_action_items(queryset: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    return open_action_items(queryset).filter(due_on__lt=timezone.localdate())
