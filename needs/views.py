"""Pages of assessments, needs and working-group records: permission, form, service, redirect after POST.

Who may do what is asked of needs.access: every staff role reads, coordinators and administrators
change (`access.require_change` raises 403 before a change form is even shown).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aidtrack.forms import call_service, kept_line_forms, posted_lines

from . import access, coverage, forms, selectors, services
from .filters import AssessmentFilter, NeedFilter
from .models import ActionItem, Assessment, Meeting, Membership, WorkingGroup

PAGE_SIZE = 50


def _require_view_needs(user) -> None:
    if not access.can_view_needs(user):
        raise PermissionDenied


def _require_view_records(user) -> None:
    if not access.can_view_records(user):
        raise PermissionDenied


def _page(request: HttpRequest, queryset):
    """The requested page of `queryset`, and the query string without `page` (for the page links)."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _line_formset(request: HttpRequest, formset_class, prefix: str, initial=None):
    return formset_class(posted_lines(request, prefix), initial=initial, prefix=prefix)


def _save_with_lines(request: HttpRequest, form, formset, prefix: str, save):
    """Validate the form and its lines and call `save(line inputs)`; what it saved, or None to show the form again.

    The service saves everything or nothing; its errors are put next to the field or line they name.
    """
    if "add_line" in request.POST or not (form.is_valid() & formset.is_valid()):
        return None
    line_forms = kept_line_forms(formset)
    return call_service(lambda: save([line_form.to_input() for line_form in line_forms]), form, line_forms, prefix)


def _save_form(form, save):
    """Validate `form` and call `save()`; what it saved, or None with the service's errors on the form."""
    return call_service(save, form) if form.is_valid() else None


# --- working groups -------------------------------------------------------------------------------


def group_list(request: HttpRequest) -> HttpResponse:
    _require_view_records(request.user)
    page, query = _page(request, selectors.working_group_list())
    return render(
        request,
        "needs/group_list.html",
        {"page": page, "query": query, "can_change": access.can_change_needs(request.user)},
    )


