from django.urls import path

from customers import api

app_name = "customers_api_v1"

urlpatterns = [
    path("consents/", api.ConsentCreateView.as_view(), name="consent-create"),
    path("customers/<str:external_id>/consents/", api.CustomerConsentsView.as_view(), name="consent-list"),
]
