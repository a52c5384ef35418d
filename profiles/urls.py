from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="index"),
    path("customers/<uuid:customer_pk>/", views.ProfileDetailView.as_view(), name="profile-detail"),
    path("segments/", views.SegmentListView.as_view(), name="segment-list"),
    path("segments/new/", views.SegmentCreateView.as_view(), name="segment-create"),
    path("segments/<uuid:pk>/", views.SegmentDetailView.as_view(), name="segment-detail"),
    path("segments/<uuid:pk>/edit/", views.SegmentUpdateView.as_view(), name="segment-update"),
    path("segments/<uuid:pk>/delete/", views.SegmentDeleteView.as_view(), name="segment-delete"),
    path("segments/<uuid:pk>/export.csv", views.SegmentExportView.as_view(), name="segment-export"),
    path("runs/new/", views.RebuildView.as_view(), name="run-create"),
    path("runs/<uuid:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<uuid:pk>/progress.json", views.RunProgressView.as_view(), name="run-progress"),
    path("events/import/", views.EventImportView.as_view(), name="event-import"),
]
