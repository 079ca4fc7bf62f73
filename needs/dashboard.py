"""What the needs and working-group dashboards show. The figures come from the same selectors as the
API (`needs.coverage`, `needs.summaries`), and the charts fetch them from the API with the same filters
(`api_query`), so the page and the API cannot disagree. Each dashboard costs a fixed number of queries.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from aidtrack.forms import FilterForm
from aidtrack.models import Location

from . import coverage, selectors
from .filters import AssessmentFilter, NeedFilter
from .models import ActionItem, Assessment, Meeting, Need, Sector
from .summaries import SUMMARIES, summarise

COVERAGE_ROWS = 100  # the largest gaps; the CSV export has them all
OVERDUE_ITEMS = 20


class NeedsDashboardForm(FilterForm):
    location = forms.ModelChoiceField(
        label=_("Region or place"),
        queryset=Location.objects.exclude(level=Location.Level.SITE).order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("Everywhere"),
    )
    sector = forms.ChoiceField(
        label=_("Sector"),
        choices=[("", _("All sectors")), *Sector.choices],
        required=False,
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=[("", _("Any priority")), *Need.Priority.choices],
        required=False,
    )

    def filters(self) -> dict[str, str]:
        """The filters by their API parameter names (codes); a bad one is shown on the form and left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        location = data.get("location")
        values = {"location": location.code if location else "", "sector": data.get("sector"),
                  "priority": data.get("priority")}  # fmt: skip
        return {key: value for key, value in values.items() if value}


@dataclass
class NeedsDashboard:
    params: dict[str, str]
    coverage_rows: list[coverage.CoverageRow]
    coverage_total: int
    by_region: list[coverage.Rollup]
    needs_by_sector: list[dict]
    assessments_by_sector: list[dict]
    open_needs: int
    assessments: int
    people_affected: int
    states: dict[str, int]

    def api_query(self, **extra) -> str:
        return urlencode({**extra, **self.params})

    @property
    def api(self) -> dict[str, str]:
        """Query strings of the charts' and exports' API calls."""
        assessment_params = {k: v for k, v in self.params.items() if k != "priority"}
        return {
            "needs_summary": self.api_query(group_by="sector,priority"),
            "coverage": self.api_query(),
            "assessments_summary": urlencode({"group_by": "sector,condition", **assessment_params}),
        }


def needs_dashboard(params: dict[str, str]) -> NeedsDashboard:
    """`params`: location (code), sector, priority, as validated by NeedsDashboardForm."""
    location = Location.objects.filter(code=params["location"]).first() if params.get("location") else None
    query = coverage.CoverageQuery(
        location=location, sector=params.get("sector", ""), priority=params.get("priority", "")
    )
    rows = coverage.coverage_rows(query)
    needs = NeedFilter(params, queryset=SUMMARIES["needs"].base()).qs
    assessment_params = {k: v for k, v in params.items() if k != "priority"}
    assessments = AssessmentFilter(assessment_params, queryset=Assessment.objects.all()).qs
    needs_by_sector = summarise(SUMMARIES["needs"], needs, ("sector", "priority"))
    assessments_by_sector = summarise(SUMMARIES["assessments"], assessments, ("sector", "condition"))
    states = dict.fromkeys(coverage.STATES, 0)
    for row in rows:
        states[row.state] += 1
    return NeedsDashboard(
        params=params,
        coverage_rows=rows[:COVERAGE_ROWS],
        coverage_total=len(rows),
        by_region=coverage.coverage_by_region(rows),
        needs_by_sector=needs_by_sector,
        assessments_by_sector=assessments_by_sector,
        open_needs=sum(r["needs"] for r in needs_by_sector),
        assessments=sum(r["assessments"] for r in assessments_by_sector),
        people_affected=people_affected(assessments),
        states=states,
    )


def people_affected(assessments) -> int:
    """People affected in the assessed places: the largest figure of each place's assessments, added up
    (the same people counted once whatever the number of sectors assessed there)."""
    per_place = assessments.order_by().values("location").annotate(most=Max("people_affected"))
    return sum(row["most"] or 0 for row in per_place)


@dataclass
class CoordinationDashboard:
    meetings_by_month: list[dict]
    items_by_group: list[dict]
    items_by_owner: list[dict]
    overdue: list
    recent_meetings: list

    api = {
        "meetings": "group_by=month,working_group",
        "items_by_group": "group_by=working_group",
        "items_by_owner": "group_by=owner",
    }


def coordination_dashboard() -> CoordinationDashboard:
    items = SUMMARIES["action-items"]
    return CoordinationDashboard(
        meetings_by_month=summarise(SUMMARIES["meetings"], Meeting.objects.all(), ("month", "working_group")),
        items_by_group=summarise(items, ActionItem.objects.all(), ("working_group",)),
        items_by_owner=sorted(
            summarise(items, ActionItem.objects.all(), ("owner",)), key=lambda r: (-r["overdue"], -r["open"])
        ),
        overdue=list(selectors.overdue_action_items()[:OVERDUE_ITEMS]),
        recent_meetings=list(selectors.meeting_list()[:5]),
    )