def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view_records(request.user)
    group = get_object_or_404(selectors.working_group_list(WorkingGroup.objects.filter(pk=pk)))
    meetings = list(selectors.meeting_list(group.meetings.all()))
    open_items = selectors.open_items_of(meetings)
    return render(
        request,
        "needs/group_detail.html",
        {
            "group": group,
            "members": selectors.working_group_members(group),
            "meetings": meetings,
            "open_items": open_items,
            "can_change": access.can_change_needs(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    access.require_change(request.user)
    form = forms.WorkingGroupForm(request.POST or None)
    if request.method == "POST":
        group = _save_form(form, lambda: services.working_group_create(by=request.user, data=form.to_input()))
        if group:
            messages.success(request, _("Working group saved."))
            return redirect("needs:group_detail", group.pk)
    return render(request, "needs/group_form.html", {"form": form, "group": None})


@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_change(request.user)
    group = get_object_or_404(WorkingGroup, pk=pk)
    form = forms.WorkingGroupForm(request.POST or None, instance=group)
    if request.method == "POST":
        saved = _save_form(
            form,
            lambda: services.working_group_update(
                by=request.user, group_id=pk, data=form.to_input(), expected_version=form.cleaned_data["version"]
            ),
        )
        if saved:
            messages.success(request, _("Changes saved."))
            return redirect("needs:group_detail", pk)
    return render(request, "needs/group_form.html", {"form": form, "group": group})


@require_http_methods(["GET", "POST"])
def membership_add(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_change(request.user)
    group = get_object_or_404(WorkingGroup, pk=pk)
    form = forms.MembershipForm(request.POST or None)
    if request.method == "POST":
        saved = _save_form(form, lambda: services.membership_add(by=request.user, group_id=pk, data=form.to_input()))
        if saved:
            messages.success(request, _("Member added."))
            return redirect(reverse("needs:group_detail", args=[pk]) + "#members")
    return render(request, "needs/membership_form.html", {"form": form, "group": group, "membership": None})


@require_http_methods(["GET", "POST"])
def membership_edit(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    access.require_change(request.user)
    membership = get_object_or_404(
        Membership.objects.select_related("working_group"), pk=membership_pk, working_group_id=pk
    )
    form = forms.MembershipForm(request.POST or None, instance=membership)
    if request.method == "POST":
        saved = _save_form(
            form,
            lambda: services.membership_update(
                by=request.user,
                membership_id=membership_pk,
                data=form.to_input(),
                expected_version=form.cleaned_data["version"],
            ),
        )
        if saved:
            messages.success(request, _("Changes saved."))
            return redirect(reverse("needs:group_detail", args=[pk]) + "#members")
    context = {"form": form, "group": membership.working_group, "membership": membership}
    return render(request, "needs/membership_form.html", context)


# --- meetings and action items --------------------------------------------------------------------


def _meeting_url(meeting: Meeting) -> str:
    return reverse("needs:group_detail", args=[meeting.working_group_id]) + f"#meeting-{meeting.pk}"


def _meeting_form(request: HttpRequest, group: WorkingGroup, meeting: Meeting | None) -> HttpResponse:
    form = forms.MeetingForm(request.POST or None, instance=meeting)
    initial = forms.action_initial(meeting) if meeting else None
    formset = _line_formset(request, forms.ActionItemFormSet, forms.ACTIONS_PREFIX, initial=initial)
    if request.method == "POST":

        def save(actions):
            data = form.to_input(group, actions)
            if meeting is None:
                return services.meeting_create(by=request.user, data=data)
            version = form.cleaned_data.get("version")
            return services.meeting_update(by=request.user, meeting_id=meeting.pk, data=data, expected_version=version)

        saved = _save_with_lines(request, form, formset, forms.ACTIONS_PREFIX, save)
        if saved:
            messages.success(request, _("Meeting saved."))
            return redirect(_meeting_url(saved))
    return render(
        request, "needs/meeting_form.html", {"form": form, "formset": formset, "group": group, "meeting": meeting}
    )


@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_change(request.user)
    return _meeting_form(request, get_object_or_404(WorkingGroup, pk=pk), None)


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_change(request.user)
    meeting = get_object_or_404(Meeting.objects.select_related("working_group"), pk=pk)
    return _meeting_form(request, meeting.working_group, meeting)


@require_POST
def action_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an open action item done or dropped (today), from the buttons on the group page."""
    access.require_change(request.user)
    item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
    form = forms.CloseActionForm(request.POST)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    try:
        services.action_item_close(by=request.user, item_id=pk, status=status)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if status == ActionItem.Status.DONE:
            messages.success(request, _("Action item marked done."))
        else:
            messages.success(request, _("Action item dropped."))
    return redirect(_meeting_url(item.meeting))


@require_POST
def action_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_change(request.user)
    item = get_object_or_404(ActionItem.objects.select_related("meeting"), pk=pk)
    services.action_item_reopen(by=request.user, item_id=pk)
    messages.success(request, _("Action item reopened."))
    return redirect(_meeting_url(item.meeting))


# --- assessments ----------------------------------------------------------------------------------


def assessment_list(request: HttpRequest) -> HttpResponse:
    _require_view_needs(request.user)
    queryset = selectors.assessment_list()
    filterset = AssessmentFilter(request.GET, queryset=queryset)
    page, query = _page(request, filterset.qs)
    return render(
        request,
        "needs/assessment_list.html",
        {"filterset": filterset, "page": page, "query": query, "can_change": access.can_change_needs(request.user)},
    )


def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_view_needs(request.user)
    assessment = get_object_or_404(Assessment.objects.select_related("location", "working_group", "created_by"), pk=pk)
    needs = selectors.assessment_needs(assessment)
    coverage.attach_coverage(needs, coverage.CoverageQuery(location=assessment.location))
    return render(
        request,
        "needs/assessment_detail.html",
        {
            "assessment": assessment,
            "needs": needs,
            "history": selectors.assessment_history(assessment),
            "can_change": access.can_change_needs(request.user),
        },
    )


def _assessment_form(request: HttpRequest, assessment: Assessment | None) -> HttpResponse:
    form = forms.AssessmentForm(request.POST or None, instance=assessment)
    initial = forms.need_initial(assessment) if assessment else (None if request.method == "POST" else [{}])
    formset = _line_formset(request, forms.NeedLineFormSet, forms.NEEDS_PREFIX, initial=initial)
    if request.method == "POST":

        def save(needs):
            data = form.to_input(needs)
            if assessment is None:
                key = form.cleaned_data.get("submission_key")
                return services.assessment_create(by=request.user, data=data, submission_key=key)
            version = form.cleaned_data.get("version")
            return services.assessment_update(
                by=request.user, assessment_id=assessment.pk, data=data, expected_version=version
            )

        saved = _save_with_lines(request, form, formset, forms.NEEDS_PREFIX, save)
        if saved:
            messages.success(request, _("Assessment saved.") if assessment is None else _("Changes saved."))
            return redirect("needs:assessment_detail", saved.pk)
    return render(request, "needs/assessment_form.html", {"form": form, "formset": formset, "assessment": assessment})


@require_http_methods(["GET", "POST"])
def assessment_create(request: HttpRequest) -> HttpResponse:
    access.require_change(request.user)
    return _assessment_form(request, None)


@require_http_methods(["GET", "POST"])
def assessment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_change(request.user)
    return _assessment_form(request, get_object_or_404(Assessment.objects.select_related("location"), pk=pk))


# --- needs ----------------------------------------------------------------------------------------


def need_list(request: HttpRequest) -> HttpResponse:
    _require_view_needs(request.user)
    filterset = NeedFilter(request.GET, queryset=selectors.need_list())
    page, query = _page(request, filterset.qs)
    where = filterset.form.cleaned_data if filterset.form.is_valid() else {}
    # Only the rows the filter can show: the same place and cargo type (one query either way).
    coverage.attach_coverage(
        page, coverage.CoverageQuery(location=where.get("location"), cargo_type=where.get("cargo_type"))
    )
    return render(
        request,
        "needs/need_list.html",
        {"filterset": filterset, "page": page, "query": query, "can_change": access.can_change_needs(request.user)},
    )
