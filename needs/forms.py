"""Forms parse and display; the rules live in needs.services."""

import uuid

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import DATE_WIDGET, BootstrapMixin
from aidtrack.models import Location, Organisation
from shipments.models import CargoType

from . import services
from .models import ActionItem, Assessment, Meeting, Membership, Need, Sector, WorkingGroup

NEEDS_PREFIX = "needs"
ACTIONS_PREFIX = "actions"


def _initial_from(instance, names, **extra) -> dict:
    """Form initial values from a model instance: plain fields by name, foreign keys by id."""
    initial = {}
    for name in names:
        field = instance._meta.get_field(name)
        initial[name] = getattr(instance, field.attname)
    return {**initial, **extra}


# --- working groups -------------------------------------------------------------------------------


class VersionedForm(forms.Form):
    """An edit form carries, required, the version the record had when the form was opened (the service
    refuses the save if it changed since); a form for a new record has no version."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def keep_version_if(self, instance) -> None:
        if instance is None:
            del self.fields["version"]


class WorkingGroupForm(VersionedForm, BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.SlugField(label=_("Code"), max_length=40, help_text=_("Short, unique: letters, digits, hyphens."))
    sector = forms.ChoiceField(label=_("Sector"), choices=[("", "—"), *Sector.choices], required=False)
    area = forms.ModelChoiceField(label=_("Area"), queryset=Location.objects.all(), required=False)
    lead_organisation = forms.ModelChoiceField(label=_("Lead organisation"), queryset=Organisation.objects.all())
    established_on = forms.DateField(label=_("Established"), widget=DATE_WIDGET, initial=timezone.localdate)
    closed_on = forms.DateField(label=_("Closed"), widget=DATE_WIDGET, required=False)
    mandate = forms.CharField(label=_("Mandate"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, instance: WorkingGroup | None = None, **kwargs):
        if instance is not None:
            kwargs["initial"] = _initial_from(instance, services.GROUP_FIELDS, version=instance.version)
        super().__init__(*args, **kwargs)
        self.keep_version_if(instance)

    def to_input(self) -> services.WorkingGroupInput:
        return services.WorkingGroupInput(**{name: self.cleaned_data[name] for name in services.GROUP_FIELDS})


class MembershipForm(VersionedForm, BootstrapMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.all())
    person = forms.CharField(label=_("Person"), max_length=200, required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER)
    from_on = forms.DateField(label=_("From"), widget=DATE_WIDGET, initial=timezone.localdate)
    to_on = forms.DateField(label=_("To"), widget=DATE_WIDGET, required=False)

    def __init__(self, *args, instance: Membership | None = None, **kwargs):
        if instance is not None:
            kwargs["initial"] = _initial_from(instance, services.MEMBERSHIP_FIELDS, version=instance.version)
        super().__init__(*args, **kwargs)
        self.keep_version_if(instance)

    def to_input(self) -> services.MembershipInput:
        return services.MembershipInput(**{name: self.cleaned_data[name] for name in services.MEMBERSHIP_FIELDS})


# --- meetings and action items --------------------------------------------------------------------


class MeetingForm(VersionedForm, BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    held_on = forms.DateField(label=_("Date"), widget=DATE_WIDGET, initial=timezone.localdate)
    kind = forms.ChoiceField(label=_("Kind"), choices=Meeting.Kind.choices, initial=Meeting.Kind.MEETING)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    organisations = forms.ModelMultipleChoiceField(
        label=_("Participating organisations"),
        queryset=Organisation.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    attendees = forms.CharField(
        label=_("Named attendees"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name or position, and organisation"),
    )
    minutes = forms.CharField(label=_("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    decisions = forms.CharField(
        label=_("Decisions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One decision per line"),
    )

    def __init__(self, *args, instance: Meeting | None = None, **kwargs):
        if instance is not None:
            kwargs["initial"] = _initial_from(
                instance,
                ("title", "held_on", "kind", "place", "attendees", "minutes", "decisions", "version"),
                organisations=[org.pk for org in instance.organisations.all()],
            )
        super().__init__(*args, **kwargs)
        self.fields["organisations"].widget.attrs["class"] = "form-check-input"
        self.keep_version_if(instance)

    def to_input(self, group: WorkingGroup, actions: list[services.ActionItemInput]) -> services.MeetingInput:
        data = self.cleaned_data
        return services.MeetingInput(
            working_group=group,
            held_on=data["held_on"],
            title=data["title"],
            kind=data["kind"],
            place=data["place"],
            organisations=list(data["organisations"]),
            attendees=data["attendees"],
            minutes=data["minutes"],
            decisions=data["decisions"],
            actions=actions,
        )


class ActionItemForm(BootstrapMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(label=_("Action"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(label=_("Owner organisation"), queryset=Organisation.objects.all())
    due_on = forms.DateField(label=_("Due"), widget=DATE_WIDGET, required=False)

    def to_input(self) -> services.ActionItemInput:
        data = self.cleaned_data
        return services.ActionItemInput(
            description=data["description"], owner=data["owner"], due_on=data["due_on"], id=data.get("id")
        )


ActionItemFormSet = formset_factory(ActionItemForm, extra=0, can_delete=True)


def action_initial(meeting: Meeting) -> list[dict]:
    """The meeting's action items; `status` is shown beside a closed item (the meeting form keeps it)."""
    return [
        {
            "id": item.pk,
            "description": item.description,
            "owner": item.owner_id,
            "due_on": item.due_on,
            "status": item.status,
            "status_label": item.get_status_display(),
        }
        for item in meeting.actions.order_by("id")
    ]


