"""Counts for the needs and working-group dashboards: open needs, assessments, meetings, action items.

Each summary answers "how many, grouped by these fields" with one GROUP BY query, whatever the
number of records. The dashboards render them on the server and their charts fetch the same
summaries from the API (`/api/v1/<summary>/summary/?group_by=...`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ActionItem, Assessment, Meeting, Need, Sector


class SummaryQueryError(ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param, self.message = param, message


@dataclass(frozen=True)
class Group:
    """A field to group by: its ORM expression, and either choice labels or a related name field."""

    expression: object
    choices: dict | None = None  # value -> label, added as "<name>_name"
    name_expression: object | None = None  # a related row's name, added as "<name>_name"
    hxl: str = ""


@dataclass(frozen=True)
class Summary:
    base: Callable[[], QuerySet]
    groups: dict[str, Group]
    values: Callable[[], dict]
    default_group_by: tuple[str, ...]
    value_columns: list[tuple[str, str, str]] = field(default_factory=list)  # (key, header, hxl tag)


def _sectors() -> Group:
    return Group(F("assessment__sector"), choices=dict(Sector.choices), hxl="#sector+code")


SUMMARIES: dict[str, Summary] = {
    "needs": Summary(
        base=lambda: Need.objects.filter(status=Need.Status.OPEN),
        groups={
            "sector": _sectors(),
            "priority": Group(F("priority"), choices=dict(Need.Priority.choices), hxl="#x_priority"),
            "cargo_type": Group(F("cargo_type__code"), name_expression=F("cargo_type__name"), hxl="#item+code"),
            "location": Group(
                F("assessment__location__code"), name_expression=F("assessment__location__name"), hxl="#loc+code"
            ),
        },
        values=lambda: {"needs": Count("id")},
        default_group_by=("sector", "priority"),
        value_columns=[("needs", "Open needs", "#x_needs+num")],
    ),
    "assessments": Summary(
        base=lambda: Assessment.objects.all(),
        groups={
            "sector": Group(F("sector"), choices=dict(Sector.choices), hxl="#sector+code"),
            "condition": Group(F("condition"), choices=dict(Assessment.Condition.choices), hxl="#status+condition"),
            "severity": Group(F("severity"), hxl="#severity+num"),
            "location": Group(F("location__code"), name_expression=F("location__name"), hxl="#loc+code"),
        },
        values=lambda: {"assessments": Count("id"), "people_affected": Sum("people_affected")},
        default_group_by=("sector", "condition"),
        value_columns=[
            ("assessments", "Assessments", "#x_assessments+num"),
            ("people_affected", "People affected", "#affected+num"),
        ],
    ),
    "meetings": Summary(
        base=lambda: Meeting.objects.all(),
        groups={
            "month": Group(TruncMonth("held_on"), hxl="#date+month_start"),
            "working_group": Group(
                F("working_group__code"), name_expression=F("working_group__name"), hxl="#org+code+group"
            ),
            "kind": Group(F("kind"), choices=dict(Meeting.Kind.choices), hxl="#x_kind"),
        },
        values=lambda: {"meetings": Count("id")},
        default_group_by=("month", "working_group"),
        value_columns=[("meetings", "Meetings", "#x_meetings+num")],
    ),
    "action-items": Summary(
        base=lambda: ActionItem.objects.all(),
        groups={
            "working_group": Group(
                F("meeting__working_group__code"),
                name_expression=F("meeting__working_group__name"),
                hxl="#org+code+group",
            ),
            "owner": Group(F("owner__code"), name_expression=F("owner__name"), hxl="#org+code"),
            "status": Group(F("status"), choices=dict(ActionItem.Status.choices), hxl="#status"),
        },
        values=lambda: {
            "items": Count("id"),
            "open": Count("id", filter=Q(status=ActionItem.Status.OPEN)),
            "overdue": Count("id", filter=Q(status=ActionItem.Status.OPEN, due_on__lt=timezone.localdate())),
        },
        default_group_by=("working_group",),
        value_columns=[
            ("items", "Action items", "#x_items+num"),
            ("open", "Open", "#x_items+num+open"),
            ("overdue", "Overdue", "#x_items+num+overdue"),
        ],
    ),
}


def parse_group_by(summary: Summary, raw: str | None) -> tuple[str, ...]:
    names = [g.strip() for g in (raw or "").split(",") if g.strip()] or list(summary.default_group_by)
    unknown = [g for g in names if g not in summary.groups]
    if unknown:
        raise SummaryQueryError(
            "group_by",
            _("Unknown group_by value %(value)s; use a comma list of %(allowed)s.")
            % {"value": ", ".join(unknown), "allowed": ", ".join(summary.groups)},
        )
    return tuple(dict.fromkeys(names))


def summarise(summary: Summary, queryset: QuerySet, group_by: tuple[str, ...]) -> list[dict]:
    """One row per combination of the `group_by` values in `queryset`: the keys, their names, the counts."""
    keys = {name: summary.groups[name].expression for name in group_by}
    names = {
        f"{name}_name": summary.groups[name].name_expression
        for name in group_by
        if summary.groups[name].name_expression is not None
    }
    rows = list(queryset.order_by().values(**{f"_{k}": v for k, v in {**keys, **names}.items()}).annotate(
        **summary.values()))  # fmt: skip
    out = []
    for row in rows:
        item = {}
        for name in group_by:
            value = row[f"_{name}"]
            item[name] = value.isoformat()[:10] if hasattr(value, "isoformat") else value
            group = summary.groups[name]
            if group.choices is not None:
                item[f"{name}_name"] = str(group.choices.get(value, value))
            elif group.name_expression is not None:
                item[f"{name}_name"] = row[f"_{name}_name"]
        for key in summary.values():
            item[key] = row[key] or 0
        out.append(item)
    out.sort(key=lambda r: [str(r[name]) for name in group_by])
    return out


def export_columns(summary: Summary, group_by: tuple[str, ...]) -> list[tuple[str, str, str]]:
    columns = []
    for name in group_by:
        group = summary.groups[name]
        columns.append((name, name.replace("_", " ").capitalize(), group.hxl))
        if group.choices is not None or group.name_expression is not None:
            tag = group.hxl.replace("+code", "") + "+name"
            columns.append((f"{name}_name", f"{name.replace('_', ' ').capitalize()} name", tag))
    return columns + summary.value_columns
