from django.urls import path

from sessions_log.api import views

app_name = "sessions_log_api"

urlpatterns = [
    path("calls/", views.CallsView.as_view(), name="call-create"),
    path("chats/", views.ChatsView.as_view(), name="chat-create"),
    path("interactions/", views.InteractionsView.as_view(), name="interaction-list"),
]
