from django.urls import path

from . import dashboard_views, views

app_name = "needs"
urlpatterns = [
    path("", dashboard_views.needs_dashboard, name="dashboard"),
    path("coordination/", dashboard_views.coordination_dashboard, name="coordination"),
    path("assessments/", views.assessment_list, name="assessment_list"),
    path("assessments/new/", views.assessment_create, name="assessment_create"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment_edit"),
    path("list/", views.need_list, name="need_list"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/members/new/", views.membership_add, name="membership_add"),
    path("groups/<int:pk>/members/<int:membership_pk>/edit/", views.membership_edit, name="membership_edit"),
    path("groups/<int:pk>/meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/actions/<int:pk>/close/", views.action_close, name="action_close"),
    path("meetings/actions/<int:pk>/reopen/", views.action_reopen, name="action_reopen"),
]
