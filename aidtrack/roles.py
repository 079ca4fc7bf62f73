"""Roles are auth groups (created by a data migration); these helpers ask which a user has."""

from django.utils.translation import gettext_lazy as _

LOGISTICS_OFFICER = "logistics_officer"
COORDINATOR = "coordinator"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    LOGISTICS_OFFICER: _("Logistics officer"),
    COORDINATOR: _("Coordinator"),
    ADMINISTRATOR: _("Administrator"),
}


def user_roles(user) -> set[str]:
    """The role names of a user; cached on the user object for the request. Partner API keys have none."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_partner", False):
        return set()
    cached = getattr(user, "_aidtrack_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLE_LABELS).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMINISTRATOR)
        user._aidtrack_roles = cached
    return cached


def is_staff_member(user) -> bool:
    """Ministry staff: a user with any of the roles. Partner clients (API keys) have none."""
    return bool(user_roles(user))


def has_role(user, role: str) -> bool:
    return role in user_roles(user)


def is_administrator(user) -> bool:
    return has_role(user, ADMINISTRATOR)


def role_labels(user) -> list[str]:
    return [str(ROLE_LABELS[r]) for r in ROLE_LABELS if r in user_roles(user)]
