"""Coordination working groups and their records, infrastructure assessments and the needs they list.

Coverage (how far deliveries meet the needs) is never stored: `needs.coverage` computes it from the
open needs and the delivery totals.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from aidtrack.models import Location, Organisation
from shipments.models import CargoType


class Sector(models.TextChoices):
    HOUSING = "housing", _("Housing")
    ENERGY = "energy", _("Energy")
    WATER = "water", _("Water")
    HEATING = "heating", _("Heating")
    TRANSPORT = "transport", _("Transport")
    HEALTH = "health", _("Health")
    EDUCATION = "education", _("Education")
    COMMUNICATIONS = "communications", _("Communications")
    FOOD = "food", _("Food")
    OTHER = "other", _("Other")


class WorkingGroup(models.Model):
    """A coordination body: an assessment working group, a response centre, a sector cluster."""

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    mandate = models.TextField(_("mandate"), blank=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, blank=True)
    area = models.ForeignKey(
        Location, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_organisation = models.ForeignKey(
        Organisation, verbose_name=_("lead organisation"), on_delete=models.PROTECT, related_name="groups_led"
    )
    established_on = models.DateField(_("established"))
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    # Incremented by every service write: an edit form posted against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("established_on")),
                name="workinggroup_closed_after_established",
            ),
            models.CheckConstraint(
                condition=Q(sector="") | Q(sector__in=Sector.values), name="workinggroup_sector_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        MEMBER = "member", _("Member")
        OBSERVER = "observer", _("Observer")

    working_group = models.ForeignKey(
        WorkingGroup, verbose_name=_("working group"), on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    person = models.CharField(_("person"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    from_on = models.DateField(_("from"))
    to_on = models.DateField(_("to"), null=True, blank=True)
    # Incremented by every service write: an edit form posted against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "organisation__name", "person"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_on__isnull=True) | Q(to_on__gte=F("from_on")), name="membership_to_after_from"
            ),
            models.CheckConstraint(condition=Q(role__in=["chair", "member", "observer"]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.person or self.position}"


class Meeting(models.Model):
    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        FIELD_VISIT = "field_visit", _("Field visit")
        OFFICIAL_VISIT = "official_visit", _("Official visit")

    working_group = models.ForeignKey(
        WorkingGroup, verbose_name=_("working group"), on_delete=models.PROTECT, related_name="meetings"
    )
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MEETING)
    title = models.CharField(_("title"), max_length=300)
    organisations = models.ManyToManyField(
        Organisation, verbose_name=_("participating organisations"), blank=True, related_name="meetings"
    )
    attendees = models.TextField(
        _("named attendees"), blank=True, help_text=_("One per line: name or position, and organisation")
    )
    minutes = models.TextField(_("minutes"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True, help_text=_("One decision per line"))
    # Incremented by every service write: an edit form posted against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    history = HistoricalRecords(m2m_fields=[organisations])

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["meeting", "field_visit", "official_visit"]), name="meeting_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.title}"

    @property
    def decision_list(self) -> list[str]:
        return [line.strip() for line in self.decisions.splitlines() if line.strip()]

    @property
    def attendee_list(self) -> list[str]:
        return [line.strip() for line in self.attendees.splitlines() if line.strip()]


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="actions")
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        Organisation, verbose_name=_("owner organisation"), on_delete=models.PROTECT, related_name="action_items"
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | Q(status__in=["done", "dropped"], closed_on__isnull=False),
                name="actionitem_closed_iff_not_open",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return self.description[:80]

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_on is not None and self.due_on < timezone.localdate()

    @property
    def meeting_held(self) -> bool:
        """Whether the meeting that set it has taken place: before that it cannot be closed."""
        return self.meeting.held_on <= timezone.localdate()

    @property
    def can_close(self) -> bool:
        return self.status == self.Status.OPEN and self.meeting_held


class Assessment(models.Model):
    """The state of infrastructure in one place (optionally one facility) for one sector, on a date."""

    class Condition(models.TextChoices):
        OPERATIONAL = "operational", _("Operational")
        PARTIALLY_DAMAGED = "partially_damaged", _("Partially damaged")
        SEVERELY_DAMAGED = "severely_damaged", _("Severely damaged")
        DESTROYED = "destroyed", _("Destroyed")
        UNKNOWN = "unknown", _("Unknown")

    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="assessments"
    )
    facility = models.CharField(
        _("facility"), max_length=200, blank=True, help_text=_("A named school, substation, pumping station, bridge…")
    )
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    working_group = models.ForeignKey(
        WorkingGroup,
        verbose_name=_("working group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    assessed_on = models.DateField(_("date"))
    condition = models.CharField(_("condition"), max_length=20, choices=Condition.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), help_text=_("1 (minor) to 5 (critical)"))
    people_affected = models.PositiveIntegerField(_("people affected"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    # Incremented by every service write: an edit form posted against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    # The hidden key of the "new assessment" form: posting the same form twice creates one assessment.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["submission_key"])

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.CheckConstraint(condition=Q(severity__gte=1, severity__lte=5), name="assessment_severity_1_to_5"),
            models.CheckConstraint(condition=Q(sector__in=Sector.values), name="assessment_sector_valid"),
            models.CheckConstraint(
                condition=Q(
                    condition__in=["operational", "partially_damaged", "severely_damaged", "destroyed", "unknown"]
                ),
                name="assessment_condition_valid",
            ),
        ]
        indexes = [models.Index(fields=["location", "assessed_on"])]

    def __str__(self) -> str:
        what = self.facility or self.get_sector_display()
        return f"{what}, {self.location.name} ({self.assessed_on:%Y-%m-%d})"


class Need(models.Model):
    class Priority(models.TextChoices):
        CRITICAL = "critical", _("Critical")
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CANCELLED = "cancelled", _("Cancelled")

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="needs"
    )
    cargo_type = models.ForeignKey(CargoType, verbose_name=_("cargo type"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, help_text=_("In the cargo type's unit")
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment", "id"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="need_quantity_positive"),
            models.CheckConstraint(
                condition=Q(priority__in=["critical", "high", "medium", "low"]), name="need_priority_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "cancelled"]), name="need_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "cargo_type"])]

    def __str__(self) -> str:
        return f"{self.quantity} {self.cargo_type}"
