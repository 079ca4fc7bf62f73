"""Who may read and change needs, assessments and working-group records: the one place these rules live.

Coordinators create and change all of it, logistics officers read it, administrators do everything.
Partner agencies (API keys) read needs and coverage only; that rule lives in the API's permission
classes, which ask `can_view_needs`/`can_view_records` for staff.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from aidtrack import roles


def can_view_needs(user) -> bool:
    """Assessments, needs and coverage: every staff role."""
    return roles.is_staff_member(user)


def can_view_records(user) -> bool:
    """Working groups, memberships, meetings (with minutes) and action items: every staff role."""
    return roles.is_staff_member(user)


def can_change_needs(user) -> bool:
    """Create and change assessments, needs, working groups, meetings and action items."""
    return roles.is_administrator(user) or roles.has_role(user, roles.COORDINATOR)


def require_change(user) -> None:
    if not can_change_needs(user):
        raise PermissionDenied(_("Only coordinators and administrators may change needs and working-group records."))