# --- assessments and needs ------------------------------------------------------------------------

SEVERITY_CHOICES = [
    (1, _("1 — minor")),
    (2, _("2 — moderate")),
    (3, _("3 — serious")),
    (4, _("4 — severe")),
    (5, _("5 — critical")),
]


class AssessmentForm(VersionedForm, BootstrapMixin, forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.all())
    facility = forms.CharField(
        label=_("Facility"),
        max_length=200,
        required=False,
        help_text=_("A named school, substation, pumping station, bridge…"),
    )
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    working_group = forms.ModelChoiceField(
        label=_("Working group"), queryset=WorkingGroup.objects.all(), required=False
    )
    assessed_on = forms.DateField(label=_("Date"), widget=DATE_WIDGET, initial=timezone.localdate)
    condition = forms.ChoiceField(label=_("Condition"), choices=Assessment.Condition.choices)
    severity = forms.TypedChoiceField(label=_("Severity"), choices=SEVERITY_CHOICES, coerce=int)
    people_affected = forms.IntegerField(
        label=_("People affected"), min_value=0, max_value=services.MAX_PEOPLE, required=False
    )
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance: Assessment | None = None, **kwargs):
        if instance is not None:
            kwargs["initial"] = _initial_from(instance, services.ASSESSMENT_FIELDS, version=instance.version)
        else:
            kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.keep_version_if(instance)
        if instance is not None:
            del self.fields["submission_key"]

    def to_input(self, needs: list[services.NeedInput]) -> services.AssessmentInput:
        data = self.cleaned_data
        return services.AssessmentInput(**{name: data[name] for name in services.ASSESSMENT_FIELDS}, needs=needs)


class NeedLineForm(BootstrapMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    cargo_type = forms.ModelChoiceField(label=_("Cargo type"), queryset=CargoType.objects.all())
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3)
    priority = forms.ChoiceField(label=_("Priority"), choices=Need.Priority.choices, initial=Need.Priority.MEDIUM)
    needed_by = forms.DateField(label=_("Needed by"), widget=DATE_WIDGET, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Need.Status.choices, initial=Need.Status.OPEN)

    def to_input(self) -> services.NeedInput:
        data = self.cleaned_data
        return services.NeedInput(
            cargo_type=data["cargo_type"],
            quantity=data["quantity"],
            priority=data["priority"],
            needed_by=data["needed_by"],
            status=data["status"],
            id=data.get("id"),
        )


NeedLineFormSet = formset_factory(NeedLineForm, extra=0, can_delete=True)


def need_initial(assessment: Assessment) -> list[dict]:
    return [
        {
            "id": need.pk,
            "cargo_type": need.cargo_type_id,
            "quantity": need.quantity,
            "priority": need.priority,
            "needed_by": need.needed_by,
            "status": need.status,
        }
        for need in assessment.needs.order_by("id")
    ]


class CloseActionForm(forms.Form):
    status = forms.ChoiceField(choices=[(ActionItem.Status.DONE, _("Done")), (ActionItem.Status.DROPPED, _("Dropped"))])
