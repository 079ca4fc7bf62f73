"""Every write to working groups, meetings, action items, assessments and needs.

Pages and the API call these; nothing else writes. Each service checks permission (coordinators and
administrators), validates, and saves in one transaction with its history. Errors come back as
ValidationError keyed by field (`assessed_on`) or by line (`needs-2-quantity`, `actions-0-due_on`:
the position in the list given), so a form or the API can show them in place.
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aidtrack.history import EditConflict
from aidtrack.models import Location, Organisation
from shipments.models import CargoType

from .access import require_change
from .models import ActionItem, Assessment, Meeting, Membership, Need, Sector, WorkingGroup

NON_FIELD = "__all__"
MAX_PEOPLE = 2_147_483_647  # the largest number the people_affected column holds
Errors = dict[str, list[str]]


# The lines changed outside their parent's form, and the field naming the parent (see EditConflict).
LINE_MODELS = {Meeting: [(ActionItem, "meeting")], Assessment: [(Need, "assessment")]}


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingGroupInput:
    name: str
    code: str
    lead_organisation: Organisation
    established_on: datetime.date
    mandate: str = ""
    sector: str = ""
    area: Location | None = None
    closed_on: datetime.date | None = None


@dataclass(frozen=True)
class MembershipInput:
    organisation: Organisation
    from_on: datetime.date
    person: str = ""
    position: str = ""
    role: str = Membership.Role.MEMBER
    to_on: datetime.date | None = None


@dataclass(frozen=True)
class ActionItemInput:
    description: str
    owner: Organisation
    due_on: datetime.date | None = None
    id: int | None = None  # an existing item of the meeting (updates); None for a new one


@dataclass(frozen=True)
class MeetingInput:
    working_group: WorkingGroup
    held_on: datetime.date
    title: str
    kind: str = Meeting.Kind.MEETING
    place: str = ""
    organisations: Sequence[Organisation] = ()
    attendees: str = ""
    minutes: str = ""
    decisions: str = ""
    actions: Sequence[ActionItemInput] = field(default_factory=tuple)


@dataclass(frozen=True)
class NeedInput:
    cargo_type: CargoType
    quantity: Decimal
    priority: str = Need.Priority.MEDIUM
    needed_by: datetime.date | None = None
    status: str = Need.Status.OPEN
    id: int | None = None  # an existing need of the assessment (updates); None for a new one


@dataclass(frozen=True)
class AssessmentInput:
    location: Location
    sector: str
    assessed_on: datetime.date
    condition: str
    severity: int
    facility: str = ""
    working_group: WorkingGroup | None = None
    people_affected: int | None = None
    summary: str = ""
    needs: Sequence[NeedInput] = field(default_factory=tuple)


# --- helpers --------------------------------------------------------------------------------------


def _today() -> datetime.date:
    return timezone.localdate()


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _raise_if(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _save(instance, by, reason: str | None = None) -> None:
    instance._history_user = by
    if reason:
        instance._change_reason = reason
    instance.save()


def _delete(instance, by) -> None:
    instance._history_user = by
    instance.delete()


def _lock_line(model, pk: int, parent: str):
    """Lock a line (an action item, a need) after its parent, in the order the parent's own edit takes
    them (parent, then lines), so a line change and a parent edit at the same moment queue, not deadlock."""
    parent_id = model.objects.values_list(f"{parent}_id", flat=True).get(pk=pk)
    model._meta.get_field(parent).related_model.objects.select_for_update().get(pk=parent_id)
    return model.objects.select_for_update(of=("self",)).select_related(parent).get(pk=pk)


def _touch(parent) -> None:
    """A change to one of `parent`'s lines made outside its form: forms opened before it are stale.

    The version is a counter, not a change anyone made: the line's own history records the change.
    """
    parent = type(parent).objects.select_for_update().get(pk=parent.pk)
    parent.version += 1
    parent.save_without_historical_record(update_fields=["version"])


def _check_version(instance, expected_version: int | None) -> None:
    if expected_version is not None and instance.version != expected_version:
        raise EditConflict(instance, LINE_MODELS.get(type(instance), ()))


def _trimmed(data, *names: str):
    """`data` with the text fields `names` stripped of surrounding spaces."""
    return replace(data, **{name: getattr(data, name).strip() for name in names})


def _set(instance, data, names: Sequence[str]) -> bool:
    """Copy `names` from `data` onto `instance`; whether anything changed."""
    changed = False
    for name in names:
        value = getattr(data, name)
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


# --- working groups and memberships ---------------------------------------------------------------


def _validate_group(data: WorkingGroupInput, errors: Errors, group_id: int | None = None) -> None:
    if not data.name.strip():
        _add(errors, "name", _("Give the group a name."))
    if not data.code.strip():
        _add(errors, "code", _("Give the group a short code."))
    elif WorkingGroup.objects.filter(code=data.code.strip()).exclude(pk=group_id).exists():
        _add(errors, "code", _("A working group with this code exists already."))
    if data.sector and data.sector not in Sector.values:
        _add(errors, "sector", _("Choose a sector from the list."))
    if data.lead_organisation is None:
        _add(errors, "lead_organisation", _("Choose the lead organisation."))
    if data.established_on is None:
        _add(errors, "established_on", _("Give the date the group was established."))
    if data.closed_on and data.established_on and data.closed_on < data.established_on:
        _add(errors, "closed_on", _("A group cannot close before it was established."))
    elif group_id is not None:
        # Its meetings must stay within its dates, as meeting_create requires of a new one.
        held = Meeting.objects.filter(working_group_id=group_id).aggregate(first=Min("held_on"), last=Max("held_on"))
        if data.established_on and held["first"] and held["first"] < data.established_on:
            _add(errors, "established_on", _("The group met on %(date)s, before this date.") % {
                "date": date_format(held["first"])})  # fmt: skip
        if data.closed_on and held["last"] and held["last"] > data.closed_on:
            _add(errors, "closed_on", _("The group met on %(date)s, after this date.") % {
                "date": date_format(held["last"])})  # fmt: skip


GROUP_FIELDS = ("name", "code", "mandate", "sector", "area", "lead_organisation", "established_on", "closed_on")


def working_group_create(*, by, data: WorkingGroupInput) -> WorkingGroup:
    require_change(by)
    errors: Errors = {}
    _validate_group(data, errors)
    _raise_if(errors)
    data = _trimmed(data, "name", "code")
    group = WorkingGroup(**{name: getattr(data, name) for name in GROUP_FIELDS})
    try:
        with transaction.atomic():
            _save(group, by, _("Created"))
    except IntegrityError:
        if WorkingGroup.objects.filter(code=group.code).exists():
            raise ValidationError({"code": [_("A working group with this code exists already.")]}) from None
        raise
    return group


@transaction.atomic
def working_group_update(*, by, group_id: int, data: WorkingGroupInput, expected_version: int | None) -> WorkingGroup:
    """Change a group; with `expected_version` (what the form was opened on), a group changed since is refused."""
    require_change(by)
    group = WorkingGroup.objects.select_for_update().get(pk=group_id)
    _check_version(group, expected_version)
    errors: Errors = {}
    _validate_group(data, errors, group_id)
    _raise_if(errors)
    if _set(group, _trimmed(data, "name", "code"), GROUP_FIELDS):
        group.version += 1
        _save(group, by, _("Edited"))
    return group


def _validate_membership(data: MembershipInput, errors: Errors) -> None:
    if data.organisation is None:
        _add(errors, "organisation", _("Choose the organisation."))
    if data.from_on is None:
        _add(errors, "from_on", _("Give the date the membership starts."))
    if data.role not in Membership.Role.values:
        _add(errors, "role", _("Choose chair, member or observer."))
    if not (data.person.strip() or data.position.strip()):
        _add(errors, "person", _("Name the person or their position."))
    if data.to_on and data.from_on and data.to_on < data.from_on:
        _add(errors, "to_on", _("The end date cannot be before the start date."))


MEMBERSHIP_FIELDS = ("organisation", "person", "position", "role", "from_on", "to_on")


@transaction.atomic
def membership_add(*, by, group_id: int, data: MembershipInput) -> Membership:
    require_change(by)
    group = WorkingGroup.objects.get(pk=group_id)
    errors: Errors = {}
    _validate_membership(data, errors)
    _raise_if(errors)
    data = _trimmed(data, "person", "position")
    membership = Membership(working_group=group, **{name: getattr(data, name) for name in MEMBERSHIP_FIELDS})
    _save(membership, by, _("Joined"))
    return membership


@transaction.atomic
def membership_update(*, by, membership_id: int, data: MembershipInput, expected_version: int | None) -> Membership:
    """Change a membership; with `expected_version`, one changed since the form was opened is refused."""
    require_change(by)
    membership = Membership.objects.select_for_update().get(pk=membership_id)
    _check_version(membership, expected_version)
    errors: Errors = {}
    _validate_membership(data, errors)
    _raise_if(errors)
    if _set(membership, _trimmed(data, "person", "position"), MEMBERSHIP_FIELDS):
        membership.version += 1
        _save(membership, by, _("Edited"))
    return membership


# --- meetings and action items --------------------------------------------------------------------


def _validate_meeting(data: MeetingInput, existing: dict[int, ActionItem], errors: Errors) -> None:
    if not data.title.strip():
        _add(errors, "title", _("Give the meeting a title."))
    if data.kind not in Meeting.Kind.values:
        _add(errors, "kind", _("Choose meeting, field visit or official visit."))
    group = data.working_group
    if group is None:
        _add(errors, "working_group", _("Choose the working group."))
    if data.held_on is None:
        _add(errors, "held_on", _("Give the date of the meeting."))
    elif group and data.held_on < group.established_on:
        _add(errors, "held_on", _("The group was established on %(date)s, after this date.") % {
            "date": date_format(group.established_on)
        })  # fmt: skip
    elif group and group.closed_on and data.held_on > group.closed_on:
        _add(errors, "held_on", _("The group closed on %(date)s, before this date.") % {
            "date": date_format(group.closed_on)
        })  # fmt: skip
    seen: set[int] = set()
    for i, item in enumerate(data.actions):
        key = f"actions-{i}-"
        if item.id is not None and (item.id not in existing or item.id in seen):
            _add(errors, key + "description", _("This action item does not belong to the meeting."))
        seen.add(item.id)
        if not item.description.strip():
            _add(errors, key + "description", _("Say what is to be done."))
        if item.owner is None:
            _add(errors, key + "owner", _("Choose the organisation that owns the action."))
        if item.due_on and data.held_on and item.due_on < data.held_on:
            _add(errors, key + "due_on", _("The due date cannot be before the meeting."))


def _new_action(meeting: Meeting, item: ActionItemInput) -> ActionItem:
    return ActionItem(meeting=meeting, description=item.description.strip(), owner=item.owner, due_on=item.due_on)


MEETING_FIELDS = ("working_group", "held_on", "title", "kind", "place", "attendees", "minutes", "decisions")


@transaction.atomic
def meeting_create(*, by, data: MeetingInput) -> Meeting:
    """Record a meeting with its participants, decisions and the action items it raised."""
    require_change(by)
    errors: Errors = {}
    _validate_meeting(data, {}, errors)
    _raise_if(errors)
    data = _trimmed(data, "title", "place")
    meeting = Meeting(created_by=by, **{name: getattr(data, name) for name in MEETING_FIELDS})
    _save(meeting, by, _("Created"))
    meeting.organisations.set(data.organisations)
    for item in data.actions:
        _save(_new_action(meeting, item), by)
    return meeting


@transaction.atomic
def meeting_update(*, by, meeting_id: int, data: MeetingInput, expected_version: int | None = None) -> Meeting:
    """Change a meeting record; action items not listed are removed, closed ones keep their status.

    With `expected_version` (what the form was opened on), a record changed since is refused.
    """
    require_change(by)
    meeting = Meeting.objects.select_for_update().get(pk=meeting_id)
    _check_version(meeting, expected_version)
    existing = {item.pk: item for item in meeting.actions.all()}
    errors: Errors = {}
    _validate_meeting(data, existing, errors)
    _raise_if(errors)
    data = _trimmed(data, "title", "place")
    _set(meeting, data, MEETING_FIELDS)
    meeting.version += 1
    _save(meeting, by, _("Edited"))
    meeting.organisations.set(data.organisations)
    kept = set()
    for item in data.actions:
        if item.id is None:
            _save(_new_action(meeting, item), by)
            continue
        kept.add(item.id)
        if _set(existing[item.id], _trimmed(item, "description"), ("description", "owner", "due_on")):
            _save(existing[item.id], by)
    for item_id, item in existing.items():
        if item_id not in kept:
            _delete(item, by)
    return meeting


@transaction.atomic
def action_item_close(*, by, item_id: int, status: str = ActionItem.Status.DONE, closed_on=None) -> ActionItem:
    """Mark an open action item done (or dropped), on `closed_on` (today by default)."""
    require_change(by)
    item = _lock_line(ActionItem, item_id, "meeting")
    closed_on = closed_on or _today()
    errors: Errors = {}
    if item.status != ActionItem.Status.OPEN:
        _add(errors, NON_FIELD, _("This action item is closed already."))
    if status not in (ActionItem.Status.DONE, ActionItem.Status.DROPPED):
        _add(errors, "status", _("Mark the item done or dropped."))
    if not item.meeting_held:
        _add(errors, "closed_on", _("The meeting is on %(date)s: its action items can be closed from that day.") % {
            "date": date_format(item.meeting.held_on)})  # fmt: skip
    elif closed_on > _today():
        _add(errors, "closed_on", _("The closing date cannot be in the future."))
    elif closed_on < item.meeting.held_on:
        _add(errors, "closed_on", _("The closing date cannot be before the meeting."))
    _raise_if(errors)
    item.status, item.closed_on = status, closed_on
    _save(item, by, _("Done") if status == ActionItem.Status.DONE else _("Dropped"))
    _touch(item.meeting)
    return item


@transaction.atomic
def action_item_reopen(*, by, item_id: int) -> ActionItem:
    require_change(by)
    item = _lock_line(ActionItem, item_id, "meeting")
    if item.status != ActionItem.Status.OPEN:
        item.status, item.closed_on = ActionItem.Status.OPEN, None
        _save(item, by, _("Reopened"))
        _touch(item.meeting)
    return item


# --- assessments and needs ------------------------------------------------------------------------


def _validate_assessment(data: AssessmentInput, existing: dict[int, Need], errors: Errors) -> None:
    if data.location is None:
        _add(errors, "location", _("Choose the place assessed."))
    if data.assessed_on is None:
        _add(errors, "assessed_on", _("Give the date of the assessment."))
    if data.sector not in Sector.values:
        _add(errors, "sector", _("Choose a sector from the list."))
    if data.condition not in Assessment.Condition.values:
        _add(errors, "condition", _("Choose a condition from the list."))
    if data.severity is None or not 1 <= data.severity <= 5:
        _add(errors, "severity", _("Severity runs from 1 (minor) to 5 (critical)."))
    if data.people_affected is not None and data.people_affected < 0:
        _add(errors, "people_affected", _("The number of people cannot be negative."))
    elif data.people_affected is not None and data.people_affected > MAX_PEOPLE:
        _add(errors, "people_affected", _("That is more people than the database can hold; check the number."))
    if data.assessed_on and data.assessed_on > _today():
        _add(errors, "assessed_on", _("The assessment date cannot be in the future."))
    seen: set[int] = set()
    for i, need in enumerate(data.needs):
        key = f"needs-{i}-"
        if need.id is not None and (need.id not in existing or need.id in seen):
            _add(errors, key + "cargo_type", _("This need does not belong to the assessment."))
        seen.add(need.id)
        if need.quantity is None or need.quantity <= 0:
            _add(errors, key + "quantity", _("The quantity must be more than 0."))
        if need.priority not in Need.Priority.values:
            _add(errors, key + "priority", _("Choose critical, high, medium or low."))
        if need.status not in Need.Status.values:
            _add(errors, key + "status", _("Choose open or cancelled."))
        if need.needed_by and data.assessed_on and need.needed_by < data.assessed_on:
            _add(errors, key + "needed_by", _("A need cannot be due before it was assessed."))
        if need.cargo_type is None:
            _add(errors, key + "cargo_type", _("Choose what is needed."))
            continue
        kept_type = need.id in existing and existing[need.id].cargo_type_id == need.cargo_type.pk
        if not kept_type and not need.cargo_type.active:
            _add(errors, key + "cargo_type", _("%(name)s is no longer in the catalogue.") % {"name": need.cargo_type})


ASSESSMENT_FIELDS = (
    "location",
    "facility",
    "sector",
    "working_group",
    "assessed_on",
    "condition",
    "severity",
    "people_affected",
    "summary",
)
NEED_FIELDS = ("cargo_type", "quantity", "priority", "needed_by", "status")


def assessment_create(*, by, data: AssessmentInput, submission_key: uuid.UUID | None = None) -> Assessment:
    """Record an assessment with its needs. Posting the same `submission_key` again returns the first."""
    require_change(by)
    if submission_key is not None:
        existing = Assessment.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    errors: Errors = {}
    _validate_assessment(data, {}, errors)
    _raise_if(errors)
    try:
        with transaction.atomic():
            fields = {name: getattr(data, name) for name in ASSESSMENT_FIELDS}
            assessment = Assessment(submission_key=submission_key, created_by=by, **fields)
            assessment.facility = data.facility.strip()
            _save(assessment, by, _("Created"))
            for need in data.needs:
                _save(Need(assessment=assessment, **{name: getattr(need, name) for name in NEED_FIELDS}), by)
    except IntegrityError:
        # A concurrent post of the same form; any other broken constraint is a bug and is raised.
        existing = Assessment.objects.filter(submission_key=submission_key).first() if submission_key else None
        if existing is None:
            raise
        return existing
    return assessment


@transaction.atomic
def assessment_update(*, by, assessment_id: int, data: AssessmentInput, expected_version: int | None) -> Assessment:
    """Change an assessment and its needs (needs not listed are removed)."""
    require_change(by)
    assessment = Assessment.objects.select_for_update().get(pk=assessment_id)
    _check_version(assessment, expected_version)
    existing = {need.pk: need for need in assessment.needs.all()}
    errors: Errors = {}
    _validate_assessment(data, existing, errors)
    _raise_if(errors)
    _set(assessment, data, ASSESSMENT_FIELDS)
    assessment.facility = data.facility.strip()
    assessment.version += 1
    _save(assessment, by, _("Edited"))
    kept = set()
    for need in data.needs:
        if need.id is None:
            _save(Need(assessment=assessment, **{name: getattr(need, name) for name in NEED_FIELDS}), by)
            continue
        kept.add(need.id)
        if _set(existing[need.id], need, NEED_FIELDS):
            _save(existing[need.id], by)
    for need_id, need in existing.items():
        if need_id not in kept:
            _delete(need, by)
    return assessment


@transaction.atomic
def assessment_delete(*, by, assessment_id: int) -> None:
    require_change(by)
    assessment = Assessment.objects.select_for_update().get(pk=assessment_id)
    for need in assessment.needs.all():
        _delete(need, by)
    _delete(assessment, by)


@transaction.atomic
def need_set_status(*, by, need_id: int, status: str) -> Need:
    """Cancel an open need (it no longer counts towards coverage) or reopen a cancelled one."""
    require_change(by)
    need = _lock_line(Need, need_id, "assessment")
    if status not in Need.Status.values:
        raise ValidationError({"status": [_("Choose open or cancelled.")]})
    if need.status != status:
        need.status = status
        _save(need, by, _("Cancelled") if status == Need.Status.CANCELLED else _("Reopened"))
        _touch(need.assessment)
    return need
