from django.urls import path

from sessions_log import inbox_views, views

app_name = "sessions_log"

urlpatterns = [
    path("", views.InteractionIndexView.as_view(), name="index"),
    path("<uuid:pk>/", views.InteractionDetailView.as_view(), name="interaction-detail"),
    path("log/<uuid:customer_pk>/<str:channel>/", views.InteractionLogView.as_view(), name="interaction-log"),
    path("<uuid:pk>/attachments/add/", views.AttachmentAddView.as_view(), name="attachment-add"),
    path("attachments/<uuid:pk>/", views.AttachmentDownloadView.as_view(), name="attachment-download"),
    path("attachments/<uuid:pk>/delete/", views.AttachmentDeleteView.as_view(), name="attachment-delete"),
    path("email/<uuid:customer_pk>/", views.EmailComposeView.as_view(), name="email-compose"),
    path("inbox/", inbox_views.UnmatchedListView.as_view(), name="unmatched-list"),
    path("inbox/<uuid:pk>/", inbox_views.UnmatchedDetailView.as_view(), name="unmatched-detail"),
    path("inbox/<uuid:pk>/attach/", inbox_views.UnmatchedAttachView.as_view(), name="unmatched-attach"),
    path("inbox/<uuid:pk>/dismiss/", inbox_views.UnmatchedDismissView.as_view(), name="unmatched-dismiss"),
    path("follow-ups/", views.FollowUpListView.as_view(), name="follow-up-list"),
    path("follow-ups/team/", views.FollowUpTeamView.as_view(), name="follow-up-team"),
    path("follow-ups/<uuid:pk>/done/", views.FollowUpDoneView.as_view(), name="follow-up-done"),
    path("follow-ups/<uuid:pk>/snooze/", views.FollowUpSnoozeView.as_view(), name="follow-up-snooze"),
    path(
        "follow-ups/<uuid:pk>/reschedule/",
        views.FollowUpRescheduleView.as_view(),
        name="follow-up-reschedule",
    ),
    path("follow-ups/<uuid:pk>/cancel/", views.FollowUpCancelView.as_view(), name="follow-up-cancel"),
]
