"""Reads of needs, assessments and working-group records shared by the pages and the API.

Each returns a queryset with what its list shows joined or prefetched, so a list costs the same
number of queries however long it is.
"""

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from aidtrack import history

from .models import ActionItem, Assessment, Meeting, Membership, Need, WorkingGroup


def assessment_list(queryset: QuerySet[Assessment] | None = None) -> QuerySet[Assessment]:
    queryset = Assessment.objects.all() if queryset is None else queryset
    # The counts make Django drop the model's ordering: paging needs it stated.
    return (
        queryset.select_related("location", "working_group")
        .annotate(open_needs=Count("needs", filter=Q(needs__status=Need.Status.OPEN)))
        .order_by("-assessed_on", "-id")
    )


def assessment_needs(assessment: Assessment) -> list[Need]:
    return list(assessment.needs.select_related("cargo_type").order_by("id"))


def need_list(queryset: QuerySet[Need] | None = None) -> QuerySet[Need]:
    queryset = Need.objects.all() if queryset is None else queryset
    return queryset.select_related("assessment__location", "assessment__working_group", "cargo_type").order_by(
        "-assessment__assessed_on", "assessment_id", "id"
    )


def _count(queryset: QuerySet, **outer) -> Subquery:
    """A correlated COUNT(*) of `queryset` rows matching `outer` (field -> OuterRef name)."""
    filtered = queryset.filter(**{field: OuterRef(name) for field, name in outer.items()}).order_by()
    return Coalesce(Subquery(filtered.values(*outer).annotate(n=Count("*")).values("n")[:1]), 0)


def working_group_list(queryset: QuerySet[WorkingGroup] | None = None) -> QuerySet[WorkingGroup]:
    """Groups with their lead, area and counts of members, meetings, open and overdue action items.

    Each count is its own subquery, so a group's row does not multiply members by meetings by items.
    """
    queryset = WorkingGroup.objects.all() if queryset is None else queryset
    open_items = ActionItem.objects.filter(status=ActionItem.Status.OPEN)
    return (
        queryset.select_related("lead_organisation", "area")
        .annotate(
            member_count=_count(Membership.objects.all(), working_group="pk"),
            meeting_count=_count(Meeting.objects.all(), working_group="pk"),
            open_items=_count(open_items, meeting__working_group="pk"),
            overdue_items=_count(open_items.filter(due_on__lt=timezone.localdate()), meeting__working_group="pk"),
        )
        .order_by("name", "id")
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


def open_items_of(meetings: list[Meeting]) -> list[ActionItem]:
    """The open action items of `meetings` (read with meeting_list: no query), overdue first, then by due date."""
    items = [item for meeting in meetings for item in meeting.actions.all() if item.status == ActionItem.Status.OPEN]
    return sorted(items, key=lambda item: (not item.is_overdue, item.due_on is None, item.due_on, item.pk))


def action_items(queryset: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    queryset = ActionItem.objects.all() if queryset is None else queryset
    return queryset.select_related("owner", "meeting__working_group").order_by("due_on", "id")


def open_action_items(queryset: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    return action_items(queryset).filter(status=ActionItem.Status.OPEN)


def overdue_action_items(queryset: QuerySet[ActionItem] | None = None) -> QuerySet[ActionItem]:
    return open_action_items(queryset).filter(due_on__lt=timezone.localdate())


def assessment_history(assessment: Assessment) -> list[dict]:
    """Every recorded change of the assessment and its needs, newest first, with what changed."""
    records = assessment.history.select_related("history_user").order_by("history_date", "history_id")
    need_records = (
        Need.history.filter(assessment_id=assessment.pk)
        .select_related("history_user", "cargo_type")
        .order_by("id", "history_date", "history_id")
    )
    return history.merged(
        history.changes(records, Assessment, lambda r: _("Assessment"), excluded_fields=["version", "created_at"]),
        history.changes(
            need_records,
            Need,
            lambda r: _("Need: %(cargo)s") % {"cargo": r.cargo_type},
            excluded_fields=["assessment"],
        ),
    )
