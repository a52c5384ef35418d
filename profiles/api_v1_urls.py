from django.urls import path

from profiles import api

app_name = "profiles_api_v1"

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="event-create"),
]
