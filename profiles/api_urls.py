from django.urls import path

from profiles import api

app_name = "profiles_api"

urlpatterns = [
    path("events/", api.events_create, name="event-create"),
]
